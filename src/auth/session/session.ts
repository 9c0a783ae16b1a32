import type { Request } from 'express';
import type { Authenticator } from '../../http/middleware/authenticate.ts';
import { UserIndex } from '../../identity/user-index.ts';
import type { StateStore } from '../../store/types.ts';
import type { Principal } from '../principal.ts';
import { SESSION_KEY_PREFIX, sessionContextOf } from './session-middleware.ts';

/** IdP data kept on the server only; none of it is ever sent to the browser. */
export interface IdpSessionData {
  /** OIDC: the ID token, kept as `id_token_hint` for RP-initiated logout. */
  idToken?: string;
  refreshToken?: string;
  /** Epoch ms when the IdP access token expires (refresh is attempted after this). */
  accessTokenExpiresAt?: number;
  /** OIDC `sid`, for back-channel logout. */
  sid?: string;
  /** SAML: NameID (+ format) and SessionIndex, for single logout. */
  nameID?: string;
  nameIDFormat?: string;
  sessionIndex?: string;
}

/** The signed-in state of one browser session, stored at `req.session.auth`. */
export interface SessionRecord {
  principal: Principal;
  /** The login provider's name (`guest` for guest sessions). */
  provider: string;
  /** When the user authenticated (epoch ms). */
  authTime: number;
  /** The session ends at this time (epoch ms) however active it is. */
  absoluteExpiresAt: number;
  idp?: IdpSessionData;
  /** A guest identity this browser held before signing in (guest → sign-in upgrade). */
  guestIdentityId?: string;
  /** The Cognito identity id once known. */
  identityId?: string;
  /** Where the sign-in came from, for the user's "Your sessions" page and the admin's lookup. */
  sourceIp?: string;
  userAgent?: string;
}

declare module './session-data.ts' {
  interface SessionData {
    auth?: SessionRecord;
  }
}

export type NewSessionRecord = Omit<SessionRecord, 'absoluteExpiresAt' | 'authTime'> & { authTime?: number };

const INDEX_PREFIX = 'sessidx:';
const sidIndexKey = (provider: string, sid: string) => `${INDEX_PREFIX}sid:${provider}:${sid}`;
/** The user a session is indexed under (the user index's `sessions`). */
const userOf = (record: Pick<SessionRecord, 'provider' | 'principal'>) => ({
  provider: record.provider,
  subject: record.principal.subject,
});
const USER_AGENT_MAX = 200;

