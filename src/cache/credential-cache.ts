import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { CacheConfig } from '../config/aws-schema.ts';
import { KeywardenError, ServiceUnavailableError } from '../http/errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { StateStore } from '../store/types.ts';
import type { CacheKeyRing } from './cache-key-ring.ts';

/** Temporary AWS credentials as the SDK's providers shape them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** What one vend produces and the cache keeps. */
export interface CachedCredentials {
  readonly identityId: string;
  readonly credentials: AwsCredentials;
}

/** hit: served from the cache; miss: vended by this request; shared: vended by a concurrent request; stale: served while being refreshed. */
export type CacheOutcome = 'hit' | 'miss' | 'shared' | 'stale';

export interface CacheResult {
  readonly value: CachedCredentials;
  readonly outcome: CacheOutcome;
}

interface SerializedEntry {
  identityId: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: number;
}

export interface CredentialCacheDeps {
  store: StateStore;
  keyRing: CacheKeyRing;
  config: Readonly<CacheConfig>;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
}

const MAX_OPENED = 2_000;

/**
 * The credential cache: encrypted entries in the shared store, expiring `minRemainingSeconds`
 * before the credentials do, so nothing with less left is ever handed out.
 *
 * Single flight, twice over: inside a process one promise per key is shared by every
 * concurrent caller; across instances the vend runs under a store lock and the other
 * instances poll for the entry it writes. N concurrent requests for one key cost one vend.
 */
export class CredentialCache {
  readonly #deps: CredentialCacheDeps;
  readonly #now: () => number;
  readonly #inflight = new Map<string, Promise<CacheResult>>();
  readonly #refreshing = new Set<string>();
  /**
   * The last entries this process opened, with the sealed text they came from. The store stays
   * the source of truth (every lookup reads it); when it answers the same sealed text again,
   * the AES-GCM open and the parse are skipped. Bounded; the oldest is forgotten first.
   */
  readonly #opened = new Map<string, { sealed: string; value: CachedCredentials }>();

  constructor(deps: CredentialCacheDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** Answers the cached credentials for `key`, or runs `vend` once for everyone asking. */
  async get(key: string, vend: () => Promise<CachedCredentials>): Promise<CacheResult> {
    const running = this.#inflight.get(key);
    if (running) {
      const result = await running;
      const outcome = result.outcome === 'miss' ? 'shared' : result.outcome;
      this.#deps.metrics.credentialCache.inc({ result: outcome });
      return { value: result.value, outcome };
    }
    const lookup = this.#lookup(key, vend).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, lookup);
    const result = await lookup;
    this.#deps.metrics.credentialCache.inc({ result: result.outcome });
    return result;
  }

  async #lookup(key: string, vend: () => Promise<CachedCredentials>): Promise<CacheResult> {
    const cached = await this.#read(key);
    if (cached) {
      const remainingMs = cached.credentials.expiration.getTime() - this.#now();
      if (remainingMs > this.#deps.config.refreshAheadSeconds * 1000)
        return { value: cached, outcome: 'hit' };
      this.#refreshInBackground(key, vend);
      return { value: cached, outcome: 'stale' };
    }
    return this.#vendUnderLock(key, vend, { background: false });
  }

  #usable(entry: CachedCredentials | undefined): entry is CachedCredentials {
    return (
      entry !== undefined &&
      entry.credentials.expiration.getTime() - this.#now() >= this.#deps.config.minRemainingSeconds * 1000
    );
  }

  async #read(key: string): Promise<CachedCredentials | undefined> {
    const sealed = await this.#deps.store.get(key);
    if (sealed === null) return undefined;
    const opened = this.#opened.get(key);
    if (opened?.sealed === sealed) return this.#usable(opened.value) ? opened.value : undefined;
    const value = this.#open(key, sealed);
    if (value) {
      if (this.#opened.size >= MAX_OPENED) this.#opened.delete(this.#opened.keys().next().value!);
      this.#opened.set(key, { sealed, value });
    }
    return value && this.#usable(value) ? value : undefined;
  }

  #open(key: string, sealed: string): CachedCredentials | undefined {
    const plaintext = this.#deps.keyRing.decrypt(sealed, key);
    if (plaintext === undefined) {
      // A key that left the ring, or tampering: either way a miss, never an error.
      this.#deps.logger.warn(
        { cacheKey: key },
        'credential cache entry could not be decrypted; vending anew',
      );
      return undefined;
    }
    const entry = JSON.parse(plaintext) as SerializedEntry;
    const value: CachedCredentials = {
      identityId: entry.identityId,
      credentials: {
        accessKeyId: entry.accessKeyId,
        secretAccessKey: entry.secretAccessKey,
        sessionToken: entry.sessionToken,
        expiration: new Date(entry.expiration),
      },
    };
    return value;
  }

  async #write(key: string, value: CachedCredentials): Promise<void> {
    const ttlMs =
      value.credentials.expiration.getTime() - this.#now() - this.#deps.config.minRemainingSeconds * 1000;
    if (ttlMs <= 0) return;
    const entry: SerializedEntry = {
      identityId: value.identityId,
      accessKeyId: value.credentials.accessKeyId,
      secretAccessKey: value.credentials.secretAccessKey,
      sessionToken: value.credentials.sessionToken,
      expiration: value.credentials.expiration.getTime(),
    };
    await this.#deps.store.set(key, this.#deps.keyRing.encrypt(JSON.stringify(entry), key), { ttlMs });
  }

  async #vendUnderLock(
    key: string,
    vend: () => Promise<CachedCredentials>,
    options: { background: boolean },
  ): Promise<CacheResult> {
    const { store, config } = this.#deps;
    const deadline = this.#now() + config.waitTimeoutMs;
    let pollMs = config.pollIntervalMs;
    for (;;) {
      const lock = await store.tryLock(`lock:${key}`, config.lockTtlMs);
      if (lock) {
        try {
          // Another instance may have written the entry between our read and the lock.
          if (!options.background) {
            const written = await this.#read(key);
            if (written) return { value: written, outcome: 'shared' };
          }
          const value = await vend();
          if (!this.#usable(value)) {
            throw new KeywardenError(500, 'credentials_misconfigured', 'vended credentials expire too soon', {
              expose: false,
            });
          }
          await this.#write(key, value);
          return { value, outcome: 'miss' };
        } finally {
          await lock.release().catch(() => false);
        }
      }
      if (options.background) throw new Error('another instance is refreshing');
      if (this.#now() >= deadline) {
        throw new ServiceUnavailableError(
          'Credentials are being issued by another instance; retry shortly.',
          1,
        );
      }
      await sleep(pollMs);
      pollMs = Math.min(pollMs * 2, 250);
      const written = await this.#read(key);
      if (written) return { value: written, outcome: 'shared' };
    }
  }

  /** Replaces an entry close to expiry without making the caller wait; one refresh per key. */
  #refreshInBackground(key: string, vend: () => Promise<CachedCredentials>): void {
    if (this.#refreshing.has(key)) return;
    this.#refreshing.add(key);
    this.#vendUnderLock(key, vend, { background: true })
      .catch((error: unknown) => {
        this.#deps.logger.debug(
          { cacheKey: key, reason: (error as Error).name },
          'credential refresh-ahead skipped or failed; the current entry stays until it is too old',
        );
      })
      .finally(() => this.#refreshing.delete(key));
  }
}
