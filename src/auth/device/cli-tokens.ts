import { UserIndex, type UserRef } from '../../identity/user-index.ts';
import type { StateStore } from '../../store/types.ts';
import type { Principal } from '../principal.ts';
import { newSecretToken, publicHandle, secretDigest } from '../secret-token.ts';

/**
 * The keywarden CLI's token, what a device approval yields: 256 random bits with a `kwcli_`
 * prefix (recognisable to secret scanners, and how the authenticator tells it from a JWT),
 * kept in the store only as a SHA-256 digest, bound to the principal as it was at approval
 * (its claims, so role mapping sees the same groups), with an absolute expiry and no renewal.
 * Each user's tokens are in their user index (src/identity/user-index.ts), so they can be
 * listed ("Your sessions", the admin's lookup) and all revoked at once.
 */
export const CLI_TOKEN_PREFIX = 'kwcli_';
const TOKEN_SHAPE = /^kwcli_[A-Za-z0-9_-]{43}$/;

export interface CliTokenRecord {
  readonly principal: Principal;
  readonly clientId: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** Where the device sign-in was started from, as its approval page showed it. */
  readonly requestedFrom?: string;
  readonly userAgent?: string;
}

/** A live token as its owner and admins see it: a handle (not the token, not its store key) and the record. */
export interface ListedCliToken {
  readonly id: string;
  readonly record: CliTokenRecord;
}

const tokenKey = (tokenDigest: string) => `cli:tok:${tokenDigest}`;
const ownerOf = (principal: Principal): UserRef => ({
  provider: principal.provider,
  subject: principal.subject,
});

function looksLikeCliToken(value: string): boolean {
  return TOKEN_SHAPE.test(value);
}

export class CliTokens {
  readonly #store: StateStore;
  readonly #index: UserIndex;
  readonly #ttlMs: number;

  constructor(store: StateStore, ttlSeconds: number) {
    this.#store = store;
    this.#index = new UserIndex(store);
    this.#ttlMs = ttlSeconds * 1000;
  }

  /**
   * A new token; the caller hands it over once and never logs it. A user past the index's cap
   * loses their oldest token.
   */
  async issue(
    principal: Principal,
    clientId: string,
    origin: { requestedFrom?: string | undefined; userAgent?: string | undefined } = {},
  ): Promise<{ token: string; record: CliTokenRecord }> {
    const token = newSecretToken(CLI_TOKEN_PREFIX);
    const issuedAt = Date.now();
    const record: CliTokenRecord = {
      principal,
      clientId,
      issuedAt,
      expiresAt: issuedAt + this.#ttlMs,
      ...(origin.requestedFrom ? { requestedFrom: origin.requestedFrom } : {}),
      ...(origin.userAgent ? { userAgent: origin.userAgent } : {}),
    };
    const tokenDigest = secretDigest(token);
    await this.#store.set(tokenKey(tokenDigest), JSON.stringify(record), { ttlMs: this.#ttlMs });
    const evicted = await this.#index.add(ownerOf(principal), 'cliTokens', tokenDigest, record.expiresAt);
    if (evicted.length > 0) await this.#store.delete(...evicted.map(tokenKey));
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
    await this.#index.remove(ownerOf(record.principal), 'cliTokens', [tokenDigest]);
    return record;
  }

  /**
   * Whether a user may have live CLI tokens: one read of their index, whose members lapse with
   * their tokens and leave when revoked.
   */
  async hasAny(provider: string, subject: string): Promise<boolean> {
    return (await this.#index.entries({ provider, subject }, 'cliTokens')).length > 0;
  }

  /** A user's live tokens, newest first; index members whose token is gone are pruned. */
  async list(user: UserRef): Promise<ListedCliToken[]> {
    const digests = await this.#index.members(user, 'cliTokens');
    const raws = await Promise.all(digests.map((digest) => this.#store.get(tokenKey(digest))));
    const listed: ListedCliToken[] = [];
    const gone: string[] = [];
    digests.forEach((digest, at) => {
      const raw = raws[at];
      if (raw === null || raw === undefined) gone.push(digest);
      else listed.push({ id: publicHandle(digest), record: JSON.parse(raw) as CliTokenRecord });
    });
    if (gone.length > 0) await this.#index.remove(user, 'cliTokens', gone).catch(() => undefined);
    return listed.sort((a, b) => b.record.issuedAt - a.record.issuedAt);
  }

  /** Revokes one of a user's tokens by its listed id; answers whether it was live. */
  async revokeListed(user: UserRef, id: string): Promise<boolean> {
    const digest = (await this.#index.members(user, 'cliTokens')).find(
      (candidate) => publicHandle(candidate) === id,
    );
    if (digest === undefined) return false;
    const deleted = await this.#store.delete(tokenKey(digest));
    await this.#index.remove(user, 'cliTokens', [digest]);
    return deleted > 0;
  }

  /** Revokes every CLI token of a user (sign-out everywhere, IdP logout); answers how many were live. */
  async revokeAll(provider: string, subject: string): Promise<number> {
    const user = { provider, subject };
    const digests = await this.#index.members(user, 'cliTokens');
    const deleted = digests.length > 0 ? await this.#store.delete(...digests.map(tokenKey)) : 0;
    await this.#index.clear(user, ['cliTokens']);
    return deleted;
  }
}
