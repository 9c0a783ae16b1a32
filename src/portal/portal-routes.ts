import express, {
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
  type Response,
  Router,
} from 'express';
import type { Logger } from 'pino';
import type { CliTokens } from '../auth/device/cli-tokens.ts';
import type { DeviceAuthorizations } from '../auth/device/device-authorizations.ts';
import { formatUserCode, normalizeUserCode } from '../auth/device/user-code.ts';
import { userCodeAttempts } from '../auth/device/user-code-attempts.ts';
import type { LoginProviders } from '../auth/providers.ts';
import { currentSession } from '../auth/session/session.ts';
import { endUserSession, listUserSessions, sessionHandle } from '../auth/session/user-sessions.ts';
import { signOut } from '../auth/sign-out.ts';
import type { CredentialBroker, IssuedCredentials } from '../broker/credential-broker.ts';
import type { AllowedRole } from '../broker/role-mapping.ts';
import { MIN_SESSION_SECONDS } from '../config/aws-schema.ts';
import type { Config } from '../config/schema.ts';
import {
  BadRequestError,
  ForbiddenError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '../http/errors.ts';
import type { Html } from '../http/html.ts';
import { logRequestFailure, toKeywardenError } from '../http/middleware/error-handler.ts';
import type { RateLimits } from '../http/middleware/rate-limit.ts';
import {
  callerAuditFields,
  credentialVendRecords,
  noteIdentity,
  vendingCallerOf,
} from '../http/routes/vending-caller.ts';
import type { AuditLog } from '../observability/audit.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { StateStore } from '../store/types.ts';
import { consoleLoginUrl, signinToken } from './console-federation.ts';
import { csrfTokenFor, csrfTokenValid } from './csrf-token.ts';
import { deviceConfirmPage, deviceDonePage, deviceEntryPage } from './device-pages.ts';
import { PORTAL_SCRIPT, PORTAL_STYLES, type PortalAsset } from './portal-assets.ts';
import { portalPageHeaders } from './portal-csp.ts';
import type { PortalKit } from './portal-kit.ts';
import type { SignedInUser } from './portal-layout.ts';
import {
  cliSignedOutPage,
  credentialsPage,
  errorPage,
  rolesPage,
  type SiteInfo,
  signedOutPage,
  signInPage,
} from './portal-pages.ts';
import { groupRolesByAccount } from './role-groups.ts';
import { sessionsPage } from './session-pages.ts';

export interface PortalRoutesDeps {
  config: Readonly<Config>;
  providers: LoginProviders;
  broker: CredentialBroker;
  /** The device authorization grant's pending requests; absent when `portal.device.enabled` is off. */
  devices?: DeviceAuthorizations | undefined;
  /** The CLI's tokens, so a user can revoke all of theirs from the portal. */
  cliTokens?: CliTokens | undefined;
  store: StateStore;
  rateLimit: RateLimits;
  audit: AuditLog;
  metrics: Metrics;
  logger: Logger;
  /** For tests that break the federation endpoint. */
  fetchImpl?: typeof fetch;
  /** Whether a request's caller may administer (admin configured); the header then links the admin page. */
  isAdmin?: ((req: Request) => boolean) | undefined;
  /** The admin's pages (src/admin/), mounted inside the portal when admin is configured. */
  adminPages?: ((kit: PortalKit) => Router) | undefined;
}

const ROLE_NAME = /^[a-zA-Z][\w.-]{0,63}$/;
const DURATION_CHOICES = [900, 1_800, 3_600, 7_200, 14_400, 28_800, 43_200];

const ERROR_TITLES: Record<number, string> = {
  400: 'That request was not valid',
  401: 'Please sign in',
  403: 'Not allowed',
  404: 'Not found',
  413: 'That request was too large',
  415: 'That request was not valid',
  429: 'Too many requests',
  503: 'Temporarily unavailable',
};

/** The signed-in portal user: a browser session of a user (not a guest, not a bearer caller). */
function portalUserOf(
  req: Request,
  isAdmin: ((req: Request) => boolean) | undefined,
): SignedInUser | undefined {
  const principal = req.scope.principal;
  if (principal?.kind !== 'user' || req.scope.authMethod !== 'session') return undefined;
  const { name, email } = principal.claims;
  return {
    name:
      typeof name === 'string' && name
        ? name
        : typeof email === 'string' && email
          ? email
          : principal.subject,
    csrfToken: csrfTokenFor(req),
    ...(isAdmin?.(req) ? { isAdmin: true } : {}),
  };
}

function send(res: Response, body: Html, status = 200): void {
  res.status(status).type('html').send(body.toString());
}

function formField(req: Request, name: string): string | undefined {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The enterprise portal: sign-in chooser, the user's roles by account, credentials for the
 * shell, the AWS console, the device approval page for the CLI, and sign-out. Server-rendered
 * HTML (escaped by the `html` template), classic forms with a synchronizer CSRF token, one
 * static script and stylesheet under a strict CSP; every page works without script.
 */
export function portalRoutes(deps: PortalRoutesDeps): Router {
  const { config, providers, broker, devices, audit, metrics, logger } = deps;
  const portalUser = (req: Request) => portalUserOf(req, deps.isAdmin);
  const record = credentialVendRecords(deps);
  const { publicUrl } = config.server;
  const publicOrigin = new URL(publicUrl).origin;
  const info: SiteInfo = {
    site: config.portal.title,
    product: config.portal.productName,
    publicUrl,
    cliCommand: config.portal.cliCommand,
    cliEnabled: config.portal.device.enabled,
    ...(config.localAws.enabled && config.aws.endpoint ? { localAwsEndpoint: config.aws.endpoint } : {}),
  };
  const federation = {
    config: config.portal,
    issuer: `${publicUrl}/portal`,
    ...(deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {}),
  };
  const providerLinks = [...providers.values()].map((provider) => ({
    name: provider.name,
    displayName: provider.displayName,
  }));
  const router = Router();
  const headers = portalPageHeaders(config.portal.federationEndpoint);
  const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });

  const durationsFor = (role: AllowedRole): number[] =>
    config.aws.pool.flow === 'enhanced'
      ? []
      : DURATION_CHOICES.filter(
          (seconds) => seconds >= MIN_SESSION_SECONDS && seconds <= role.maxSessionDuration,
        );
  const defaultDuration = (role: AllowedRole): number =>
    Math.min(config.credentials.defaultDurationSeconds, role.maxSessionDuration);

  // ---- middleware for the POST forms ------------------------------------------------------

  const formOnly: RequestHandler = (req, _res, next) => {
    if (!req.is('application/x-www-form-urlencoded'))
      return next(new UnsupportedMediaTypeError('Expected a form submission.'));
    next();
  };
  const signedIn: RequestHandler = (req, _res, next) => {
    if (!portalUser(req))
      return next(new UnauthorizedError('Your session has ended. Sign in again to continue.'));
    next();
  };
  const csrfChecked: RequestHandler = (req, _res, next) => {
    if (csrfTokenValid(req, publicOrigin)) return next();
    audit.record('csrf.rejected', {
      outcome: 'denied',
      requestId: req.scope.requestId,
      sourceIp: req.ip,
      reason: 'portal form without a valid token',
    });
    next(
      new ForbiddenError(
        'This form has expired or did not come from this site. Go back, reload and try again.',
        'csrf_token_invalid',
      ),
    );
  };
  const portalForm = [headers, form, formOnly, signedIn, csrfChecked];

  /** Vends through the broker, as POST /credentials does, with the portal's audit trail. */
  async function vend(
    req: Request,
    purpose: 'shell' | 'console',
  ): Promise<{ issued: IssuedCredentials; role: AllowedRole }> {
    const principal = req.scope.principal!;
    const roleName = formField(req, 'role');
    if (!roleName || !ROLE_NAME.test(roleName))
      throw new BadRequestError('Choose a role.', 'invalid_request');
    const durationField = formField(req, 'durationSeconds');
    const durationSeconds =
      durationField === undefined || durationField === '' ? undefined : Number(durationField);
    if (durationSeconds !== undefined && !Number.isInteger(durationSeconds)) {
      throw new BadRequestError('Choose how long the credentials should last.', 'invalid_duration');
    }
    const base = { ...callerAuditFields(req, { withKnownIdentity: false }), channel: 'portal', purpose };
    try {
      const issued = await broker.getCredentials({
        ...vendingCallerOf(req),
        role: roleName,
        ...(durationSeconds !== undefined ? { durationSeconds } : {}),
      });
      noteIdentity(req, issued.identityId);
      record.issued(base, issued);
      const role = broker.allowedRoles(principal).find((candidate) => candidate.name === issued.role);
      if (!role) throw new ForbiddenError('This role is not allowed for this caller.', 'role_not_allowed');
      return { issued, role };
    } catch (error) {
      const problem = toKeywardenError(error);
      record.denied(base, problem);
      throw problem;
    }
  }

  // ---- static assets ----------------------------------------------------------------------

  const asset =
    (file: PortalAsset): RequestHandler =>
    (req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.setHeader('ETag', file.etag);
      if (req.get('if-none-match') === file.etag) {
        res.status(304).end();
        return;
      }
      res.type(file.contentType).send(file.body);
    };
  router.get(PORTAL_SCRIPT.path, asset(PORTAL_SCRIPT));
  router.get(PORTAL_STYLES.path, asset(PORTAL_STYLES));

  // ---- pages ------------------------------------------------------------------------------

  router.get('/portal', headers, async (req, res) => {
    const user = portalUser(req);
    if (!user) {
      send(res, signInPage(info, providerLinks, { returnTo: '/portal' }));
      return;
    }
    const principal = req.scope.principal!;
    const groups = groupRolesByAccount(broker.allowedRoles(principal), config.portal.accounts);
    const cliSignedIn =
      info.cliEnabled && deps.cliTokens
        ? await deps.cliTokens.hasAny(principal.provider, principal.subject)
        : false;
    send(res, rolesPage(info, user, groups, { durationsFor, defaultDuration, cliSignedIn }));
  });

  router.post('/portal/credentials', ...portalForm, deps.rateLimit('credentials'), async (req, res) => {
    const { issued, role } = await vend(req, 'shell');
    send(res, credentialsPage(info, portalUser(req)!, role, issued.credentials));
  });

  router.post('/portal/console', ...portalForm, deps.rateLimit('credentials'), async (req, res) => {
    const { issued } = await vend(req, 'console');
    const token = await signinToken(issued.credentials, federation);
    const principal = req.scope.principal!;
    audit.record('portal.console_signin', {
      outcome: 'success',
      requestId: req.scope.requestId,
      sourceIp: req.ip,
      provider: principal.provider,
      subject: principal.subject,
      identityId: issued.identityId,
      role: issued.role,
    });
    res.redirect(303, consoleLoginUrl(token, federation));
  });

  router.post('/portal/logout', headers, form, formOnly, async (req, res) => {
    const record = currentSession(req);
    if (!record) {
      // Nothing to end; a forged sign-out of nobody does no harm.
      send(res, signedOutPage(info, undefined));
      return;
    }
    if (!csrfTokenValid(req, publicOrigin)) {
      audit.record('csrf.rejected', {
        outcome: 'denied',
        requestId: req.scope.requestId,
        sourceIp: req.ip,
        reason: 'portal sign-out',
      });
      throw new ForbiddenError(
        'This form has expired or did not come from this site. Go back, reload and try again.',
        'csrf_token_invalid',
      );
    }
    const logoutUrl = await signOut(req, record, { providers, audit, channel: 'portal' });
    send(res, signedOutPage(info, logoutUrl));
  });

  // ---- your sessions ------------------------------------------------------------------------

  /** The signed-in user's sessions and CLI sign-ins, from every instance. */
  async function renderSessions(req: Request, res: Response, notice?: string): Promise<void> {
    const principal = req.scope.principal!;
    const owner = { provider: principal.provider, subject: principal.subject };
    const [sessions, cliTokens] = await Promise.all([
      listUserSessions(deps.store, owner),
      deps.cliTokens && info.cliEnabled ? deps.cliTokens.list(owner) : [],
    ]);
    send(
      res,
      sessionsPage(info, portalUser(req)!, {
        sessions,
        cliTokens,
        currentSessionId: sessionHandle(req.session.id),
        notice,
      }),
    );
  }

  router.get('/portal/sessions', headers, async (req, res) => {
    if (!portalUser(req)) {
      send(res, signInPage(info, providerLinks, { returnTo: '/portal/sessions' }));
      return;
    }
    await renderSessions(req, res);
  });

  router.post('/portal/sessions', ...portalForm, deps.rateLimit('auth'), async (req, res) => {
    const principal = req.scope.principal!;
    const owner = { provider: principal.provider, subject: principal.subject };
    const base = {
      requestId: req.scope.requestId,
      sourceIp: req.scope.sourceIp,
      ...owner,
      channel: 'portal',
    };
    const sessionId = formField(req, 'session');
    const cliTokenId = formField(req, 'cliToken');
    if (sessionId !== undefined) {
      const current = currentSession(req);
      if (current && sessionId === sessionHandle(req.session.id)) {
        const logoutUrl = await signOut(req, current, { providers, audit, channel: 'portal' });
        send(res, signedOutPage(info, logoutUrl));
        return;
      }
      const ended = await endUserSession(deps.store, owner, sessionId);
      if (ended) audit.record('session.revoked', { ...base, outcome: 'success', sessions: 1 });
      await renderSessions(req, res, ended ? 'That session has ended.' : 'That session had already ended.');
      return;
    }
    if (cliTokenId !== undefined && deps.cliTokens) {
      const revoked = await deps.cliTokens.revokeListed(owner, cliTokenId);
      if (revoked) audit.record('cli_token.revoked', { ...base, outcome: 'success', count: 1 });
      await renderSessions(
        req,
        res,
        revoked ? 'That CLI sign-in has ended.' : 'That CLI sign-in had already ended.',
      );
      return;
    }
    throw new BadRequestError('Choose a session to end.', 'invalid_request');
  });

  // ---- device approval (the CLI's sign-in) ----------------------------------------------

  if (devices) {
    const attempt = userCodeAttempts({ store: deps.store, config: config.portal.device, metrics, audit });

    router.get('/portal/device', headers, async (req, res) => {
      const typed = req.query.user_code;
      const user = portalUser(req);
      if (!user) {
        const code = normalizeUserCode(typed);
        const returnTo = code ? `/portal/device?user_code=${formatUserCode(code)}` : '/portal/device';
        send(
          res,
          signInPage(info, providerLinks, {
            returnTo,
            title: 'Sign in to approve a device',
            lead: 'A command-line client is waiting for your approval. Sign in first.',
          }),
        );
        return;
      }
      if (typed === undefined || typed === '') {
        send(res, deviceEntryPage(info, user));
        return;
      }
      await attempt(req);
      const record = await devices.findPending(typed);
      if (!record) {
        send(
          res,
          deviceEntryPage(info, user, {
            error: 'That code is not valid, was already used, or has expired. Check your terminal.',
            value: typeof typed === 'string' ? typed.slice(0, 16) : '',
          }),
          404,
        );
        return;
      }
      send(res, deviceConfirmPage(info, user, record));
    });

    router.post('/portal/device', ...portalForm, async (req, res) => {
      await attempt(req);
      const user = portalUser(req)!;
      const principal = req.scope.principal!;
      const approve = formField(req, 'decision') === 'approve';
      const decided = await devices.decide(
        formField(req, 'user_code'),
        approve ? { approve: true, principal } : { approve: false },
      );
      if (!decided) {
        send(
          res,
          deviceEntryPage(info, user, {
            error: 'That code is not valid, was already used, or has expired. Check your terminal.',
          }),
          404,
        );
        return;
      }
      audit.record(approve ? 'device.approved' : 'device.denied', {
        outcome: approve ? 'success' : 'denied',
        requestId: req.scope.requestId,
        sourceIp: req.ip,
        provider: principal.provider,
        subject: principal.subject,
        clientId: decided.clientId,
        requestedFrom: decided.requestedFrom,
      });
      send(res, deviceDonePage(info, user, approve));
    });
  }

  const { cliTokens } = deps;
  if (cliTokens) {
    router.post('/portal/cli/sign-out', ...portalForm, async (req, res) => {
      const principal = req.scope.principal!;
      const count = await cliTokens.revokeAll(principal.provider, principal.subject);
      audit.record('cli_token.revoked', {
        outcome: 'success',
        requestId: req.scope.requestId,
        sourceIp: req.ip,
        provider: principal.provider,
        subject: principal.subject,
        count,
        channel: 'portal',
      });
      send(res, cliSignedOutPage(info, portalUser(req)!, count));
    });
  }

  // ---- administration (when configured) --------------------------------------------------

  if (deps.adminPages) {
    router.use(
      deps.adminPages({
        info,
        providerLinks,
        headers,
        form: portalForm,
        user: portalUser,
        send,
      }),
    );
  }

  // ---- errors as pages --------------------------------------------------------------------

  const pageErrors: ErrorRequestHandler = (error, req, res, next) => {
    if (res.headersSent || !req.path.startsWith('/portal')) return next(error);
    const problem = toKeywardenError(error);
    logRequestFailure(logger, req.scope.requestId, problem, error);
    res.status(problem.status);
    for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
    headers(req, res, () => undefined);
    let user: SignedInUser | undefined;
    try {
      user = portalUser(req);
    } catch {
      user = undefined;
    }
    send(
      res,
      errorPage(info, {
        status: problem.status,
        title: ERROR_TITLES[problem.status] ?? 'Something went wrong',
        message: problem.expose
          ? problem.message
          : 'Something went wrong on our side. Try again in a moment.',
        user,
        signIn: problem.status === 401,
      }),
      problem.status,
    );
  };
  router.use(pageErrors);

  return router;
}
