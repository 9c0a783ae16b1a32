import type { Request } from 'express';
import type { Logger } from 'pino';
import { type BearerConfig, isJwtIssuer, type OpaqueIssuerConfig } from '../../config/bearer-schema.ts';
import { BadRequestError, ServiceUnavailableError, UnauthorizedError } from '../../http/errors.ts';
import type { Authenticator } from '../../http/middleware/authenticate.ts';
import type { AuditLog } from '../../observability/audit.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { StateStore } from '../../store/types.ts';
import { ProviderUnavailableError } from '../provider-errors.ts';
import { JwksUnavailableError } from './jwks-key-source.ts';
import type { OpaqueTokenVerifier } from './opaque/opaque-token-verifier.ts';
import { type BearerTokenVerifier, createBearerTokenVerifier, InvalidTokenError } from './token-verifier.ts';

const BEARER_REALM = 'keywarden';

/** RFC 6750 §2.1: `Bearer` then one b64token. */
const BEARER_HEADER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const BEARER_SCHEME = /^Bearer(?: |$)/i;
/** Three base64url parts: a JWS compact serialisation. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Names the issuer entry an opaque (non-JWT) token is for. A Facebook or GitHub token does not
 * say where it comes from, and trying it on every configured provider would hand one provider's
 * tokens to another.
 */
export const TOKEN_ISSUER_HEADER = 'x-token-issuer';

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
 * `Authorization: Bearer <token>` from a trusted issuer (mobile apps, API clients): a JWT
 * checked with the issuer's keys, or an opaque token (Facebook, GitHub, RFC 7662
 * introspection) checked by asking its provider. It runs first in the authenticator list: once
 * a bearer token is present it alone decides — a valid cookie cannot rescue a bad token, and no
 * CSRF header is needed because a bearer token is never sent ambiently by a browser. Other
 * Authorization schemes (a staging proxy's Basic auth, say) are not ours and are left alone.
 */
export function createBearerAuthenticator(deps: {
  config: BearerConfig;
  logger: Logger;
  audit: AuditLog;
  metrics?: Metrics;
  /** Where opaque-token verdicts are cached; required when an opaque issuer is configured. */
  store?: StateStore;
  production?: boolean;
  /** For tests that need to count or break outbound fetches. */
  fetchImpl?: typeof fetch;
  verifier?: BearerTokenVerifier;
}): Authenticator {
  const { audit, metrics } = deps;
  const opaqueIssuers: Record<string, OpaqueIssuerConfig> = {};
  const jwtIssuerNames = new Set<string>();
  for (const [name, entry] of Object.entries(deps.config.issuers)) {
    if (isJwtIssuer(entry)) jwtIssuerNames.add(name);
    else opaqueIssuers[name] = entry;
  }
  const opaqueNames = Object.keys(opaqueIssuers);
  const { store } = deps;
  if (opaqueNames.length > 0 && !store) throw new Error('opaque bearer issuers need the state store');
  // Loaded on the first opaque token only: a server that takes JWTs alone never loads it.
  let opaque: Promise<OpaqueTokenVerifier> | undefined;
  const opaqueVerifier = (): Promise<OpaqueTokenVerifier> => {
    opaque ??= import('./opaque/opaque-token-verifier.ts').then(({ createOpaqueTokenVerifier }) =>
      createOpaqueTokenVerifier({
        issuers: opaqueIssuers,
        store: store!,
        logger: deps.logger,
        production: deps.production ?? false,
      }),
    );
    return opaque;
  };

  /** The opaque issuer entry this token goes to, or undefined for the JWT path. */
  function opaqueTarget(token: string, named: string | undefined): string | undefined {
    if (named !== undefined) {
      if (opaqueNames.includes(named)) return named;
      if (jwtIssuerNames.has(named)) return undefined;
      throw new InvalidTokenError('The token issuer named in X-Token-Issuer is not configured');
    }
    // Without the header a token is a JWT, as before opaque issuers existed: nothing is sent to a
    // provider on a guess, and a malformed token costs no outbound call.
    if (opaqueNames.length === 0 || JWT_SHAPE.test(token)) return undefined;
    throw new InvalidTokenError('An opaque token needs the X-Token-Issuer header naming its issuer');
  }

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
      const token = match[1]!;
      const named = req.get(TOKEN_ISSUER_HEADER)?.trim();
      try {
        const target = opaqueTarget(token, named);
        const verified =
          target === undefined
            ? await verifier.verify(token)
            : await (await opaqueVerifier()).verify(token, target);
        if (named !== undefined && verified.issuerName !== named) {
          throw new InvalidTokenError(
            'The token does not come from the issuer named in X-Token-Issuer',
            verified.issuerName,
          );
        }
        req.scope.principal = verified.principal;
        req.scope.authMethod = 'bearer';
        req.scope.bearerIssuer = verified.issuerName;
        if (verified.expiresAt) req.scope.authExpiresAt = verified.expiresAt;
        return true;
      } catch (error) {
        if (error instanceof InvalidTokenError) {
          reject(req, error.description, error.issuerName);
          throw invalidToken(error.description);
        }
        if (error instanceof ProviderUnavailableError) {
          throw new ServiceUnavailableError(
            'The token issuer cannot be reached to check the token; retry later.',
            error.retryAfterSeconds,
            { cause: error },
          );
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
