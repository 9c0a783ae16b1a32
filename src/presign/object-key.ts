import { BadRequestError, ForbiddenError } from '../http/errors.ts';
import { identityPrefixOf, type PrefixTemplate, renderPrefix } from './key-prefix.ts';

/**
 * Key confinement. A client names an object by a key *relative to its own prefix*; the
 * server builds the full key. S3 itself never resolves `..`, but the keys end up in file
 * names, URLs, logs and other programs' path joins, so anything that could leave the prefix
 * or read differently to a person or a program is refused before anything is signed:
 *
 *  - the key is checked as given, after each round of percent-decoding (a reader may decode
 *    once, twice...), and after NFKC normalisation (a reader may fold `．` to `.`);
 *  - `.`/`..` segments (also `...`, dots with spaces), empty segments, a leading or trailing
 *    `/`, backslashes, characters whose compatibility form is a dot or slash, slash
 *    look-alikes, control and invisible format characters (bidi overrides, zero-width
 *    joiners), `${` (the POST-policy `${filename}` placeholder), invalid UTF-8 in a
 *    percent-escape, and keys over S3's 1,024 UTF-8 bytes with the prefix;
 *  - a key that begins with any identity's prefix (`users/<identity-id>/...`) names a full key
 *    rather than a relative one: another identity's → 403 `forbidden_prefix`, the caller's
 *    own → 400 (it would silently nest `users/me/users/me/`). Leading slashes are ignored
 *    for this test, so `/users/<other>/x` is also 403.
 */

/** S3's limit on a key: 1,024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;
const MAX_PERCENT_DECODE_ROUNDS = 4;

export type InvalidKeyReason =
  | 'empty'
  | 'too_long'
  | 'not_well_formed'
  | 'control_character'
  | 'format_character'
  | 'backslash'
  | 'lookalike_character'
  | 'template_syntax'
  | 'invalid_percent_encoding'
  | 'leading_slash'
  | 'trailing_slash'
  | 'empty_segment'
  | 'dot_segment'
  | 'blank_segment'
  | 'repeats_own_prefix';

/** 400 `invalid_key`: the key could leave the prefix or confuse a reader; nothing was signed. */
export class InvalidKeyError extends BadRequestError {
  readonly reason: InvalidKeyReason;
  constructor(reason: InvalidKeyReason) {
    super(
      reason === 'repeats_own_prefix'
        ? 'The key must be relative to your prefix; do not repeat the prefix.'
        : 'The key is not allowed.',
      'invalid_key',
      { extensions: { reason } },
    );
    this.reason = reason;
  }
}

/** 403 `forbidden_prefix`: the request names a prefix that is not the caller's. */
export class ForbiddenPrefixError extends ForbiddenError {
  constructor() {
    super('The key is outside your prefix.', 'forbidden_prefix');
  }
}

/** C0, DEL, C1, line and paragraph separators, and Unicode noncharacters. */
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}\uFDD0-\uFDEF\uFFFE\uFFFF]/u;
/** Invisible format characters: bidi embeddings/overrides/isolates, zero-width (non-)joiners, BOM, soft hyphen. */
const FORMAT = /\p{Cf}/u;
/** Slash and backslash look-alikes that NFKC leaves alone (fraction and division slash, set minus, ...). */
const LOOKALIKE_SEPARATORS = /[\u1735\u2044\u2215\u2216\u2571\u2572\u27CB\u27CD\u29F5\u29F8\u29F9]/u;
/** A segment of nothing but dots, dot look-alikes NFKC leaves alone, and spaces reads as `.` or `..`. */
const DOT_SEGMENT = /^[.\u00B7\u0701\u0702\u2027\u2E31\u3002\s]+$/u;
const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes every run of `%XX` escapes as UTF-8; a `%` not followed by two hex digits stays
 * literal (`100%.txt` is a fine name). Invalid UTF-8 (overlong `%C0%AE`, lone bytes) is
 * refused: a lenient reader could turn it into `.` or `/`.
 */
function percentDecode(text: string): string {
  return text.replace(PERCENT_RUN, (run) => {
    const bytes = Uint8Array.from(run.slice(1).split('%'), (hex) => Number.parseInt(hex, 16));
    try {
      return STRICT_UTF8.decode(bytes);
    } catch {
      throw new InvalidKeyError('invalid_percent_encoding');
    }
  });
}

