import { type RequestHandler, Router } from 'express';
import type { LoginProviders } from '../../auth/providers.ts';
import { safeReturnTo } from '../../auth/return-to.ts';
import { type AllowedRolesResolver, noAllowedRoles } from '../../auth/session/allowed-roles.ts';
import { currentSession } from '../../auth/session/session.ts';
import { signOut } from '../../auth/sign-out.ts';
import type { Config } from '../../config/schema.ts';
import type { AuditLog } from '../../observability/audit.ts';
import { BadRequestError, ForbiddenError, NotFoundError, UnsupportedMediaTypeError } from '../errors.ts';
import { awaitScreening, CSRF_HEADER, requireAuth } from '../middleware/authenticate.ts';
import type { RateLimits } from '../middleware/rate-limit.ts';

export interface AuthRoutesDeps {
  config: Readonly<Config>;
  providers: LoginProviders;
  audit: AuditLog;
  rateLimit: RateLimits;
  /** Filled in by the credentials broker (role mapping); `[]` until then. */
  allowedRoles?: AllowedRolesResolver;
}

/**
 * Browser sign-in: start a login with a configured provider, the provider's own routes
 * (OIDC callback, back-channel logout, SAML ACS...), logout and "who am I". Mounted at `/auth`
 * (paths here are relative to it), so requests elsewhere skip all of it with one prefix check.
 */
export function authRoutes(deps: AuthRoutesDeps): Router {
  const { config, providers, audit, rateLimit } = deps;
  const allowedRoles = deps.allowedRoles ?? noAllowedRoles;
  const router = Router();

  // A top-level navigation (no CSRF header possible): the state/PKCE/nonce transaction
  // bound to this browser is what protects the flow.
  router.get('/login/:provider', rateLimit('auth'), async (req, res) => {
    const provider = providers.get(String(req.params.provider));
    if (!provider) throw new NotFoundError('No such login provider.', 'unknown_provider');
    const secureCookie = !config.session.insecureDevCookies;
    if (secureCookie && !req.secure) {
      // The session middleware would not set the Secure cookie and the callback would fail.
      throw new BadRequestError(
        'Sign-in needs HTTPS (behind a proxy, set server.trustProxyHops so X-Forwarded-Proto is believed).',
        'https_required',
      );
    }
    await provider.startLogin(req, res, safeReturnTo(req.query.returnTo, config));
  });

  // Callbacks (OIDC redirect, SAML ACS post) are browser traffic like the login itself; back-channel, SLO and metadata calls
  // come from IdPs and keep the default limit only.
  router.use('/callback', rateLimit('auth'));
  // Only the limiter; the provider's own ACS route below answers.
  router.post('/saml/:provider/acs', rateLimit('auth'));
  for (const provider of providers.values()) router.use(provider.routes());

  router.post('/logout', rateLimit('auth'), async (req, res) => {
    // Always required here, signed in or not: a cross-site form cannot set it, so logout
    // cannot be forced on a user (and a text/plain form POST never gets this far).
    if (req.get(CSRF_HEADER) !== '1') {
      audit.record('csrf.rejected', { outcome: 'denied', requestId: req.scope.requestId, sourceIp: req.ip });
      throw new ForbiddenError('The X-CSRF: 1 header is required.', 'csrf_header_missing');
    }
    if (req.headers['content-type'] !== undefined && !req.is('application/json')) {
      throw new UnsupportedMediaTypeError();
    }
    const record = currentSession(req);
    const logoutUrl = record ? await signOut(req, record, { providers, audit }) : undefined;
    res.setHeader('Cache-Control', 'no-store');
    res.json(logoutUrl ? { logoutUrl } : {});
  });

  const whoAmI: RequestHandler = async (req, res) => {
    const principal = req.scope.principal!;
    const record = req.scope.authMethod === 'session' ? currentSession(req) : undefined;
    const expires = record ? req.session.cookie.expires : undefined;
    // A session ends at its idle or absolute timeout; a bearer or CLI token at its own expiry.
    const expiresAt = record
      ? Math.min(record.absoluteExpiresAt, expires ? new Date(expires).getTime() : record.absoluteExpiresAt)
      : req.scope.authExpiresAt?.getTime();
    const name = principal.claims.name;
    const email = principal.claims.email;
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      ...(req.scope.identityId ? { identityId: req.scope.identityId } : {}),
      kind: principal.kind,
      provider: principal.provider,
      subject: principal.subject,
      ...(typeof name === 'string' ? { name } : {}),
      ...(typeof email === 'string' ? { email } : {}),
      authMethod: req.scope.authMethod,
      allowedRoles: principal.kind === 'user' ? [...(await allowedRoles(principal))] : [],
      ...(expiresAt !== undefined ? { expiresAt: new Date(expiresAt).toISOString() } : {}),
    });
  };
  router.get('/session', requireAuth({ allowGuests: true }), awaitScreening(), whoAmI);

  return router;
}
