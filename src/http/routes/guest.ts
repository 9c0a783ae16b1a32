import { type Request, Router } from 'express';
import { z } from 'zod';
import {
  GUEST_PROVIDER,
  guestPrincipal,
  invalidGuestToken,
  presentedGuestToken,
} from '../../auth/guest/guest-token-authenticator.ts';
import type { Principal } from '../../auth/principal.ts';
import { establishSession } from '../../auth/session/session.ts';
import type { GuestsConfig } from '../../config/aws-schema.ts';
import type { GuestTokens } from '../../identity/guest-tokens.ts';
import type { IdentityResolver } from '../../identity/identity-resolver.ts';
import type { AuditLog } from '../../observability/audit.ts';
import { BadRequestError, ForbiddenError, KeywardenError } from '../errors.ts';
import { jsonBodyOf } from '../json-body.ts';
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
  // An empty POST means "the default mode".
  const result = guestParams.safeParse(jsonBodyOf(req) ?? {});
  if (!result.success) throw new BadRequestError('The guest request is not valid.', 'invalid_request');
  return result.data;
}

/**
 * POST /identities/guest — create or resume a guest identity. Each Cognito GetId without
 * logins makes a new identity, so a caller that already is a guest (session or token) gets
 * its own identity back and nothing is created.
 *
 * A bearer caller that also sends `X-Guest-Token` is an app whose guest just signed in: the
 * guest identity is linked to the login (the same Cognito linking a browser session gets on
 * its first credential request) and the guest token is used up.
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

  /**
   * Links the guest identity behind `guestToken` to a signed-in principal; answers the identity
   * id the user has now (the guest's, or the user's own when Cognito merged the guest into it).
   * The token is taken out of use first, atomically, so it cannot be upgraded twice or keep
   * vending guest credentials for an identity that is now authenticated; it is put back only
   * when the link did not happen (AWS or the store failed), so the app can retry.
   */
  async function upgradeGuest(req: Request, principal: Principal, guestToken: string): Promise<string> {
    const context = { requestId: req.scope.requestId, ...(req.ip ? { sourceIp: req.ip } : {}) };
    const claimed = await tokens.consume(guestToken);
    if (!claimed) {
      audit.record('token.rejected', {
        ...context,
        outcome: 'denied',
        provider: GUEST_PROVIDER,
        subject: principal.subject,
        reason: 'guest token unknown, expired or used (upgrade)',
      });
      throw invalidGuestToken();
    }
    try {
      return await identities.linkGuest(principal, claimed.identityId, context);
    } catch (error) {
      // The client must see the original failure (503, 403...); a store that cannot take the
      // token back is failing anyway, and the token then simply stays used up.
      await tokens.reinstate(guestToken, claimed.identityId, claimed.ttlMs).catch(() => undefined);
      throw error;
    }
  }

  router.post('/identities/guest', deps.rateLimit('guest'), async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    if (!deps.config.enabled || !deps.guestRoleConfigured) {
      throw new ForbiddenError('Guest access is not enabled.', 'guests_disabled');
    }
    const params = parseBody(req);
    const principal = req.scope.principal;
    if (principal?.kind === 'user') {
      // Only a bearer request can carry both: on any other request a guest token is the
      // credential itself (see authenticate.ts), and browsers link through their session.
      const guestToken = req.scope.authMethod === 'bearer' ? presentedGuestToken(req) : undefined;
      if (guestToken === undefined) {
        throw new KeywardenError(409, 'already_signed_in', 'A signed-in caller has no guest identity.');
      }
      const identityId = await upgradeGuest(req, principal, guestToken.trim());
      req.scope.identityId = identityId;
      res.status(200).json({ identityId });
      return;
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
