import { randomBytes } from 'node:crypto';
import signature from 'cookie-signature';
import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.ts';
import { type StateStore, StoreUnavailableError } from '../../store/types.ts';
import type { Principal } from '../principal.ts';
import { newSecretToken } from '../secret-token.ts';
import type { SessionData } from './session-data.ts';

/** Where a session record lives in the state store; revokeSessions deletes these keys directly. */
export const SESSION_KEY_PREFIX = 'sess:';

/** What establishSession/endSession need, attached to each request by the middleware below. */
export interface SessionContext {
  readonly store: StateStore;
  readonly config: Readonly<Config['session']>;
  readonly cookieName: string;
  readonly cookieOptions: CookieOptions;
  readonly logger: Logger;
  /**
   * Asked after a sign-in's session is stored (establishSession): throws to refuse it (an
   * admin's suspension), and the new session is deleted again. Unset, every sign-in stands.
   */
  readonly admission?: SignInAdmission | undefined;
}

/** See `SessionContext.admission`. */
export type SignInAdmission = (req: Request, principal: Principal) => Promise<void>;

const CONTEXT = Symbol('keywarden.sessionContext');
const STATE = Symbol('keywarden.sessionState');

declare global {
  namespace Express {
    interface Request {
      session: BrowserSession;
      [CONTEXT]?: SessionContext;
    }
  }
}

export function sessionContextOf(req: Request): SessionContext {
  const context = req[CONTEXT];
  if (!context) throw new Error('the session middleware is not installed before this route');
  return context;
}

/** The session cookie name actually used (the __Host- prefix needs Secure, so insecure mode drops it). */
export function effectiveCookieName(config: Config['session']): string {
  return config.insecureDevCookies ? config.cookieName.replace(/^__Host-/, '') : config.cookieName;
}

/** The cookie part of a record, in the shape express-session stored, so records stay readable both ways. */
interface StoredCookie {
  originalMaxAge: number;
  expires: string;
}

/**
 * When a stored session was last renewed (its "last seen": the middleware renews a used
 * session at most every `min(60 s, idleTimeout / 10)`, so this trails the last request by at
 * most that much) and when it expires unless used again. Undefined for a record that is not a
 * session's.
 */
export function storedSessionTimes(raw: string): { renewedAt: number; expiresAt: number } | undefined {
  try {
    const cookie = (JSON.parse(raw) as { cookie?: Partial<StoredCookie> }).cookie;
    const expiresAt = cookie?.expires === undefined ? Number.NaN : new Date(cookie.expires).getTime();
    const lifetime = cookie?.originalMaxAge;
    if (!Number.isFinite(expiresAt) || typeof lifetime !== 'number') return undefined;
    return { renewedAt: expiresAt - lifetime, expiresAt };
  } catch {
    return undefined;
  }
}

/** The session's cookie lifetime: when the record (and the browser's cookie) expire. */
export class SessionCookie {
  originalMaxAge: number;
  expires: Date;

  constructor(maxAgeMs: number, expires = new Date(Date.now() + maxAgeMs)) {
    this.originalMaxAge = maxAgeMs;
    this.expires = expires;
  }

  /** Milliseconds left; setting it moves the expiry to now + value. */
  get maxAge(): number {
    return this.expires.getTime() - Date.now();
  }

  set maxAge(ms: number) {
    this.originalMaxAge = ms;
    this.expires = new Date(Date.now() + ms);
  }

  toJSON(): StoredCookie {
    return { originalMaxAge: this.originalMaxAge, expires: this.expires.toISOString() };
  }
}

/** Per-request bookkeeping, under a symbol so that it is never serialised with the data. */
interface SessionState {
  readonly context: SessionContext;
  id: string | undefined;
  /** The record as read from the store; undefined for a session made by this request. */
  loadedJson: string | undefined;
  /** The JSON last written (or read): an end-of-request save happens only when the data differs. */
  savedJson: string | undefined;
  /** Saved during this request: the response sets (or refreshes) the cookie. */
  cookieDue: boolean;
}

/** Node-style callback, as express-session's API took, so the callers read the same. */
type Done = (error?: unknown) => void;

