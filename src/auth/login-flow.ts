import type { Request, Response } from 'express';
import { BadRequestError } from '../http/errors.ts';
import type { AuditLog } from '../observability/audit.ts';
import type { StateStore } from '../store/types.ts';
import type { BrowserBinding } from './browser-binding.ts';
import type { Principal } from './principal.ts';
import { sameSecret, secretDigest } from './secret-token.ts';
import { currentSession, establishSession, type NewSessionRecord } from './session/session.ts';
import { SESSION_KEY_PREFIX } from './session/session-middleware.ts';

/**
 * What every redirect-based sign-in (OIDC, plain OAuth 2.0) does around its protocol: keeping
 * the started sign-in (the transaction) bound to the browser, the callback's first checks, the
 * audit of a failure, and signing the browser in at the end.
 */

/** One started sign-in, keyed by its `state`. */
export interface LoginTransaction {
  provider: string;
  returnTo: string;
  expiresAt: number;
  codeVerifier?: string;
  nonce?: string;
  /**
   * form_post only: what the pre-login session held. Its cookie (SameSite=Lax) does not ride
   * the IdP's cross-site POST, so the callback learns it from here.
   */
  guestIdentityId?: string;
  preLoginSessionId?: string;
}

declare module './session/session-data.ts' {
  interface SessionData {
    /** Pending sign-ins of this browser (OIDC and OAuth 2.0, query response mode), keyed by `state`. */
    pendingLogins?: Record<string, LoginTransaction>;
  }
}

/** A browser rarely has more than a couple of sign-in tabs open; older ones are dropped. */
const MAX_PENDING_LOGINS = 5;

function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((error) => (error ? reject(error) : resolve())));
}

/**
 * Keeps a transaction in the browser's pre-login session (the callback is a top-level GET, which
 * carries the SameSite=Lax session cookie). Saved before the redirect: if the store is down the
 * browser gets a 503, not a dead end at the IdP.
 */
export async function keepInSession(req: Request, state: string, login: LoginTransaction): Promise<void> {
  const now = Date.now();
  const pending = Object.entries(req.session.pendingLogins ?? {})
    .filter(([, other]) => other.expiresAt > now)
    .slice(-(MAX_PENDING_LOGINS - 1));
  pending.push([state, login]);
  req.session.pendingLogins = Object.fromEntries(pending);
  try {
    await saveSession(req);
  } catch (error) {
    delete (req as { session?: unknown }).session;
    throw error;
  }
}

/** The session's transaction for `state`, removed whatever happens next: a replayed callback finds nothing. */
export function takeFromSession(req: Request, state: string | null): LoginTransaction | undefined {
  const pending = req.session?.pendingLogins;
  if (state === null || !pending || !Object.hasOwn(pending, state)) return undefined;
  const login = pending[state];
  delete pending[state];
  req.session.pendingLogins = pending;
  return login;
}

/**
 * Transactions of sign-ins whose answer is a cross-site POST (`response_mode=form_post`): in the
 * shared store under the digest of `state` (any instance may receive the POST), next to the
 * digest of a SameSite=None binding cookie, so only the browser that started the sign-in can
 * complete it.
 */
export class BoundLoginTransactions {
  readonly #store: StateStore;
  readonly #binding: BrowserBinding;
  readonly #ttlMs: number;

  constructor(store: StateStore, binding: BrowserBinding, ttlMs: number) {
    this.#store = store;
    this.#binding = binding;
    this.#ttlMs = ttlMs;
  }