/** The key as given and as each decoding step a reader might apply would show it. */
function readings(key: string): string[] {
  const decoded = [key];
  let current = key;
  for (let round = 0; round < MAX_PERCENT_DECODE_ROUNDS; round++) {
    const next = percentDecode(current);
    if (next === current) break;
    decoded.push(next);
    current = next;
  }
  if (percentDecode(current) !== current) throw new InvalidKeyError('invalid_percent_encoding');
  const all = new Set<string>();
  for (const text of decoded) {
    all.add(text);
    all.add(text.normalize('NFKC'));
  }
  return [...all];
}

/** A character a reader could take for `.`, `/` or `\` (U+2024, U+FF0E, U+FF0F, U+2025 ...). */
function hasLookalike(text: string): boolean {
  if (LOOKALIKE_SEPARATORS.test(text)) return true;
  for (const char of text) {
    if (char === '.' || char === '/' || char === '\\') continue;
    const folded = char.normalize('NFKC');
    if (folded !== char && /[./\\]/.test(folded)) return true;
  }
  return false;
}

function checkReading(text: string): void {
  if (!text.isWellFormed()) throw new InvalidKeyError('not_well_formed');
  if (CONTROL.test(text)) throw new InvalidKeyError('control_character');
  if (FORMAT.test(text)) throw new InvalidKeyError('format_character');
  if (text.includes('\\')) throw new InvalidKeyError('backslash');
  if (hasLookalike(text)) throw new InvalidKeyError('lookalike_character');
  if (text.includes('${')) throw new InvalidKeyError('template_syntax');
  if (text.startsWith('/')) throw new InvalidKeyError('leading_slash');
  if (text.endsWith('/')) throw new InvalidKeyError('trailing_slash');
  for (const segment of text.split('/')) {
    if (segment === '') throw new InvalidKeyError('empty_segment');
    if (segment.trim() === '') throw new InvalidKeyError('blank_segment');
    if (DOT_SEGMENT.test(segment)) throw new InvalidKeyError('dot_segment');
  }
}

export interface ConfinedKey {
  /** The caller's prefix, e.g. `users/us-east-1:…/`. */
  readonly prefix: string;
  /** prefix + relative key: the object key that is signed. */
  readonly fullKey: string;
}

/**
 * Builds the full key for `relativeKey` under the caller's prefix, or throws InvalidKeyError
 * (400) / ForbiddenPrefixError (403). `claimedPrefix`, when a client sends one, must be the
 * caller's own prefix exactly.
 */
export function confineKey(
  relativeKey: string,
  options: { template: PrefixTemplate; identityId: string; claimedPrefix?: string | undefined },
): ConfinedKey {
  const prefix = renderPrefix(options.template, options.identityId);
  if (options.claimedPrefix !== undefined && options.claimedPrefix !== prefix)
    throw new ForbiddenPrefixError();
  if (relativeKey.length === 0) throw new InvalidKeyError('empty');
  // Bound the work before decoding: no valid key has more UTF-16 units than S3 allows bytes.
  if (relativeKey.length > MAX_KEY_BYTES) throw new InvalidKeyError('too_long');
  if (!relativeKey.isWellFormed()) throw new InvalidKeyError('not_well_formed');

  let texts: string[];
  try {
    texts = readings(relativeKey);
  } catch (error) {
    // A key that spells another identity's prefix is refused as such even when badly encoded.
    checkIdentityPrefix([relativeKey, relativeKey.normalize('NFKC')], options);
    throw error;
  }
  checkIdentityPrefix(texts, options);
  for (const text of texts) checkReading(text);

  const fullKey = prefix + relativeKey;
  if (Buffer.byteLength(fullKey, 'utf8') > MAX_KEY_BYTES) throw new InvalidKeyError('too_long');
  return { prefix, fullKey };
}

function checkIdentityPrefix(
  texts: readonly string[],
  options: { template: PrefixTemplate; identityId: string },
) {
  let ownPrefix = false;
  for (const text of texts) {
    const named = identityPrefixOf(options.template, text.replace(/^[/\\]+/, ''));
    if (named === undefined) continue;
    if (named !== options.identityId) throw new ForbiddenPrefixError();
    ownPrefix = true;
  }
  if (ownPrefix) throw new InvalidKeyError('repeats_own_prefix');
}