/**
 * One browser session: the data fields (`auth`, a login transaction…) are own properties
 * serialised to the store; the methods and bookkeeping are not. A request's session is read
 * once, and written back at the end of the request only if its data changed (or its idle
 * lifetime is due for renewal), never re-creating a record deleted meanwhile.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the data fields are typed by the interface below.
export class BrowserSession {
  cookie: SessionCookie;
  [STATE]: SessionState;

  constructor(context: SessionContext, cookie: SessionCookie, id?: string, loadedJson?: string) {
    this.cookie = cookie;
    // A symbol-keyed property: JSON.stringify and Object.keys never see it.
    this[STATE] = { context, id, loadedJson, savedJson: loadedJson, cookieDue: false };
  }

  /** The session id (made when first needed: a request that never stores anything never makes one). */
  get id(): string {
    const state = this[STATE];
    state.id ??= randomBytes(24).toString('base64url');
    return state.id;
  }

  /** Deletes this session's record and starts a new, empty one with a new id (sign-in). */
  regenerate(done: Done): void {
    const state = this[STATE];
    const previous = state.loadedJson !== undefined ? state.id : undefined;
    const forget = previous ? state.context.store.delete(SESSION_KEY_PREFIX + previous) : Promise.resolve(0);
    forget.then(
      () => {
        for (const key of Object.keys(this))
          if (key !== 'cookie') delete (this as Record<string, unknown>)[key];
        this.cookie = new SessionCookie(state.context.config.idleTimeoutMs);
        state.id = undefined;
        state.loadedJson = undefined;
        state.savedJson = undefined;
        done();
      },
      (error: unknown) => done(asUnavailable(error)),
    );
  }

  /** Writes the session now (a session read from the store: only if its record still exists). */
  save(done: Done): void {
    writeSession(this).then(
      () => done(),
      (error: unknown) => done(error),
    );
  }

  /** Deletes the record; the cookie is left for the caller to clear. */
  destroy(done: Done): void {
    const state = this[STATE];
    const id = state.id;
    state.savedJson = JSON.stringify(this);
    state.cookieDue = false;
    if (id === undefined) {
      done();
      return;
    }
    state.context.store.delete(SESSION_KEY_PREFIX + id).then(
      () => done(),
      (error: unknown) => done(asUnavailable(error)),
    );
  }
}

// The data fields (`auth`, a login transaction…) are declared by the modules that keep them
// (see session-data.ts); they are plain optional properties, set and read like any other.
export interface BrowserSession extends SessionData {}

async function writeSession(session: BrowserSession): Promise<void> {
  const state = session[STATE];
  const json = JSON.stringify(session);
  const ttlMs = Math.max(1_000, session.cookie.expires.getTime() - Date.now());
  // A record read from the store is only updated (SET XX): a session revoked while this
  // request ran (a logout in another tab, a back-channel logout) stays revoked.
  const wrote = await state.context.store
    .set(SESSION_KEY_PREFIX + session.id, json, {
      ttlMs,
      ...(state.loadedJson !== undefined ? { onlyIfPresent: true } : {}),
    })
    .catch((error: unknown) => {
      throw asUnavailable(error);
    });
  state.savedJson = json;
  state.cookieDue = wrote;
}

export function asUnavailable(error: unknown): StoreUnavailableError {
  return error instanceof StoreUnavailableError
    ? error
    : new StoreUnavailableError('session store failed', { cause: error });
}

/**
 * The signed session id in a Cookie header, if the signature checks out with the current or a
 * previous secret. The value has express-session's form (`s:<id>.<HMAC-SHA256>`), so sessions
 * survive an upgrade. Verified values are remembered (bounded), so a busy session costs one
 * HMAC, not one per request.
 */
function sessionIdVerifier(secrets: readonly string[]): (cookieValue: string) => string | undefined {
  const verified = new Map<string, string>();
  const MAX = 10_000;
  return (cookieValue) => {
    const known = verified.get(cookieValue);
    if (known !== undefined) return known;
    let raw: string;
    try {
      raw = decodeURIComponent(cookieValue);
    } catch {
      return undefined;
    }
    if (!raw.startsWith('s:')) return undefined;
    for (const secret of secrets) {
      const id = signature.unsign(raw.slice(2), secret);
      if (id !== false) {
        if (verified.size >= MAX) verified.delete(verified.keys().next().value!);
        verified.set(cookieValue, id);
        return id;
      }
    }
    return undefined;
  };
}

/** One cookie's value from a Cookie header, without parsing the others. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let start = 0;
  while (start < header.length) {
    const end = header.indexOf(';', start);
    const pair = end === -1 ? header.slice(start) : header.slice(start, end);
    const equals = pair.indexOf('=');
    if (equals !== -1 && pair.slice(0, equals).trim() === name) return pair.slice(equals + 1).trim();
    if (end === -1) break;
    start = end + 1;
  }
  return undefined;
}

/**
 * Browser sessions with keywarden's rules: an opaque 192-bit id in a signed cookie (`__Host-`,
 * Secure, HttpOnly, SameSite, Path=/, no Domain); the record in the state store under
 * `sess:<id>`; the id rotated at sign-in (establishSession); an idle timeout renewed while the
 * session is used. A store failure is StoreUnavailableError → 503: a request is never served
 * anonymously because its session could not be read.
 *
 * Cost is what the hot path can afford: one store read per request that carries the cookie;
 * no write unless the data changed, or the idle lifetime is due for renewal (at most every
 * `min(60 s, idleTimeout / 10)`, so a session expires between idleTimeout minus that and
 * idleTimeout after its last use).
 */