  #key(state: string): string {
    return `login:bound:${secretDigest(state)}`;
  }

  /** Stored before the cookie goes out: a store failure answers 503 without leaving a cookie behind. */
  async keep(req: Request, res: Response, state: string, login: LoginTransaction): Promise<void> {
    const binding = this.#binding.reuseOrMint(req);
    await this.#store.set(this.#key(state), JSON.stringify({ login, binding: binding.digest }), {
      ttlMs: this.#ttlMs,
    });
    this.#binding.set(res, binding);
  }

  /**
   * The transaction for `state`, taken out of the store (one use), if this browser started it.
   * `otherBrowser` says a transaction existed but the POST lacked its binding cookie (login CSRF).
   */
  async take(
    req: Request,
    state: string | null,
  ): Promise<{ login?: LoginTransaction; otherBrowser: boolean }> {
    if (state === null || state.length === 0 || state.length > 512) return { otherBrowser: false };
    const raw = await this.#store.take(this.#key(state));
    if (raw === null) return { otherBrowser: false };
    const saved = JSON.parse(raw) as { login: LoginTransaction; binding: string };
    const presented = this.#binding.presented(req);
    if (presented === undefined || !sameSecret(presented, saved.binding)) return { otherBrowser: true };
    return { login: saved.login, otherBrowser: false };
  }

  clear(res: Response): void {
    this.#binding.clear(res);
  }
}

/** The one answer to every bad callback: nothing tells a prober which check failed. */
export function loginStateError(): BadRequestError {
  return new BadRequestError(
    'The sign-in could not be completed; please start again.',
    'invalid_login_state',
  );
}

/**
 * Why a callback's transaction is unusable (the audit reason), or undefined when it is fine:
 * present, this provider's (the mix-up defence: a response meant for another IdP's transaction is
 * refused), not expired.
 */
export function transactionProblem(
  login: LoginTransaction | undefined,
  state: string | null,
  provider: string,
): string | undefined {
  if (!login) return state ? 'unknown_state' : 'missing_state';
  if (login.provider !== provider) return 'state_for_other_provider';
  if (login.expiresAt <= Date.now()) return 'login_expired';
  return undefined;
}

/** Extracts an IdP's `error` parameter as an audit reason (only a plain code, never free text). */
export function idpErrorReason(error: string): string {
  return `idp_error:${/^[a-z_]{1,64}$/.test(error) ? error : 'invalid_error_code'}`;
}

export function recordLoginFailure(audit: AuditLog, req: Request, provider: string, reason: string): void {
  audit.record('login.failed', {
    outcome: 'failure',
    requestId: req.scope.requestId,
    sourceIp: req.ip,
    provider,
    reason,
  });
}

/** What the pre-login session holds that a form_post callback (without that cookie) must carry over. */
export function preLoginContext(
  req: Request,
): Pick<LoginTransaction, 'guestIdentityId' | 'preLoginSessionId'> {
  const previous = currentSession(req);
  if (!previous) return {};
  return {
    ...(previous.principal.kind === 'guest' && previous.guestIdentityId
      ? { guestIdentityId: previous.guestIdentityId }
      : {}),
    preLoginSessionId: req.session.id,
  };
}

/**
 * Signs the browser in (a new session id; see establishSession), records it and sends the
 * browser to its return path. For a form_post sign-in, the pre-login session the callback could
 * not see is deleted here, as establishSession deletes it in the GET case.
 */
export async function completeSignIn(
  req: Request,
  res: Response,
  deps: { audit: AuditLog; store: StateStore },
  input: {
    principal: Principal;
    provider: string;
    login: LoginTransaction;
    record?: Omit<NewSessionRecord, 'principal' | 'provider'>;
  },
): Promise<void> {
  const { principal, provider, login } = input;
  await establishSession(req, {
    ...input.record,
    principal,
    provider,
    ...(login.guestIdentityId ? { guestIdentityId: login.guestIdentityId } : {}),
  });
  if (login.preLoginSessionId && login.preLoginSessionId !== req.session.id) {
    await deps.store.delete(SESSION_KEY_PREFIX + login.preLoginSessionId);
  }
  deps.audit.record('login.succeeded', {
    outcome: 'success',
    requestId: req.scope.requestId,
    sourceIp: req.ip,
    provider,
    subject: principal.subject,
  });
  res.setHeader('Cache-Control', 'no-store');
  res.redirect(303, login.returnTo);
}
