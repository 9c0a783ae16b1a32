import { RedisStore as ConnectRedisStore } from 'connect-redis';
import type { CookieOptions, Request, RequestHandler } from 'express';
import session, { type Session, type SessionData, type Store } from 'express-session';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.ts';
import { boundedStoreCall } from '../../store/bounded-call.ts';
import { RedisStore } from '../../store/redis/redis-store.ts';
import type { StateStore } from '../../store/types.ts';
import { newSecretToken } from '../secret-token.ts';
import {
  asUnavailable,
  markLoaded,
  SESSION_KEY_PREFIX,
  StateStoreSessionStore,
  wasLoaded,
} from './session-store-adapter.ts';

/** What establishSession/endSession need, attached to each request by the middleware below. */
export interface SessionContext {
  readonly store: StateStore;
  readonly config: Readonly<Config['session']>;
  readonly cookieName: string;
  readonly cookieOptions: CookieOptions;
}

const contexts = new WeakMap<Request, SessionContext>();

export function sessionContextOf(req: Request): SessionContext {
  const context = contexts.get(req);
  if (!context) throw new Error('the session middleware is not installed before this route');
  return context;
}

/** The session cookie name actually used (the __Host- prefix needs Secure, so insecure mode drops it). */
export function effectiveCookieName(config: Config['session']): string {
  return config.insecureDevCookies ? config.cookieName.replace(/^__Host-/, '') : config.cookieName;
}

/** The commands connect-redis issues, each bounded like every other Redis call keywarden makes. */
interface SessionRedisCommands {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: object): Promise<unknown>;
  expire(key: string, seconds: number): Promise<unknown>;
  del(keys: string[]): Promise<number>;
}

/**
 * connect-redis calls the node-redis client directly, outside RedisStore's per-command
 * timeout. This facade gives its commands the same bound and error type, so a slow or down
 * Redis answers 503 quickly instead of hanging a request until the server timeout.
 */
function boundedSessionClient(client: SessionRedisCommands, timeoutMs: number): SessionRedisCommands {
  const bounded = <T>(what: string, work: () => Promise<T>): Promise<T> =>
    boundedStoreCall(work, { what: `session store ${what}`, timeoutMs });
  return {
    get: (key) => bounded('GET', () => client.get(key)),
    set: (key, value, options) => bounded('SET', () => client.set(key, value, options)),
    expire: (key, seconds) => bounded('EXPIRE', () => client.expire(key, seconds)),
    del: (keys) => bounded('DEL', () => client.del(keys)),
  };
}

/**
 * connect-redis, except that a session read from Redis is written back with SET XX: it updates
 * the record if it still exists and never re-creates one revoked while the request ran (see
 * `markLoaded` in session-store-adapter.ts). Touch is EXPIRE, which cannot re-create either.
 */
class RevocationSafeRedisStore extends ConnectRedisStore {
  override createSession(req: Request, data: SessionData): Session & SessionData {
    return markLoaded(super.createSession(req, data));
  }

  override async set(sid: string, sess: SessionData, cb?: (err?: unknown) => void): Promise<void> {
    if (!wasLoaded(sess)) return super.set(sid, sess, cb);
    // connect-redis's own rule (its getTTL is private): until the cookie expires.
    const expires = sess.cookie?.expires;
    const ttlSeconds = expires
      ? Math.ceil((new Date(expires).getTime() - Date.now()) / 1000)
      : typeof this.ttl === 'function'
        ? this.ttl(sess)
        : this.ttl;
    if (ttlSeconds <= 0) return super.set(sid, sess, cb); // which deletes the expired record
    try {
      await this.client.set(this.prefix + sid, this.serializer.stringify(sess), {
        expiration: { type: 'EX', value: ttlSeconds },
        condition: 'XX',
      });
    } catch (error) {
      cb?.(error);
      return;
    }
    cb?.();
  }
}

function createSessionStore(config: Readonly<Config>, store: StateStore): Store {
  if (store instanceof RedisStore) {
    return new RevocationSafeRedisStore({
      client: boundedSessionClient(store.client as SessionRedisCommands, config.store.redis.commandTimeoutMs),
      // Same key as StateStore's `sess:<id>`, so revokeSessions can delete through the StateStore.
      prefix: store.keyPrefix + SESSION_KEY_PREFIX,
      ttl: config.session.idleTimeoutMs / 1000,
    });
  }
  return new StateStoreSessionStore(store, config.session.idleTimeoutMs);
}

/**
 * express-session with keywarden's rules: opaque ≥128-bit id (express-session uses 24 random
 * bytes), `__Host-` cookie, Secure, HttpOnly, SameSite, Path=/, no Domain; the id rotated at
 * sign-in (establishSession); idle timeout renewed on every response (`rolling`). A store
 * failure surfaces as StoreUnavailableError → 503: a request is never served anonymously
 * because its session could not be read.
 */
export function createSessionMiddleware(deps: {
  config: Readonly<Config>;
  store: StateStore;
  logger: Logger;
}): RequestHandler {
  const { config, store, logger } = deps;
  const sessionConfig = config.session;
  let secret = sessionConfig.secret;
  if (!secret) {
    // checkConfig makes this a config error in production.
    secret = newSecretToken();
    logger.warn(
      'session.secret is not set: using a random one for this process, so sessions end at restart and cannot be shared between instances (set KEYWARDEN_SESSION__SECRET)',
    );
  }
  if (sessionConfig.insecureDevCookies) {
    logger.warn(
      'session.insecureDevCookies is on: the session cookie is sent over plain HTTP (local development only)',
    );
  }
  const cookieName = effectiveCookieName(sessionConfig);
  const cookieOptions: CookieOptions = {
    httpOnly: true,
    secure: !sessionConfig.insecureDevCookies,
    sameSite: sessionConfig.sameSite,
    path: '/',
  };
  const context: SessionContext = { store, config: sessionConfig, cookieName, cookieOptions };
  const middleware = session({
    name: cookieName,
    secret: [secret, ...sessionConfig.previousSecrets],
    store: createSessionStore(config, store),
    resave: false,
    // No record and no cookie until something is stored (a login transaction, a signed-in user).
    saveUninitialized: false,
    rolling: true,
    // Records are deleted explicitly (endSession, regenerate); a request whose session could
    // not be loaded must not wait on a second store call on its way out.
    unset: 'keep',
    cookie: { ...cookieOptions, maxAge: sessionConfig.idleTimeoutMs },
  });
  return (req, res, next) => {
    contexts.set(req, context);
    middleware(req, res, (error?: unknown) => {
      if (error) next(asUnavailable(error));
      else next();
    });
  };
}
