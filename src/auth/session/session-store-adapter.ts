import type { Request } from 'express';
import { type Session, type SessionData, Store } from 'express-session';
import { type StateStore, StoreUnavailableError } from '../../store/types.ts';

/** Where a session record lives in the state store; revokeSessions deletes these keys directly. */
export const SESSION_KEY_PREFIX = 'sess:';

/** Lifetime of a stored record: until the cookie would expire (idle timeout), at least a second. */
function recordTtlMs(session: SessionData, fallbackMs: number): number {
  const expires = session.cookie?.expires;
  if (!expires) return fallbackMs;
  return Math.max(1_000, new Date(expires).getTime() - Date.now());
}

/**
 * Sessions read from the store (express-session builds them through `Store#createSession`),
 * as opposed to ones it generated for this request (a first save, or a new id at sign-in).
 * express-session writes a modified session back when the response ends — after an OIDC
 * refresh updated the IdP tokens, say — and by then the record may have been deleted by a
 * logout in another tab, a back-channel logout, a SAML LogoutRequest or a sign-in that rotated
 * the id. Writing a loaded session back must therefore only update a record that still
 * exists, never re-create it.
 */
const loadedSessions = new WeakSet<object>();

/** Remembers that `session` came from the store (call from a Store's createSession override). */
export function markLoaded<T extends object>(session: T): T {
  loadedSessions.add(session);
  return session;
}

/** Whether a session being written came from the store, so the write may only update it. */
export function wasLoaded(session: SessionData): boolean {
  return loadedSessions.has(session);
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

  override createSession(req: Request, data: SessionData): Session & SessionData {
    return markLoaded(super.createSession(req, data));
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
    if (wasLoaded(session)) {
      this.#updateIfPresent(sid, session, callback);
      return;
    }
    this.#write(sid, session, callback);
  }

  override touch(sid: string, session: SessionData, callback?: (err?: unknown) => void): void {
    // The StateStore has no bare EXPIRE; rewriting the record renews its lifetime just the same.
    this.#updateIfPresent(sid, session, callback);
  }

  /**
   * Only if the record still exists: a session revoked while this request ran stays revoked.
   * The StateStore has no set-if-present, so this reads first: with the in-process memory
   * store this adapter serves, a deletion can only slip in between the read and the write
   * within one turn of promise callbacks, not across a request's I/O. Redis deployments use
   * connect-redis with an atomic SET XX instead (session-middleware.ts).
   */
  #updateIfPresent(sid: string, session: SessionData, callback?: (err?: unknown) => void): void {
    this.#store.get(SESSION_KEY_PREFIX + sid).then(
      (raw) => (raw === null ? callback?.() : this.#write(sid, session, callback)),
      (error: unknown) => callback?.(asUnavailable(error)),
    );
  }

  #write(sid: string, session: SessionData, callback?: (err?: unknown) => void): void {
    this.#store
      .set(SESSION_KEY_PREFIX + sid, JSON.stringify(session), {
        ttlMs: recordTtlMs(session, this.#fallbackTtlMs),
      })
      .then(
        () => callback?.(),
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
