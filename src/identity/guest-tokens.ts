import { newSecretToken, secretDigest } from '../auth/secret-token.ts';
import type { StateStore } from '../store/types.ts';

/**
 * Guest tokens let a non-browser client resume its guest identity: 256 random bits, shown
 * once, kept in the store only as a SHA-256 digest (a store dump gives nobody a usable token).
 * The prefix makes a leaked token recognisable to secret scanners.
 */
export const GUEST_TOKEN_PREFIX = 'kwg_';
const TOKEN_SHAPE = /^kwg_[A-Za-z0-9_-]{43}$/;

function storeKey(token: string): string {
  return `guest:tok:${secretDigest(token)}`;
}

function looksLikeGuestToken(value: string): boolean {
  return TOKEN_SHAPE.test(value);
}

export class GuestTokens {
  readonly #store: StateStore;
  readonly #ttlMs: number;

  constructor(store: StateStore, ttlSeconds: number) {
    this.#store = store;
    this.#ttlMs = ttlSeconds * 1000;
  }

  /** Makes a token for a guest identity; the caller returns it once and never logs it. */
  async issue(identityId: string): Promise<string> {
    const token = newSecretToken(GUEST_TOKEN_PREFIX);
    await this.#store.set(storeKey(token), JSON.stringify({ identityId }), { ttlMs: this.#ttlMs });
    return token;
  }

  /** The identity a token resumes, or undefined for an unknown, expired or malformed token. */
  async resolve(token: string): Promise<string | undefined> {
    if (!looksLikeGuestToken(token)) return undefined;
    const record = await this.#store.get(storeKey(token));
    if (record === null) return undefined;
    const { identityId } = JSON.parse(record) as { identityId?: unknown };
    return typeof identityId === 'string' ? identityId : undefined;
  }

  async revoke(token: string): Promise<void> {
    await this.#store.delete(storeKey(token));
  }

  /**
   * Takes a token out of use atomically (GETDEL) and answers what it resumed, so two requests
   * presenting the same token cannot both upgrade it. `ttlMs` is what it had left, for
   * `reinstate` when the upgrade then fails.
   */
  async consume(token: string): Promise<{ identityId: string; ttlMs: number } | undefined> {
    if (!looksLikeGuestToken(token)) return undefined;
    const key = storeKey(token);
    const ttlMs = (await this.#store.ttlMs(key)) ?? this.#ttlMs;
    const record = await this.#store.take(key);
    if (record === null) return undefined;
    const { identityId } = JSON.parse(record) as { identityId?: unknown };
    return typeof identityId === 'string' ? { identityId, ttlMs } : undefined;
  }

  /** Puts a consumed token back (for its remaining lifetime) after an upgrade that did not happen. */
  async reinstate(token: string, identityId: string, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    await this.#store.set(storeKey(token), JSON.stringify({ identityId }), { ttlMs, onlyIfAbsent: true });
  }
}
