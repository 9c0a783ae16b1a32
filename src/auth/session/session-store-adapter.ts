import { type SessionData, Store } from 'express-session';
import { type StateStore, StoreUnavailableError } from '../../store/types.ts';

/** Where a session record lives in the state store; revokeSessions deletes these keys directly. */
export const SESSION_KEY_PREFIX = 'sess:';

/** Lifetime of a stored record: until the cookie would expire (idle timeout), at least a second. */
export function recordTtlMs(session: SessionData, fallbackMs: number): number {
  const expires = session.cookie?.expires;
  if (!expires) return fallbackMs;
  return Math.max(1_000, new Date(expires).getTime() - Date.now());
}

/**
 * express-session's Store over keywarden's StateStore, for the memory store (the embedded
 * default). Redis deployments use connect-redis instead (see session-middleware.ts); both keep
 * a record under `sess:<id>` in the same key space, so revocation works the same way.
 */
export class StateStoreSessionStore extends Store {
  readonly #store: StateStore;
  readonly #fallbackTtlMs: number;

  constructor(store: StateStore, fallbackTtlMs: number) {
    super();
    this.#store = store;
    this.#fallbackTtlMs = fallbackTtlMs;
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    this.#store.get(SESSION_KEY_PREFIX + sid).then(
      (raw) => {
        if (raw === null) return callback(null, null);
        try {
          callback(null, JSON.parse(raw) as SessionData);
        } catch {
          // A record that does not parse is treated as absent, never as a signed-in session.
          callback(null, null);
        }
      },
      (error: unknown) => callback(asUnavailable(error)),
    );
  }

  override set(sid: string, session: SessionData, callback?: (err?: unknown) => void): void {
    this.#store
      .set(SESSION_KEY_PREFIX + sid, JSON.stringify(session), {
        ttlMs: recordTtlMs(session, this.#fallbackTtlMs),
      })
      .then(
        () => callback?.(),
        (error: unknown) => callback?.(asUnavailable(error)),
      );
  }

  override touch(sid: string, session: SessionData, callback?: (err?: unknown) => void): void {
    // The StateStore has no bare EXPIRE; rewriting the record renews its lifetime just the same.
    // Only if it still exists: a session revoked while this request ran must stay revoked.
    this.#store.get(SESSION_KEY_PREFIX + sid).then(
      (raw) => (raw === null ? callback?.() : this.set(sid, session, callback)),
      (error: unknown) => callback?.(asUnavailable(error)),
    );
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.#store.delete(SESSION_KEY_PREFIX + sid).then(
      () => callback?.(),
      (error: unknown) => callback?.(asUnavailable(error)),
    );
  }
}

export function asUnavailable(error: unknown): StoreUnavailableError {
  return error instanceof StoreUnavailableError
    ? error
    : new StoreUnavailableError('session store failed', { cause: error });
}