function promisify(run: (done: (error?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((error) => (error ? reject(error) : resolve())));
}

/**
 * Forgets the request's session object so that the session middleware neither sets a cookie
 * nor saves a record for this response: after a failure mid-login no half-made session may
 * reach the browser.
 */
function dropSession(req: Request): void {
  delete (req as { session?: unknown }).session;
}

/** The signed-in record of this request's session, if any. */
export function currentSession(req: Request): SessionRecord | undefined {
  return req.session?.auth;
}

/**
 * Signs the browser in: a new session id (the pre-login record is deleted from the store, so
 * a planted id is worthless), the record stored and saved, and the id indexed by OIDC `sid`
 * and in the user's index (src/identity/user-index.ts) so that back-channel logout, SAML SLO,
 * the user's "Your sessions" page and the admin's revocation can find it from any instance. A
 * user past the index's cap loses their oldest session. A guest identity held by the pre-login
 * guest session is carried over. Then the sign-in is put to the admission check (an admin's
 * suspension): asked after the session is stored and indexed, so a revocation landing at the
 * same moment either is seen here or finds this session in the index.
 */
export async function establishSession(req: Request, record: NewSessionRecord): Promise<void> {
  const context = sessionContextOf(req);
  const previous = req.session.auth;
  const carriedGuest =
    record.guestIdentityId ?? (previous?.principal.kind === 'guest' ? previous.guestIdentityId : undefined);
  const userAgent = req.get('user-agent');
  const index = new UserIndex(context.store);
  try {
    await promisify((done) => req.session.regenerate(done));
    const now = Date.now();
    const full: SessionRecord = {
      ...record,
      authTime: record.authTime ?? now,
      absoluteExpiresAt: now + context.config.absoluteTimeoutMs,
      ...(carriedGuest ? { guestIdentityId: carriedGuest } : {}),
      ...(req.scope.sourceIp ? { sourceIp: req.scope.sourceIp } : {}),
      ...(userAgent ? { userAgent: userAgent.slice(0, USER_AGENT_MAX) } : {}),
    };
    req.session.auth = full;
    req.session.cookie.maxAge = Math.min(context.config.idleTimeoutMs, context.config.absoluteTimeoutMs);
    await promisify((done) => req.session.save(done));
    const id = req.session.id;
    const sid = full.idp?.sid;
    const [evicted] = await Promise.all([
      index.add(userOf(full), 'sessions', id, full.absoluteExpiresAt),
      sid
        ? context.store.addToSet(sidIndexKey(full.provider, sid), [id], context.config.absoluteTimeoutMs)
        : undefined,
    ]);
    if (evicted.length > 0) await context.store.delete(...evicted.map((old) => SESSION_KEY_PREFIX + old));
    if (context.admission && full.principal.kind === 'user') {
      try {
        await context.admission(req, full.principal);
      } catch (error) {
        await Promise.all([
          context.store.delete(SESSION_KEY_PREFIX + id),
          index.remove(userOf(full), 'sessions', [id]),
        ]).catch(() => undefined);
        throw error;
      }
    }
  } catch (error) {
    dropSession(req);
    throw error;
  }
}

/** Deletes this request's session record and tells the browser to drop the cookie. */
export async function endSession(req: Request): Promise<void> {
  const context = sessionContextOf(req);
  const record = req.session?.auth;
  const id = req.session?.id;
  if (req.session) {
    await promisify((done) => req.session.destroy(done));
    dropSession(req);
  }
  req.res?.clearCookie(context.cookieName, context.cookieOptions);
  if (record && id) {
    // Index entries are only hints (revocation tolerates ids whose record is gone); best effort.
    const sid = record.idp?.sid;
    await Promise.all([
      new UserIndex(context.store).remove(userOf(record), 'sessions', [id]),
      sid ? context.store.removeFromSet(sidIndexKey(record.provider, sid), [id]) : undefined,
    ]).catch(() => undefined);
  }
}

/**
 * Deletes every session of a provider's `sid` and/or `subject`, whichever instance created
 * it (the indexes and the records live in the shared store). Answers how many records existed.
 */
export async function revokeSessions(
  store: StateStore,
  match: { provider: string; subject?: string; sid?: string },
): Promise<number> {
  const index = new UserIndex(store);
  const user = match.subject !== undefined ? { provider: match.provider, subject: match.subject } : undefined;
  const [bySid, bySubject] = await Promise.all([
    match.sid ? store.setMembers(sidIndexKey(match.provider, match.sid)) : [],
    user ? index.members(user, 'sessions') : [],
  ]);
  const ids = new Set([...bySid, ...bySubject]);
  if (ids.size === 0 && !user && !match.sid) return 0;
  const deleted = ids.size > 0 ? await store.delete(...[...ids].map((id) => SESSION_KEY_PREFIX + id)) : 0;
  if (user) await index.clear(user, ['sessions']);
  if (match.sid) await store.removeFromSet(sidIndexKey(match.provider, match.sid), [...ids]);
  return deleted;
}

/**
 * The cookie-session authenticator (last in app.ts's list: explicit credentials win). A
 * cookie whose record is missing or expired counts as no credential: the request goes on
 * anonymously, and routes that need a user answer 401.
 */
export function sessionAuthenticator(
  options: {
    /** Called when a session is used, to let a provider refresh IdP tokens; false ends the session. */
    keepAlive?: (req: Request, record: SessionRecord) => Promise<boolean>;
  } = {},
): Authenticator {
  return {
    name: 'session',
    present: (req) => req.session?.auth !== undefined,
    async authenticate(req) {
      const record = req.session.auth;
      if (!record) return false;
      const now = Date.now();
      // The idle timeout is the record's lifetime in the store (renewed by the session
      // middleware while the session is used), so an idle session is simply not found; the
      // absolute one is checked here.
      if (record.absoluteExpiresAt <= now) {
        await endSession(req);
        return false;
      }
      if (options.keepAlive && !(await options.keepAlive(req, record))) {
        await endSession(req);
        return false;
      }
      req.scope.principal = record.principal;
      req.scope.authMethod = 'session';
      const identityId =
        record.identityId ?? (record.principal.kind === 'guest' ? record.guestIdentityId : undefined);
      if (identityId) req.scope.identityId = identityId;
      return true;
    },
  };
}
