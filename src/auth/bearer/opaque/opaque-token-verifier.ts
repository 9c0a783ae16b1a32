import type { Logger } from 'pino';
import type { OpaqueIssuerConfig } from '../../../config/bearer-schema.ts';
import type { StateStore } from '../../../store/types.ts';
import { principalFromDocument } from '../../document-claims.ts';
import type { Principal } from '../../principal.ts';
import { ProviderUnavailableError } from '../../provider-errors.ts';
import { InvalidTokenError } from '../token-verifier.ts';
import { FacebookTokenCheck } from './facebook-debug-token.ts';
import { GithubTokenCheck } from './github-token-check.ts';
import { OpaqueTokenCache } from './opaque-token-cache.ts';
import type { TokenCheck } from './token-check.ts';
import { IntrospectionTokenCheck } from './token-introspection.ts';

/** No provider issues tokens this long; a longer value is refused without a call. */
const MAX_TOKEN_LENGTH = 4_096;

export interface VerifiedOpaqueToken {
  readonly principal: Principal;
  readonly issuerName: string;
  /** When the provider gave the token an expiry. */
  readonly expiresAt?: Date;
}

export interface OpaqueTokenVerifier {
  /**
   * The principal behind `token` according to the named issuer entry; rejects with
   * InvalidTokenError (→ 401) or ProviderUnavailableError (→ 503).
   */
  verify(token: string, issuerName: string): Promise<VerifiedOpaqueToken>;
}

interface OpaqueIssuer {
  readonly name: string;
  readonly config: OpaqueIssuerConfig;
  readonly check: TokenCheck;
  /** After an outage, calls wait until then (a retry storm must not become a call storm). */
  unavailableUntil: number;
  /** Checks in flight in this process, by cache key: a burst with one new token costs one call. */
  readonly inflight: Map<string, Promise<VerifiedOpaqueToken>>;
}

function tokenCheckFor(
  name: string,
  config: OpaqueIssuerConfig,
  deps: { logger: Logger; production: boolean },
): TokenCheck {
  switch (config.kind) {
    case 'facebook':
      return new FacebookTokenCheck(name, config, deps);
    case 'github':
      return new GithubTokenCheck(name, config, deps);
    case 'introspection':
      return new IntrospectionTokenCheck(name, config, deps);
  }
}

/**
 * Bearer tokens that are not JWTs — Facebook and GitHub user tokens from mobile SDKs, opaque
 * access tokens of enterprise IdPs — checked by asking their provider (src/auth/bearer/opaque/*),
 * with the answer cached in the shared store (opaque-token-cache.ts). The principal is built
 * from the provider's user document with the same mapping as the browser sign-in of that
 * provider, so `<provider>:<subject>` is the same identity on the web and in the app.
 */
export function createOpaqueTokenVerifier(deps: {
  issuers: Readonly<Record<string, OpaqueIssuerConfig>>;
  store: StateStore;
  logger: Logger;
  production: boolean;
}): OpaqueTokenVerifier {
  const cache = new OpaqueTokenCache(deps.store);
  const issuers = new Map<string, OpaqueIssuer>();
  for (const [name, config] of Object.entries(deps.issuers)) {
    issuers.set(name, {
      name,
      config,
      check: tokenCheckFor(name, config, deps),
      unavailableUntil: 0,
      inflight: new Map(),
    });
  }

  async function checkAndRemember(
    issuer: OpaqueIssuer,
    token: string,
    key: string,
  ): Promise<VerifiedOpaqueToken> {
    const { config, name } = issuer;
    const remember = (verdict: Parameters<OpaqueTokenCache['set']>[1], ttlMs: number) =>
      // The verdict stands whether or not it could be remembered.
      cache.set(key, verdict, ttlMs).catch((error: unknown) => {
        deps.logger.warn(
          { issuer: name, reason: (error as Error).message },
          'opaque token verdict not cached',
        );
      });
    try {
      const checked = await issuer.check.check(token);
      const principal = principalFromDocument(config.provider ?? name, config.claims, checked.document);
      // The mapping must find the very subject the provider's check vouched for.
      if (!principal || principal.subject !== checked.subject) {
        throw new InvalidTokenError('The token owner has no usable id', name);
      }
      const lifetimeMs =
        checked.expiresAt === undefined ? Number.POSITIVE_INFINITY : checked.expiresAt - Date.now();
      await remember(
        {
          valid: true,
          principal,
          ...(checked.expiresAt !== undefined ? { expiresAt: checked.expiresAt } : {}),
        },
        Math.min(config.cache.maxSeconds * 1000, lifetimeMs),
      );
      return {
        principal,
        issuerName: name,
        ...(checked.expiresAt !== undefined ? { expiresAt: new Date(checked.expiresAt) } : {}),
      };
    } catch (error) {
      if (error instanceof InvalidTokenError) {
        await remember({ valid: false, description: error.description }, config.cache.negativeSeconds * 1000);
      } else if (error instanceof ProviderUnavailableError) {
        issuer.unavailableUntil = Date.now() + config.failureBackoffSeconds * 1000;
        deps.logger.warn({ issuer: name, reason: error.message }, 'opaque bearer token could not be checked');
      }
      throw error;
    }
  }

  return {
    async verify(token, issuerName) {
      const issuer = issuers.get(issuerName);
      if (!issuer) throw new InvalidTokenError('The named token issuer is not configured');
      if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('The token is malformed', issuerName);
      const key = cache.key(issuerName, token);
      const cached = await cache.get(key);
      if (cached?.valid) {
        return {
          principal: cached.principal,
          issuerName,
          ...(cached.expiresAt !== undefined ? { expiresAt: new Date(cached.expiresAt) } : {}),
        };
      }
      if (cached) throw new InvalidTokenError(cached.description, issuerName);
      const waitMs = issuer.unavailableUntil - Date.now();
      if (waitMs > 0) {
        throw new ProviderUnavailableError(
          `${issuerName} is backing off after an outage`,
          Math.ceil(waitMs / 1000),
        );
      }
      const running = issuer.inflight.get(key);
      if (running) return running;
      const checking = checkAndRemember(issuer, token, key).finally(() => issuer.inflight.delete(key));
      issuer.inflight.set(key, checking);
      return checking;
    },
  };
}
