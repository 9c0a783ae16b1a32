import type { Request } from 'express';
import { UnauthorizedError } from '../../http/errors.ts';
import type { Authenticator } from '../../http/middleware/authenticate.ts';
import type { AuditLog } from '../../observability/audit.ts';
import { bearerChallenge } from '../bearer/bearer-authenticator.ts';
import { CLI_TOKEN_PREFIX, type CliTokens } from './cli-tokens.ts';

/** `Authorization: Bearer kwcli_…`: a JWT never starts with `kwcli_` (JWTs start with `eyJ`). */
const CLI_BEARER = new RegExp(`^Bearer +(${CLI_TOKEN_PREFIX}\\S*) *$`, 'i');

function presentedToken(req: Request): string | undefined {
  return CLI_BEARER.exec(req.get('authorization') ?? '')?.[1];
}

/**
 * The keywarden CLI's tokens (from the device authorization grant), sent as
 * `Authorization: Bearer kwcli_…`. It sits before the JWT bearer authenticator in app.ts
 * and claims only tokens with the `kwcli_` prefix, so JWTs from trusted issuers are still
 * the bearer authenticator's alone. The request then counts as a bearer request: no cookie,
 * no CSRF header. An unknown, expired or revoked token is a 401 with an RFC 6750 challenge.
 */
export function cliTokenAuthenticator(deps: { tokens: CliTokens; audit: AuditLog }): Authenticator {
  return {
    name: 'cli-token',
    lookupOnly: true,
    present: (req) => presentedToken(req) !== undefined,
    async authenticate(req) {
      const record = await deps.tokens.resolve(presentedToken(req) ?? '');
      if (!record) {
        deps.audit.record('token.rejected', {
          outcome: 'denied',
          requestId: req.scope.requestId,
          sourceIp: req.ip,
          reason: 'unknown or expired CLI token',
        });
        throw new UnauthorizedError(
          'The CLI token is not valid; sign in again with keywarden login.',
          'invalid_token',
          {
            headers: { 'WWW-Authenticate': bearerChallenge('invalid_token', 'The CLI token is not valid') },
          },
        );
      }
      req.scope.principal = record.principal;
      req.scope.authMethod = 'bearer';
      req.scope.authExpiresAt = new Date(record.expiresAt);
      return true;
    },
  };
}
