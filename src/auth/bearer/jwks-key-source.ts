import {
  createRemoteJWKSet,
  customFetch,
  errors,
  type FetchImplementation,
  type JWTVerifyGetKey,
} from 'jose';
import type { Logger } from 'pino';
import type { BearerIssuerConfig } from '../../config/bearer-schema.ts';

/**
 * The issuer's keys cannot be fetched right now and the key a token names is not cached.
 * This says nothing about the token, so it must become a 503, never a 401 or a 200.
 */
export class JwksUnavailableError extends Error {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'JwksUnavailableError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Errors that are about the token's key choice, not about reaching the issuer. */
function isKeySelectionError(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSENotSupported
  );
}

export interface JwksKeySourceOptions {
  /** The issuer entry's name, for logs and metrics. */
  name: string;
  config: BearerIssuerConfig;
  logger: Logger;
  /** Called once per network fetch (discovery or JWKS) with its outcome. */
  onFetch?: (outcome: 'success' | 'failure' | 'skipped') => void;
  fetchImpl?: typeof fetch;
}

/**
 * The signing keys of one trusted issuer, for `jwtVerify`. jose's remote JWKS caches the
 * keys (`cacheMaxAge`), refetches once when a token names an unknown `kid`, and refuses to
 * refetch again within `cooldownDuration`, which caps a flood of made-up kids to one fetch
 * per cooldown. On top of it: OpenID discovery of `jwks_uri` when none is configured, and
 * a failure backoff so a client retry storm against a down issuer does not become a fetch
 * storm — during the backoff, tokens whose key is cached still verify; others get 503.
 */
export function createJwksKeySource(options: JwksKeySourceOptions): JWTVerifyGetKey {
  const { name, config, logger } = options;
  const fetchImpl = options.fetchImpl ?? fetch;
  const backoffMs = config.jwks.failureBackoffSeconds * 1000;
  let unavailableUntil = 0;

  function retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((unavailableUntil - Date.now()) / 1000));
  }

  function markFailed(what: string, error: unknown): JwksUnavailableError {
    unavailableUntil = Date.now() + backoffMs;
    options.onFetch?.('failure');
    const reason = error instanceof Error ? error.message : String(error);
    logger.warn({ issuer: name, reason }, `cannot fetch ${what} of bearer issuer`);
    return new JwksUnavailableError(`the ${what} of issuer "${name}" is unavailable`, retryAfterSeconds(), {
      cause: error,
    });
  }

  function guard(what: string): void {
    if (Date.now() < unavailableUntil) {
      options.onFetch?.('skipped');
      throw new JwksUnavailableError(`the ${what} of issuer "${name}" is backing off`, retryAfterSeconds());
    }
  }

  const guardedFetch: FetchImplementation = async (url, init) => {
    guard('signing keys');
    const response = await fetchImpl(url, init);
    if (response.status === 200) options.onFetch?.('success');
    return response;
  };

  async function discoverJwksUri(): Promise<URL> {
    if (config.jwksUri) return new URL(config.jwksUri);
    guard('discovery document');
    const url = `${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await fetchImpl(url, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(config.jwks.timeoutMs),
    });
    if (response.status !== 200) throw new Error(`discovery answered HTTP ${response.status}`);
    const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // OpenID Connect Discovery 1.0 §4.3: the document must name exactly the issuer we asked.
    if (document.issuer !== config.issuer) throw new Error('discovery document names another issuer');
    if (typeof document.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri');
    const jwksUri = new URL(document.jwks_uri);
    if (config.issuer.startsWith('https:') && jwksUri.protocol !== 'https:') {
      throw new Error('discovery document points to a non-https jwks_uri');
    }
    options.onFetch?.('success');
    return jwksUri;
  }

  let remote: Promise<JWTVerifyGetKey> | undefined;
  function remoteKeySet(): Promise<JWTVerifyGetKey> {
    remote ??= discoverJwksUri().then(
      (jwksUri) =>
        createRemoteJWKSet(jwksUri, {
          cacheMaxAge: config.jwks.cacheMaxAgeSeconds * 1000,
          cooldownDuration: config.jwks.cooldownSeconds * 1000,
          timeoutDuration: config.jwks.timeoutMs,
          [customFetch]: guardedFetch,
        }),
      (error: unknown) => {
        // Forget the failed discovery so the next request after the backoff tries again.
        remote = undefined;
        throw error instanceof JwksUnavailableError ? error : markFailed('discovery document', error);
      },
    );
    return remote;
  }

  return async (header, token) => {
    const getKey = await remoteKeySet();
    try {
      return await getKey(header, token);
    } catch (error) {
      if (isKeySelectionError(error) || error instanceof JwksUnavailableError) throw error;
      throw markFailed('signing keys', error);
    }
  };
}
