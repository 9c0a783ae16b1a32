import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { Logger } from 'pino';
import { type BearerConfig, type BearerIssuerConfig, isJwtIssuer } from '../../config/bearer-schema.ts';
import type { Principal } from '../principal.ts';
import { principalFromClaims } from './claim-mapping.ts';
import { createJwksKeySource, JwksUnavailableError } from './jwks-key-source.ts';

/**
 * A bearer token that does not prove anything. `description` is safe to show the client
 * (RFC 6750 `error_description`): plain ASCII, no quotes, nothing from the token itself.
 */
export class InvalidTokenError extends Error {
  readonly description: string;
  /** The configured issuer entry the token was routed to, when it got that far. */
  readonly issuerName: string | undefined;
  constructor(description: string, issuerName?: string, options?: ErrorOptions) {
    super(description, options);
    this.name = 'InvalidTokenError';
    this.description = description;
    this.issuerName = issuerName;
  }
}

export interface VerifiedBearerToken {
  readonly principal: Principal;
  readonly issuerName: string;
  readonly tokenType: 'access' | 'id';
  readonly expiresAt: Date;
}

export interface BearerTokenVerifier {
  /** Resolves with the principal, or rejects with InvalidTokenError or JwksUnavailableError. */
  verify(token: string): Promise<VerifiedBearerToken>;
}

interface TrustedIssuer {
  readonly name: string;
  readonly config: BearerIssuerConfig;
  readonly getKey: JWTVerifyGetKey;
}

/** RFC 9068 §2.1: JWT access tokens are typed `at+jwt` (`application/at+jwt` is the same type). */
function isAccessTokenTyp(typ: unknown): boolean {
  return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'at+jwt';
}

