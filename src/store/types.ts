/**
 * The narrow interface every piece of shared state goes through: sessions, rate-limit
 * counters, the credential cache, replay caches, guest and identity records, locks.
 * Two implementations: Redis (production, many instances) and memory (one process).
 * Both pass the same contract suite (test/store-contract.test.ts).
 */
export interface SetOptions {
  /** Expire the key after this many milliseconds. */
  ttlMs?: number;
  /** Only set the key when it does not exist yet (SET NX); `set` then answers whether it did. */
  onlyIfAbsent?: boolean;
  /**
   * Only set the key when it exists (SET XX); `set` then answers whether it did. A record
   * deleted meanwhile (a revoked session, say) stays deleted instead of being re-created.
   */
  onlyIfPresent?: boolean;
}

export interface Lock {
  readonly key: string;
  /** Releases the lock if this holder still owns it; answers whether it did. */
  release(): Promise<boolean>;
}

/** One member of a bounded index (see `StateStore.addToIndex`). */
export interface IndexEntry {
  readonly member: string;
  /** When the member lapses (epoch ms): the expiry of the record it points to. */
  readonly expiresAt: number;
}

/** A fixed-window counter after one hit (see `StateStore.hit`). */
export interface WindowCount {
  /** Hits in the current window, this one included. */
  readonly count: number;
  /** Milliseconds until the window ends and the count starts again from zero. */
  readonly resetInMs: number;
}

export interface StateStore {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | null>;
  /** Answers false only when `onlyIfAbsent` (or `onlyIfPresent`) was set and the key existed (or did not). */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  /** Atomically reads and deletes: the one-time use of a nonce, a state or a code. */
  take(key: string): Promise<string | null>;
  /** Deletes the keys; answers how many existed. */
  delete(...keys: string[]): Promise<number>;
  /** Atomically adds `by` and answers the new value; the TTL is set when the key is created. */
  increment(key: string, by: number, ttlMs: number): Promise<number>;
  /** Gives an existing key a new lifetime; answers false (and creates nothing) when it is missing. */
  touch(key: string, ttlMs: number): Promise<boolean>;
  /**
   * Counts one hit in a fixed window of `windowMs` that starts at the window's first hit (rate
   * limits). One atomic step on the shared store, so the count holds across instances.
   */
  hit(key: string, windowMs: number): Promise<WindowCount>;
  /** `hit` for several counters at once (one round trip, one command where the store can). */
  hitAll(counters: ReadonlyArray<{ key: string; windowMs: number }>): Promise<WindowCount[]>;
  /** Remaining lifetime in ms; null when the key is missing or never expires. */
  ttlMs(key: string): Promise<number | null>;
  /** Set members (an index such as subject → session ids); the TTL is refreshed on add. */
  addToSet(key: string, members: readonly string[], ttlMs: number): Promise<void>;
  setMembers(key: string): Promise<string[]>;
  removeFromSet(key: string, members: readonly string[]): Promise<void>;
  /**
   * A bounded index whose members lapse one by one (a user's sessions, tokens, cached
   * credentials): adds `member`, or renews it, to lapse at `expiresAt` (epoch ms) with the record
   * it points to. Lapsed members are dropped first; then, while more than `cap` remain, the ones
   * lapsing soonest are dropped and answered, so the caller can end what they point to. The key
   * lives as long as its longest-lived member. One atomic step on one key, so it holds on Redis
   * Cluster too.
   */
  addToIndex(key: string, member: string, expiresAt: number, cap: number): Promise<string[]>;
  /** The index's members that have not lapsed, soonest-lapsing first. */
  indexEntries(key: string): Promise<IndexEntry[]>;
  removeFromIndex(key: string, members: readonly string[]): Promise<void>;
  /** A mutual-exclusion lock that expires by itself; null when another holder has it. */
  tryLock(key: string, ttlMs: number): Promise<Lock | null>;
  /** Fails when the backing service cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Raised by a store whose backing service is unreachable or too slow; the HTTP layer answers 503. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
