import type { StateStore } from '../../store/types.ts';
import type { Principal } from '../principal.ts';
import { newSecretToken, secretDigest } from '../secret-token.ts';

/**
 * The keywarden CLI's token, what a device approval yields: 256 random bits with a `kwcli_`
 * prefix (recognisable to secret scanners, and how the authenticator tells it from a JWT),
 * kept in the store only as a SHA-256 digest, bound to the principal as it was at approval
 * (its claims, so role mapping sees the same groups), with an absolute expiry and no renewal.
 * Each user's tokens are indexed so they can all be revoked at once.
 */
export const CLI_TOKEN_PREFIX = 'kwcli_';
const TOKEN_SHAPE = /^kwcli_[A-Za-z0-9_-]{43}$/;

export interface CliTokenRecord {
  readonly principal: Principal;
  readonly clientId: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

const tokenKey = (tokenDigest: string) => `cli:tok:${tokenDigest}`;
const userIndexKey = (provider: string, subject: string) => `cli:sub:${provider}:${subject}`;

function looksLikeCliToken(value: string): boolean {
  return TOKEN_SHAPE.test(value);
}

export class CliTokens {
  readonly #store: StateStore;
  readonly #ttlMs: number;

  constructor(store: StateStore, ttlSeconds: number) {
    this.#store = store;
    this.#ttlMs = ttlSeconds * 1000;
  }

  /** A new token; the caller hands it over once and never logs it. */
  async issue(principal: Principal, clientId: string): Promise<{ token: string; record: CliTokenRecord }> {
    const token = newSecretToken(CLI_TOKEN_PREFIX);
    const issuedAt = Date.now();
    const record: CliTokenRecord = { principal, clientId, issuedAt, expiresAt: issuedAt + this.#ttlMs };
    const tokenDigest = secretDigest(token);
    await this.#store.set(tokenKey(tokenDigest), JSON.stringify(record), { ttlMs: this.#ttlMs });
    await this.#store.addToSet(
      userIndexKey(principal.provider, principal.subject),
      [tokenDigest],
      this.#ttlMs,
    );
    return { token, record };
  }

  /** The record of a live token, or undefined for an unknown, expired, revoked or malformed one. */
  async resolve(token: string): Promise<CliTokenRecord | undefined> {
    if (!looksLikeCliToken(token)) return undefined;
    const raw = await this.#store.get(tokenKey(secretDigest(token)));
    if (raw === null) return undefined;
    const record = JSON.parse(raw) as CliTokenRecord;
    return record.expiresAt > Date.now() ? record : undefined;
  }

  /** Revokes one token; answers its record when it was live. */
  async revoke(token: string): Promise<CliTokenRecord | undefined> {
    if (!looksLikeCliToken(token)) return undefined;
    const tokenDigest = secretDigest(token);
    const raw = await this.#store.take(tokenKey(tokenDigest));
    if (raw === null) return undefined;
    const record = JSON.parse(raw) as CliTokenRecord;
    await this.#store.removeFromSet(userIndexKey(record.principal.provider, record.principal.subject), [
      tokenDigest,
    ]);
    return record;
  }

  /**
   * Whether a user may have live CLI tokens: one read of their index, which lives as long as
   * their newest token and loses each token revoked. (A token that expired before a newer one
   * still counts until that one expires: the portal then offers a sign-out with nothing to end.)
   */
  async hasAny(provider: string, subject: string): Promise<boolean> {
    return (await this.#store.setMembers(userIndexKey(provider, subject))).length > 0;
  }

  /** Revokes every CLI token of a user (sign-out everywhere, IdP logout); answers how many were live. */
  async revokeAll(provider: string, subject: string): Promise<number> {
    const index = userIndexKey(provider, subject);
    const digests = await this.#store.setMembers(index);
    const deleted = digests.length > 0 ? await this.#store.delete(...digests.map(tokenKey)) : 0;
    await this.#store.delete(index);
    return deleted;
  }
}
