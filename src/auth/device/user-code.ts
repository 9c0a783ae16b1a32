import { randomInt } from 'node:crypto';

/**
 * User codes (RFC 8628 §6.1): short enough to type from one screen into another, from an
 * alphabet without vowels (no words) and without look-alikes (no 0/O, 1/I/L confusion as
 * there are no digits or vowels at all). 20^8 ≈ 2^34.6 values; guessing is bounded by the
 * approval page's attempt limit and the code's short life, not by length alone.
 */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE_LENGTH = 8;

export function newUserCode(): string {
  let code = '';
  for (let index = 0; index < USER_CODE_LENGTH; index += 1) {
    code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  }
  return code;
}

/** `BCDFGHJK` → `BCDF-GHJK`, how it is shown and typed. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * What the user typed → the canonical code, or undefined when it cannot be one. Case,
 * dashes and spaces are forgiven (§6.1: the server should be lenient about formatting).
 */
export function normalizeUserCode(input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length > 32) return undefined;
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== USER_CODE_LENGTH) return undefined;
  for (const character of code) if (!USER_CODE_ALPHABET.includes(character)) return undefined;
  return code;
}
