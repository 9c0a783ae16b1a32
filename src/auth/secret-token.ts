import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The one way keywarden makes and keeps the opaque secrets it hands out (guest and CLI tokens,
 * device codes, SAML browser bindings, the portal's CSRF token): 256 random bits, and only
 * their SHA-256 digest in the shared store, so a store dump yields nothing a client could present.
 */

/** 256 random bits as base64url (43 characters), after `prefix` (which makes a leaked token recognisable). */
export function newSecretToken(prefix = ''): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 of a secret as base64url: what the store keeps in its place. */
export function secretDigest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Constant-time equality of two secrets (or digests), so a comparison leaks nothing through timing. */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * A stable public name for something secret (a session id, a token's digest), to list it and
 * pick it from a list without showing the secret or its store key.
 */
export function publicHandle(secret: string): string {
  return secretDigest(`keywarden-handle:${secret}`).slice(0, 32);
}
