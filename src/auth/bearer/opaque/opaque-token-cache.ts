import type { StateStore } from '../../../store/types.ts';
import type { Principal } from '../../principal.ts';
import { secretDigest } from '../../secret-token.ts';

/**
 * What a provider said about an opaque bearer token, remembered in the shared store.
 *
 * Why the shared store and not a per-process LRU: the providers' limits are per app, shared by
 * every keywarden instance (Facebook's app rate limit, GitHub's per-app quota for token checks),
 * so a token a phone presents to five pods must cost one check, not five; and a refused token
 * replayed across pods is refused from the cache everywhere. The key is the SHA-256 digest of
 * the token — a store dump yields nothing a client could present — and the value is the
 * principal a session record would hold anyway.
 *
 * A valid token is remembered for at most `maxSeconds` and never past its own expiry, so a
 * token revoked at the provider stops working within `maxSeconds`; a refused one for
 * `negativeSeconds`. An outage is never remembered: the next request asks again.
 */
export type CachedVerdict =
  | { readonly valid: true; readonly principal: Principal; readonly expiresAt?: number }
  | { readonly valid: false; readonly description: string };

export class OpaqueTokenCache {
  readonly #store: StateStore;

  constructor(store: StateStore) {
    this.#store = store;
  }

  key(issuer: string, token: string): string {
    return `bearer:opaque:${issuer}:${secretDigest(token)}`;
  }

  async get(key: string): Promise<CachedVerdict | undefined> {
    const raw = await this.#store.get(key);
    if (raw === null) return undefined;
    const verdict = JSON.parse(raw) as CachedVerdict;
    if (verdict.valid && verdict.expiresAt !== undefined && verdict.expiresAt <= Date.now()) return undefined;
    return verdict;
  }

  async set(key: string, verdict: CachedVerdict, ttlMs: number): Promise<void> {
    if (ttlMs < 1) return;
    await this.#store.set(key, JSON.stringify(verdict), { ttlMs: Math.ceil(ttlMs) });
  }
}
