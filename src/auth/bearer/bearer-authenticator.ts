import type { Request } from 'express';
import type { Logger } from 'pino';
import type { BearerConfig } from '../../config/bearer-schema.ts';
import { BadRequestError, ServiceUnavailableError, UnauthorizedError } from '../../http/errors.ts';
import type { Authenticator } from '../../http/middleware/authenticate.ts';
import type { AuditLog } from '../../observability/audit.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { JwksUnavailableError } from './jwks-key-source.ts';
import { type BearerTokenVerifier, createBearerTokenVerifier, InvalidTokenError } from './token-verifier.ts';

const BEARER_REALM = 'keywarden';

/** RFC 6750 §2.1: `Bearer` then one b64token. */
const BEARER_HEADER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const BEARER_SCHEME = /^Bearer(?: |$)/i;

/** RFC 6750 §3 challenge; `description` is ours (ASCII, no quotes), never token content. */
export function bearerChallenge(error?: 'invalid_token' | 'invalid_request', description?: string): string {
  let challenge = `Bearer realm="${BEARER_REALM}"`;
  if (error) challenge += `, error="${error}"`;
  if (description) challenge += `, error_description="${description.replace(/["\\]/g, '')}"`;
  return challenge;
}

function invalidToken(description: string): UnauthorizedError {
  return new UnauthorizedError(`${description}.`, 'invalid_token', {
    headers: { 'WWW-Authenticate': bearerChallenge('invalid_token', description) },
  });
}

/**
 * `Authorization: Bearer <JWT>` from a trusted issuer (mobile apps, API clients). It runs
 * first in the authenticator list: once a bearer token is present it alone decides — a
 * valid cookie cannot rescue a bad token, and no CSRF header is needed because a bearer
 * token is never sent ambiently by a browser. Other Authorization schemes (a staging
 * proxy's Basic auth, say) are not ours and are left alone.
 */
export function createBearerAuthenticator(deps: {
  config: BearerConfig;
  logger: Logger;
  audit: AuditLog;
  metrics?: Metrics;
  /** For tests that need to count or break outbound fetches. */
  fetchImpl?: typeof fetch;
  verifier?: BearerTokenVerifier;
}): Authenticator {
  const { audit, metrics } = deps;
  const verifier =
    deps.verifier ??
    createBearerTokenVerifier({
      config: deps.config,
      logger: deps.logger,
      ...(metrics ? { onJwksFetch: (issuer, outcome) => metrics.jwksFetches.inc({ issuer, outcome }) } : {}),
      ...(deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {}),
    });

  function reject(req: Request, reason: string, issuer: string | undefined): void {
    metrics?.bearerRejected.inc({ issuer: issuer ?? 'unknown' });
    audit.record('token.rejected', {
      outcome: 'denied',
      requestId: req.scope.requestId,
      sourceIp: req.ip,
      reason,
      ...(issuer ? { provider: issuer } : {}),
    });
  }

  return {
    name: 'bearer',
    present: (req) => BEARER_SCHEME.test(req.get('authorization') ?? ''),
    async authenticate(req) {
      const match = BEARER_HEADER.exec(req.get('authorization') ?? '');
      if (!match) {
        reject(req, 'malformed Authorization header', undefined);
        throw new BadRequestError('The Authorization header must be "Bearer <token>".', 'invalid_request', {
          headers: {
            'WWW-Authenticate': bearerChallenge(
              'invalid_request',
              'The Authorization header must be Bearer followed by one token',
            ),
          },
        });
      }
      try {
        const verified = await verifier.verify(match[1]!);
        req.scope.principal = verified.principal;
        req.scope.authMethod = 'bearer';
        req.scope.authExpiresAt = verified.expiresAt;
        return true;
      } catch (error) {
        if (error instanceof InvalidTokenError) {
          reject(req, error.description, error.issuerName);
          throw invalidToken(error.description);
        }
        if (error instanceof JwksUnavailableError) {
          throw new ServiceUnavailableError(
            'The token issuer cannot be reached to check the token; retry later.',
            error.retryAfterSeconds,
            { cause: error },
          );
        }
        throw error;
      }
    },
  };
}
