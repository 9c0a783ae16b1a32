import express, { type Request, type Response, Router } from 'express';
import type { Config } from '../../config/schema.ts';
import type { RateLimits } from '../../http/middleware/rate-limit.ts';
import type { AuditLog } from '../../observability/audit.ts';
import type { SignInAdmission } from '../session/session-middleware.ts';
import type { CliTokens } from './cli-tokens.ts';
import type { DeviceAuthorizations } from './device-authorizations.ts';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** Where the user approves a request: the portal page (src/portal/). */
const DEVICE_VERIFICATION_PATH = '/portal/device';

/**
 * RFC 6749 §5.2 error response. The device endpoints speak OAuth, not problem+json, so
 * standard device-flow clients understand them; only keywarden-wide failures (rate limit,
 * store down) come as problems from the central handler.
 */
function oauthError(res: Response, status: number, error: string, description: string): void {
  res.status(status);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.json({ error, error_description: description });
}

function formField(req: Request, name: string): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const value = body?.[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The OAuth 2.0 Device Authorization Grant (RFC 8628) with keywarden as the authorization
 * server, for the `keywarden` CLI:
 *  - `POST /auth/device/authorize` (§3.1): a device code, a user code and where to approve it;
 *  - `POST /auth/device/token` (§3.4): polled until the user approves in the portal, then an
 *    opaque CLI token (`kwcli_…`, sent back as `Authorization: Bearer`);
 *  - `POST /auth/device/revoke` (RFC 7009 style): the CLI's sign-out.
 * Bodies are `application/x-www-form-urlencoded`, as OAuth specifies.
 */
export function deviceRoutes(deps: {
  config: Readonly<Config>;
  authorizations: DeviceAuthorizations;
  tokens: CliTokens;
  rateLimit: RateLimits;
  audit: AuditLog;
  /** As for a browser sign-in (an admin's suspension): asked once the token is stored; refused, it is revoked. */
  admission?: SignInAdmission | undefined;
}): Router {
  const { config, authorizations, tokens, audit } = deps;
  const device = config.portal.device;
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 });
  const verificationUri = new URL(DEVICE_VERIFICATION_PATH, config.server.publicUrl).href;

  /** The client id when the body is a form naming a known client; else answers the error and undefined. */
  const knownClient = (req: Request, res: Response): string | undefined => {
    if (!req.is('application/x-www-form-urlencoded')) {
      oauthError(res, 400, 'invalid_request', 'The body must be application/x-www-form-urlencoded.');
      return undefined;
    }
    const clientId = formField(req, 'client_id');
    if (!clientId || !device.clientIds.includes(clientId)) {
      oauthError(res, 401, 'invalid_client', 'Unknown client_id.');
      return undefined;
    }
    return clientId;
  };

  router.post('/auth/device/authorize', deps.rateLimit('auth'), form, async (req, res) => {
    const clientId = knownClient(req, res);
    if (!clientId) return;
    const started = await authorizations.start({
      clientId,
      ...(req.ip ? { requestedFrom: req.ip } : {}),
      ...(req.get('user-agent') ? { userAgent: req.get('user-agent') } : {}),
    });
    const complete = new URL(verificationUri);
    complete.searchParams.set('user_code', started.userCode);
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      device_code: started.deviceCode,
      user_code: started.userCode,
      verification_uri: verificationUri,
      verification_uri_complete: complete.href,
      expires_in: started.expiresIn,
      interval: started.interval,
    });
  });

  router.post('/auth/device/token', deps.rateLimit('auth'), form, async (req, res) => {
    const clientId = knownClient(req, res);
    if (!clientId) return;
    if (formField(req, 'grant_type') !== DEVICE_CODE_GRANT) {
      oauthError(res, 400, 'unsupported_grant_type', `grant_type must be ${DEVICE_CODE_GRANT}.`);
      return;
    }
    const deviceCode = formField(req, 'device_code');
    if (!deviceCode) {
      oauthError(res, 400, 'invalid_request', 'device_code is required.');
      return;
    }
    const result = await authorizations.poll(deviceCode, clientId);
    switch (result.status) {
      case 'pending':
        oauthError(res, 400, 'authorization_pending', 'The request has not been approved yet.');
        return;
      case 'slow_down':
        oauthError(res, 400, 'slow_down', `Poll at most every ${result.interval} seconds.`);
        return;
      case 'expired':
        oauthError(res, 400, 'expired_token', 'The device code has expired; start again.');
        return;
      case 'denied':
        oauthError(res, 400, 'access_denied', 'The request was denied.');
        return;
      case 'invalid':
        oauthError(res, 400, 'invalid_grant', 'Unknown or already used device code.');
        return;
      case 'approved': {
        const principal = result.record.principal!;
        const { token, record } = await tokens.issue(principal, clientId, {
          requestedFrom: result.record.requestedFrom,
          userAgent: result.record.userAgent,
        });
        if (deps.admission) {
          // Asked after the token is stored and indexed: a revocation landing meanwhile either
          // is seen here or finds the token in the user's index.
          try {
            await deps.admission(req, principal);
          } catch (error) {
            await tokens.revoke(token).catch(() => undefined);
            throw error;
          }
        }
        audit.record('cli_token.issued', {
          outcome: 'success',
          requestId: req.scope.requestId,
          sourceIp: req.ip,
          provider: principal.provider,
          subject: principal.subject,
          clientId,
          expiresAt: new Date(record.expiresAt).toISOString(),
        });
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('Pragma', 'no-cache');
        res.json({
          access_token: token,
          token_type: 'Bearer',
          expires_in: Math.floor((record.expiresAt - Date.now()) / 1000),
        });
        return;
      }
    }
  });

  router.post('/auth/device/revoke', deps.rateLimit('auth'), form, async (req, res) => {
    const clientId = knownClient(req, res);
    if (!clientId) return;
    const token = formField(req, 'token');
    const revoked = token ? await tokens.revoke(token) : undefined;
    if (revoked) {
      audit.record('cli_token.revoked', {
        outcome: 'success',
        requestId: req.scope.requestId,
        sourceIp: req.ip,
        provider: revoked.principal.provider,
        subject: revoked.principal.subject,
      });
    }
    // RFC 7009 §2.2: the same answer whether or not the token was valid.
    res.setHeader('Cache-Control', 'no-store');
    res.json({});
  });

  return router;
}