/** ID tokens carry no `typ` or the generic `JWT` (OIDC Core 1.0 does not define one). */
function isPlainJwtTyp(typ: unknown): boolean {
  return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'jwt';
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'The token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return 'The token lacks a required claim';
    switch (error.claim) {
      case 'nbf':
        return 'The token is not yet valid';
      case 'iat':
        return 'The token was issued too long ago or in the future';
      case 'aud':
        return 'The token audience is not accepted';
      case 'iss':
        return 'The token issuer is not trusted';
      case 'typ':
        return 'The token type is not accepted here';
      default:
        return 'A token claim is not valid';
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'The token signing algorithm is not accepted';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'The token signature is not valid';
  if (error instanceof errors.JWKSNoMatchingKey) return 'The token signing key is not known';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'The token signing key is ambiguous';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return 'The token is malformed';
  return 'The token is not valid';
}

/**
 * The rules jose does not know: which token type may be used here (an ID token is proof
 * of a login *to an app*, not a grant to call an API, and vice versa), and ID token
 * audience rules from OIDC Core 3.1.3.7.
 */
function checkTokenType(issuer: TrustedIssuer, typ: unknown, payload: JWTPayload): void {
  const { config, name } = issuer;
  if (config.tokenType === 'access') {
    // jwtVerify already required typ at+jwt; only client restrictions remain.
    if (config.clientIds) {
      const clientId = payload.client_id ?? payload.azp;
      if (typeof clientId !== 'string' || !config.clientIds.includes(clientId)) {
        throw new InvalidTokenError('The token was issued to a client that is not accepted', name);
      }
    }
    return;
  }
  if (isAccessTokenTyp(typ)) {
    throw new InvalidTokenError('An access token was sent where an ID token is expected', name);
  }
  // Other JWTs the same issuer signs for the same client id — back-channel logout tokens
  // (`typ: logout+jwt`, an `events` claim) above all — must not pass for an ID token.
  if ((typ !== undefined && !isPlainJwtTyp(typ)) || payload.events !== undefined) {
    throw new InvalidTokenError('The token is not an ID token', name);
  }
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const azp = payload.azp;
  if (audiences.length > 1 && azp === undefined) {
    throw new InvalidTokenError('An ID token with several audiences must name its authorized party', name);
  }
  if (azp !== undefined && (typeof azp !== 'string' || !config.audiences.includes(azp))) {
    throw new InvalidTokenError('The token authorized party is not accepted', name);
  }
}

const MAX_CACHED = 10_000;
const MAX_CACHED_MS = 5 * 60_000;

export function createBearerTokenVerifier(deps: {
  config: BearerConfig;
  logger: Logger;
  onJwksFetch?: (issuerName: string, outcome: 'success' | 'failure' | 'skipped') => void;
  fetchImpl?: typeof fetch;
}): BearerTokenVerifier {
  const byIssuerUrl = new Map<string, TrustedIssuer[]>();
  for (const [name, config] of Object.entries(deps.config.issuers)) {
    // Opaque tokens (facebook, github, introspection) are src/auth/bearer/opaque/'s.
    if (!isJwtIssuer(config)) continue;
    const getKey = createJwksKeySource({
      name,
      config,
      logger: deps.logger,
      ...(deps.onJwksFetch ? { onFetch: (outcome) => deps.onJwksFetch?.(name, outcome) } : {}),
      ...(deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {}),
    });
    const list = byIssuerUrl.get(config.issuer) ?? [];
    list.push({ name, config, getKey });
    byIssuerUrl.set(config.issuer, list);
  }

  /**
   * Picks the configured entry for a token. The header and payload are read unverified
   * here only to choose which keys and rules to verify with; nothing read here is trusted
   * until jwtVerify has checked the signature with that issuer's keys.
   */
  function route(token: string): { issuer: TrustedIssuer; typ: unknown } {
    let iss: unknown;
    let typ: unknown;
    try {
      iss = decodeJwt(token).iss;
      typ = decodeProtectedHeader(token).typ;
    } catch (error) {
      throw new InvalidTokenError('The token is malformed', undefined, { cause: error });
    }
    const candidates = typeof iss === 'string' ? byIssuerUrl.get(iss) : undefined;
    if (!candidates || candidates.length === 0) {
      throw new InvalidTokenError('The token issuer is not trusted');
    }
    // At most one access and one ID entry per issuer (checkBearerConfig), told apart by typ.
    const wanted = isAccessTokenTyp(typ) ? 'access' : 'id';
    const issuer = candidates.find((candidate) => candidate.config.tokenType === wanted) ?? candidates[0]!;
    return { issuer, typ };
  }

  /**
   * Tokens that verified, kept until they expire (or `MAX_CACHED_MS`, so a key withdrawn from
   * an issuer's JWKS stops being honoured within minutes, as jose's own JWKS cache would). A
   * mobile app sends the same token on every call for its whole lifetime; checking its
   * signature once instead of per request saves an RSA or ECDSA verification each time.
   * Bounded: past `MAX_CACHED` tokens the oldest is forgotten (and simply verified again).
   */
  const verified = new Map<string, { result: VerifiedBearerToken; validUntilMs: number }>();

  function remember(token: string, issuer: TrustedIssuer, payload: JWTPayload, result: VerifiedBearerToken) {
    const { clockToleranceSeconds, maxTokenAgeSeconds } = issuer.config;
    let validUntilMs = Math.min(
      (result.expiresAt.getTime() / 1000 + clockToleranceSeconds) * 1000,
      Date.now() + MAX_CACHED_MS,
    );
    if (maxTokenAgeSeconds !== undefined && typeof payload.iat === 'number') {
      validUntilMs = Math.min(
        validUntilMs,
        (payload.iat + maxTokenAgeSeconds + clockToleranceSeconds) * 1000,
      );
    }
    if (verified.size >= MAX_CACHED) verified.delete(verified.keys().next().value!);
    Object.freeze(result.principal.claims);
    verified.set(token, {
      result: Object.freeze({ ...result, principal: Object.freeze(result.principal) }),
      validUntilMs,
    });
  }

  return {
    async verify(token) {
      const known = verified.get(token);
      if (known) {
        // jose's rule for exp (with the clock tolerance) and maxTokenAge, applied to the cached token.
        if (Date.now() < known.validUntilMs) return known.result;
        verified.delete(token);
      }
      const { issuer, typ } = route(token);
      const { config, name } = issuer;
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, issuer.getKey, {
          issuer: config.issuer,
          audience: config.audiences,
          algorithms: config.algorithms,
          clockTolerance: config.clockToleranceSeconds,
          requiredClaims: ['exp', 'iat', config.claims.subject, ...config.requiredClaims],
          ...(config.tokenType === 'access' ? { typ: 'at+jwt' } : {}),
          ...(config.maxTokenAgeSeconds !== undefined ? { maxTokenAge: config.maxTokenAgeSeconds } : {}),
        }));
      } catch (error) {
        if (error instanceof JwksUnavailableError) throw error;
        if (error instanceof errors.JOSEError) {
          const description =
            error instanceof errors.JWTClaimValidationFailed &&
            error.claim === 'typ' &&
            config.tokenType === 'access'
              ? 'An ID token or untyped JWT was sent where an access token (typ at+jwt) is expected'
              : describeJoseError(error);
          throw new InvalidTokenError(description, name, { cause: error });
        }
        throw error;
      }
      checkTokenType(issuer, typ, payload);
      const principal = principalFromClaims(name, config, payload);
      if (!principal) throw new InvalidTokenError('The token subject claim is missing or empty', name);
      const result: VerifiedBearerToken = {
        principal,
        issuerName: name,
        tokenType: config.tokenType,
        // requiredClaims made exp present and jwtVerify checked it is a number.
        expiresAt: new Date((payload.exp ?? 0) * 1000),
      };
      remember(token, issuer, payload, result);
      return result;
    },
  };
}
