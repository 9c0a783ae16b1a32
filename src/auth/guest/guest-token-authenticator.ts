import type { Request } from 'express';
import { UnauthorizedError } from '../../http/errors.ts';
import type { Authenticator } from '../../http/middleware/authenticate.ts';
import { GUEST_TOKEN_PREFIX, type GuestTokens } from '../../identity/guest-tokens.ts';
import type { Principal } from '../principal.ts';

const GUEST_TOKEN_HEADER = 'x-guest-token';
export const GUEST_PROVIDER = 'guest';

/**
 * RFC 7235 requires a challenge on every 401. Guest tokens are keywarden's own scheme (sent
 * as `X-Guest-Token`, not in `Authorization`), so the challenge names it, with RFC 6750's
 * error code for a token that was presented and refused.
 */
const GUEST_TOKEN_CHALLENGE = 'GuestToken realm="keywarden", error="invalid_token"';

/** 401 `invalid_guest_token` for a malformed, unknown, expired or already used guest token. */
export function invalidGuestToken(): UnauthorizedError {
  return new UnauthorizedError('The guest token is not valid.', 'invalid_guest_token', {
    headers: { 'WWW-Authenticate': GUEST_TOKEN_CHALLENGE },
  });
}

/** The principal of a guest identity: its subject is the Cognito identity id. */
export function guestPrincipal(identityId: string): Principal {
  return { provider: GUEST_PROVIDER, subject: identityId, kind: 'guest', claims: {} };
}

/**
 * The guest token, from `X-Guest-Token`, or as the raw `Authorization` value (what the AWS
 * SDK's container-credentials provider, `fromHttp`, sends from AWS_CONTAINER_AUTHORIZATION_TOKEN).
 * Only values with the guest-token prefix are claimed, so `Authorization: Bearer …` is left
 * to the bearer authenticator.
 */
export function presentedGuestToken(req: Request): string | undefined {
  const header = req.get(GUEST_TOKEN_HEADER);
  if (header !== undefined) return header;
  const authorization = req.get('authorization');
  return authorization?.startsWith(GUEST_TOKEN_PREFIX) ? authorization : undefined;
}

export function guestTokenAuthenticator(tokens: GuestTokens): Authenticator {
  return {
    name: 'guest-token',
    lookupOnly: true,
    present: (req) => presentedGuestToken(req) !== undefined,
    async authenticate(req) {
      const token = presentedGuestToken(req) ?? '';
      const identityId = await tokens.resolve(token.trim());
      if (!identityId) throw invalidGuestToken();
      req.scope.principal = guestPrincipal(identityId);
      req.scope.authMethod = 'guest-token';
      req.scope.identityId = identityId;
      return true;
    },
  };
}
