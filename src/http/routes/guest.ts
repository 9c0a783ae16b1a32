import { type Request, Router } from 'express';
import { z } from 'zod';
import { GUEST_PROVIDER, guestPrincipal } from '../../auth/guest/guest-token-authenticator.ts';
import { establishSession } from '../../auth/session/session.ts';
import type { GuestsConfig } from '../../config/aws-schema.ts';
import type { GuestTokens } from '../../identity/guest-tokens.ts';
import type { IdentityResolver } from '../../identity/identity-resolver.ts';
import type { AuditLog } from '../../observability/audit.ts';
import { BadRequestError, ForbiddenError, KeywardenError, UnsupportedMediaTypeError } from '../errors.ts';
import { CSRF_HEADER } from '../middleware/authenticate.ts';
import type { RateLimits } from '../middleware/rate-limit.ts';

const guestParams = z.strictObject({
  /**
   * `session`: keep the guest in the browser session (needs `X-CSRF: 1`); `token`: answer a
   * guest token for a non-browser client. Default: session when the request carries
   * `X-CSRF: 1` (a browser app), token otherwise.
   */
  mode: z.enum(['session', 'token']).optional(),
});

function parseBody(req: Request): z.infer<typeof guestParams> {
  if (req.body === undefined) {
    if (Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding'))
      throw new UnsupportedMediaTypeError();
    return {};
  }
  const result = guestParams.safeParse(req.body);
  if (!result.success) throw new BadRequestError('The guest request is not valid.', 'invalid_request');
  return result.data;
}

/**
 * POST /identities/guest — create or resume a guest identity. Each Cognito GetId without
 * logins makes a new identity, so a caller that already is a guest (session or token) gets
 * its own identity back and nothing is created.
 */
export function guestRoutes(deps: {
  config: Readonly<GuestsConfig>;
  guestRoleConfigured: boolean;
  identities: IdentityResolver;
  tokens: GuestTokens;
  rateLimit: RateLimits;
  audit: AuditLog;
}): Router {
  const { identities, tokens, audit } = deps;
  const router = Router();

  router.post('/identities/guest', deps.rateLimit('guest'), async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    if (!deps.config.enabled || !deps.guestRoleConfigured) {
      throw new ForbiddenError('Guest access is not enabled.', 'guests_disabled');
    }
    const params = parseBody(req);
    const principal = req.scope.principal;
    if (principal?.kind === 'user') {
      throw new KeywardenError(409, 'already_signed_in', 'A signed-in caller has no guest identity.');
    }
    if (principal?.kind === 'guest') {
      res.status(200).json({ identityId: req.scope.identityId ?? principal.subject });
      return;
    }
    const browser = req.get(CSRF_HEADER) === '1';
    const mode = params.mode ?? (browser && req.session ? 'session' : 'token');
    if (mode === 'session' && !browser) {
      // A guest session is ambient authority in the browser; only a same-origin app may start one.
      throw new ForbiddenError('The X-CSRF: 1 header is required.', 'csrf_header_missing');
    }
    if (mode === 'session' && !req.session) {
      throw new BadRequestError('Browser sessions are not available here.', 'sessions_unavailable');
    }

    const identityId = await identities.createGuestIdentity();
    req.scope.identityId = identityId;
    audit.record('guest.created', {
      outcome: 'success',
      requestId: req.scope.requestId,
      sourceIp: req.ip,
      provider: GUEST_PROVIDER,
      identityId,
      mode,
    });
    if (mode === 'session') {
      await establishSession(req, {
        principal: guestPrincipal(identityId),
        provider: GUEST_PROVIDER,
        guestIdentityId: identityId,
        identityId,
      });
      res.status(201).json({ identityId });
      return;
    }
    const guestToken = await tokens.issue(identityId);
    res.status(201).json({ identityId, guestToken });
  });
  return router;
}
