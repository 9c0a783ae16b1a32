import type { RequestHandler, Response } from 'express';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { developerUserIdentifier } from '../../auth/principal.ts';
import type { Config } from '../../config/schema.ts';
import type { AuditLog } from '../../observability/audit.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { boundedStoreCall } from '../../store/bounded-call.ts';
import type { StateStore } from '../../store/types.ts';
import { RateLimitedError } from '../errors.ts';

interface Limit {
  readonly limiter: RateLimiterAbstract;
  readonly points: number;
  readonly windowSeconds: number;
}

interface GroupLimits {
  readonly perIp: Limit;
  readonly perIdentity?: Limit;
}

/** A limiter's consume() rejects with a RateLimiterRes when over the limit, and with an Error when the store fails. */
export function isOverLimit(error: unknown): error is RateLimiterRes {
  return error instanceof RateLimiterRes;
}

/** Middleware for a configured route group; identity limits apply once a principal is known. */
export type RateLimits = (group: string) => RequestHandler;

function buildLimit(
  store: StateStore,
  keyPrefix: string,
  rule: { points: number; windowSeconds: number },
): Limit {
  return {
    limiter: store.rateLimiter({ keyPrefix, points: rule.points, durationSeconds: rule.windowSeconds }),
    points: rule.points,
    windowSeconds: rule.windowSeconds,
  };
}

/** IETF RateLimit / RateLimit-Policy fields (draft-ietf-httpapi-ratelimit-headers), structured-field form. */
function setHeaders(res: Response, name: string, limit: Limit, result: RateLimiterRes): void {
  res.setHeader('RateLimit-Policy', `"${name}";q=${limit.points};w=${limit.windowSeconds}`);
  res.setHeader(
    'RateLimit',
    `"${name}";r=${result.remainingPoints};t=${Math.ceil(result.msBeforeNext / 1000)}`,
  );
}

export function createRateLimits(deps: {
  config: Readonly<Config>;
  store: StateStore;
  metrics: Metrics;
  audit: AuditLog;
}): RateLimits {
  const { config, store, metrics, audit } = deps;
  const groups = new Map<string, GroupLimits>();
  for (const [name, group] of Object.entries(config.rateLimit.groups)) {
    groups.set(name, {
      perIp: buildLimit(store, `rl:${name}:ip:`, group.perIp),
      ...(group.perIdentity ? { perIdentity: buildLimit(store, `rl:${name}:id:`, group.perIdentity) } : {}),
    });
  }
  // The limiter talks to the store directly; bound it like any other store call.
  const timeoutMs = store.kind === 'redis' ? config.store.redis.commandTimeoutMs : 1_000;

  function consume(limit: Limit, key: string): Promise<RateLimiterRes> {
    return boundedStoreCall(() => limit.limiter.consume(key), {
      what: 'rate limiter',
      timeoutMs,
      passThrough: isOverLimit,
    });
  }

  return (name) => {
    const group = groups.get(name);
    if (!group) throw new Error(`rate limit group "${name}" is not configured`);
    return async (req, res, next) => {
      if (!config.rateLimit.enabled) return next();
      const checks: Array<[Limit, string, string]> = [[group.perIp, req.ip ?? 'unknown', `${name}`]];
      const principal = req.scope.principal;
      if (group.perIdentity && principal) {
        checks.push([group.perIdentity, developerUserIdentifier(principal), `${name}-identity`]);
      }
      try {
        for (const [limit, key, policy] of checks) {
          const result = await consume(limit, key);
          setHeaders(res, policy, limit, result);
        }
        next();
      } catch (error) {
        if (error instanceof RateLimiterRes) {
          metrics.rateLimited.inc({ group: name });
          audit.record('rate_limit.exceeded', {
            outcome: 'denied',
            requestId: req.scope.requestId,
            sourceIp: req.ip,
            reason: name,
            ...(principal ? { provider: principal.provider, subject: principal.subject } : {}),
          });
          next(new RateLimitedError(error.msBeforeNext / 1000));
          return;
        }
        next(error);
      }
    };
  };
}
