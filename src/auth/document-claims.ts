import type { DocumentClaimsConfig } from '../config/oauth2-schema.ts';
import { readDocument } from './document-path.ts';
import type { Principal } from './principal.ts';

type ClaimValue = string | readonly string[];

/** Longer subjects are refused: no provider's user id comes near, and Cognito caps the identifier. */
const MAX_SUBJECT_LENGTH = 255;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
const CONTROL_CHARACTERS = /[\u0000-\u001F\u007F]/;

/**
 * A provider's user id as the subject of `<provider>:<subject>`. GitHub sends its `id` as a
 * JSON number, most APIs as a string, and one API may send either: `12345` and `"12345"` are the
 * same user and must be the same identity. Only whole numbers that JSON carries exactly (safe
 * integers) count — a larger number has already lost digits and could name another user —
 * and text without control characters.
 */
export function normaliseSubject(value: unknown): string | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined;
  }
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_SUBJECT_LENGTH) return undefined;
  return CONTROL_CHARACTERS.test(value) ? undefined : value;
}

function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

/** The first text value the path reaches (a single-valued claim). */
function firstText(document: unknown, path: string): string | undefined {
  for (const value of readDocument(document, path)) {
    const text = asText(value);
    if (text !== undefined) return text;
  }
  return undefined;
}

/** Every text value the path reaches, lists flattened one level (`groups: [...]` or `orgs[].login`). */
function allTexts(document: unknown, path: string): string[] {
  return readDocument(document, path)
    .flatMap((value) => (Array.isArray(value) ? value : [value]))
    .map(asText)
    .filter((text): text is string => text !== undefined);
}

/** `true`, or the string "true" some providers (Apple) send instead. */
export function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

/**
 * The subject the mapping finds in a document: exactly one value, normalised. Several values
 * (a path fanning out over a list) are ambiguous and give none.
 */
export function subjectOf(document: unknown, path: string): string | undefined {
  const values = readDocument(document, path);
  return values.length === 1 ? normaliseSubject(values[0]) : undefined;
}

/**
 * A provider's user document as the principal every other sign-in produces, keeping only what
 * the mapping names. Undefined when the document has no usable subject: a user without an id
 * cannot be told from another one and is never signed in.
 */
export function principalFromDocument(
  provider: string,
  mapping: DocumentClaimsConfig,
  document: unknown,
): Principal | undefined {
  const subject = subjectOf(document, mapping.subject);
  if (subject === undefined) return undefined;
  const claims: Record<string, ClaimValue> = {};
  const name = firstText(document, mapping.name);
  if (name !== undefined) claims.name = name;
  const email = firstText(document, mapping.email);
  const verified =
    mapping.emailVerified === undefined || readDocument(document, mapping.emailVerified).some(isTrue);
  if (email !== undefined && verified) claims.email = email;
  if (mapping.groups !== undefined) claims.groups = allTexts(document, mapping.groups);
  for (const [claim, path] of Object.entries(mapping.extra)) {
    const values = readDocument(document, path);
    if (values.length === 0) continue;
    // A path that fans out (`orgs[].login`) or reaches a list is a list claim. Nothing found
    // leaves the claim out, so that no role rule (not even notEqual) matches on it.
    const list = values.length > 1 || Array.isArray(values[0]) || /\[/.test(path);
    if (list) claims[claim] = allTexts(document, path);
    else {
      const text = asText(values[0]);
      if (text !== undefined) claims[claim] = text;
    }
  }
  return { provider, subject, kind: 'user', claims };
}