export function createSessionMiddleware(deps: {
  config: Readonly<Config>;
  store: StateStore;
  logger: Logger;
  admission?: SignInAdmission | undefined;
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
  const signingSecret = secret;
  const verify = sessionIdVerifier([secret, ...sessionConfig.previousSecrets]);
  const cookieName = effectiveCookieName(sessionConfig);
  const cookieOptions: CookieOptions = {
    httpOnly: true,
    secure: !sessionConfig.insecureDevCookies,
    sameSite: sessionConfig.sameSite,
    path: '/',
  };
  const context: SessionContext = {
    store,
    config: sessionConfig,
    cookieName,
    cookieOptions,
    logger,
    admission: deps.admission,
  };
  const idleMs = sessionConfig.idleTimeoutMs;
  const renewAfterMs = Math.min(60_000, idleMs / 10);

  /** The end of the response: write what changed, then (re)set the cookie if the record was written. */
  function finish(req: Request, res: Response): Promise<void> | undefined {
    const session = req.session as BrowserSession | undefined;
    if (!session) return undefined;
    const state = session[STATE];
    const isNew = state.loadedJson === undefined;
    // A new session is stored only once something is put in it.
    if (isNew && state.savedJson === undefined && Object.keys(session).length <= 1) return undefined;
    const json = JSON.stringify(session);
    const write = json === state.savedJson ? undefined : writeSession(session);
    const setCookie = () => {
      if (!state.cookieDue || res.headersSent) return;
      // As express-session: no Secure cookie over a connection that is not (known to be) secure.
      if (cookieOptions.secure && !req.secure) return;
      res.cookie(cookieName, `s:${signature.sign(session.id, signingSecret)}`, {
        ...cookieOptions,
        expires: session.cookie.expires,
      });
    };
    if (!write) {
      setCookie();
      return undefined;
    }
    return write.then(setCookie, (error: unknown) => {
      logger.warn(
        { requestId: req.scope?.requestId, err: { type: (error as Error).name } },
        'session could not be saved at the end of the request',
      );
    });
  }

  return (req, res, next) => {
    req[CONTEXT] = context;
    const end = res.end;
    // Like express-session: the response waits for the session write, so the browser's next
    // request reads what this one stored.
    res.end = function endAfterSessionSaved(this: Response, ...args: unknown[]) {
      res.end = end;
      const saving = finish(req, res);
      if (!saving) return end.apply(this, args as Parameters<Response['end']>);
      saving.then(() => end.apply(this, args as Parameters<Response['end']>));
      return this;
    } as Response['end'];

    const id = cookieValue(req.headers.cookie, cookieName);
    const sessionId = id === undefined ? undefined : verify(id);
    if (sessionId === undefined) {
      req.session = new BrowserSession(context, new SessionCookie(idleMs));
      return next();
    }
    store.get(SESSION_KEY_PREFIX + sessionId).then(
      (raw) => {
        req.session =
          raw === null ? new BrowserSession(context, new SessionCookie(idleMs)) : loaded(sessionId, raw);
        next();
      },
      (error: unknown) => next(asUnavailable(error)),
    );
  };

  function loaded(sessionId: string, raw: string): BrowserSession {
    let data: Record<string, unknown> & { cookie?: Partial<StoredCookie> };
    try {
      data = JSON.parse(raw) as typeof data;
    } catch {
      // A record that does not parse is treated as absent, never as a signed-in session.
      return new BrowserSession(context, new SessionCookie(idleMs));
    }
    const expires = new Date(data.cookie?.expires ?? Date.now() + idleMs);
    const cookie = new SessionCookie(data.cookie?.originalMaxAge ?? idleMs, expires);
    const session = new BrowserSession(context, cookie, sessionId, raw);
    for (const key of Object.keys(data)) {
      if (key !== 'cookie') (session as unknown as Record<string, unknown>)[key] = data[key];
    }
    // The idle renewal: due once the last one is renewAfterMs old, never past the absolute end.
    const now = Date.now();
    const absoluteEnd = session.auth?.absoluteExpiresAt ?? Number.POSITIVE_INFINITY;
    const renewed = Math.min(now + idleMs, absoluteEnd);
    if (renewed - expires.getTime() >= renewAfterMs) session.cookie.maxAge = renewed - now;
    return session;
  }
}
