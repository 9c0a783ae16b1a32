import { secretDigest } from '../auth/secret-token.ts';
import type { IndexEntry, StateStore } from '../store/types.ts';

/** A signed-in user as keywarden names them: a login provider and its subject. */
export interface UserRef {
  readonly provider: string;
  readonly subject: string;
}

/**
 * What one user's index lists, each kind in its own sorted set with its own cap. A member
 * lapses with the record it points to; past the cap, the members lapsing soonest are dropped,
 * and the caller ends what they point to (the oldest session is signed out, the oldest CLI
 * token revoked), so the index always names everything the user holds.
 */
export const USER_INDEX_CAPS = {
  /** Browser sessions (members: session ids). */
  sessions: 100,
  /** CLI tokens (members: token digests). */
  cliTokens: 50,
  /** Device authorizations approved but not redeemed yet (members: device-code digests). */
  deviceGrants: 20,
  /** Cached credential entries (members: `{"k":cache key,"r":role,"s":scope}`). */
  credentials: 200,
  /** Cognito identity ids this login resolved to. */
  identities: 20,
  /** Guest identities linked to this login. */
  guests: 50,
} as const;

export type UserIndexKind = keyof typeof USER_INDEX_CAPS;

export const USER_INDEX_KINDS = Object.keys(USER_INDEX_CAPS) as UserIndexKind[];

/** `provider:subject`, the developer user identifier keywarden gives Cognito. */
export function userId(user: UserRef): string {
  return `${user.provider}:${user.subject}`;
}

/**
 * The Redis Cluster hash tag of one user's keys (`{<digest>}`), so they all live in one slot.
 * A digest, so no user name appears in a store key.
 */
export function userTag(user: UserRef): string {
  return `{${secretDigest(userId(user))}}`;
}

/**
 * Every user's bounded index of what keywarden holds for them: sessions, CLI tokens, device
 * grants, cached credentials, identity ids and linked guest identities. Kept up to date where
 * those are made and ended (sign-in, sign-out, token issue and revocation, a vend that missed
 * the cache), never on a request that only reads; lapsed members are pruned lazily by the store.
 * Read by revocation (back-channel logout, the admin's revoke), by the user's own "Your
 * sessions" page and by the admin's lookup, from any instance.
 */
export class UserIndex {
  readonly #store: StateStore;

  constructor(store: StateStore) {
    this.#store = store;
  }

  key(user: UserRef, kind: UserIndexKind): string {
    return `uidx:${userTag(user)}:${kind}`;
  }

  /** Adds (or renews) a member; answers the members the cap pushed out, for the caller to end. */
  add(user: UserRef, kind: UserIndexKind, member: string, expiresAt: number): Promise<string[]> {
    return this.#store.addToIndex(this.key(user, kind), member, expiresAt, USER_INDEX_CAPS[kind]);
  }

  entries(user: UserRef, kind: UserIndexKind): Promise<IndexEntry[]> {
    return this.#store.indexEntries(this.key(user, kind));
  }

  async members(user: UserRef, kind: UserIndexKind): Promise<string[]> {
    return (await this.entries(user, kind)).map((entry) => entry.member);
  }

  remove(user: UserRef, kind: UserIndexKind, members: readonly string[]): Promise<void> {
    return this.#store.removeFromIndex(this.key(user, kind), members);
  }

  /** Deletes the user's index of these kinds (all by default). */
  async clear(user: UserRef, kinds: readonly UserIndexKind[] = USER_INDEX_KINDS): Promise<void> {
    await this.#store.delete(...kinds.map((kind) => this.key(user, kind)));
  }
}
