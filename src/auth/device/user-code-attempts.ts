import type { Request } from 'express';
import type { DeviceConfig } from '../../config/portal-schema.ts';
import { RateLimitedError } from '../../http/errors.ts';
import { isOverLimit } from '../../http/middleware/rate-limit.ts';
import type { AuditLog } from '../../observability/audit.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { boundedStoreCall } from '../../store/bounded-call.ts';
import type { StateStore } from '../../store/types.ts';
import { developerUserIdentifier } from '../principal.ts';

const TIMEOUT_MS = 1_000;

/**
 * Bounds user-code guessing on the approval page: every lookup or decision costs one point
 * per signed-in user and one per IP (`portal.device.userCodeAttempts`), in the shared store
 * so the bound holds across instances. Over the limit → 429 with Retry-After.
 */
export function userCodeAttempts(deps: {
  store: StateStore;
  config: Readonly<DeviceConfig>;
  metrics: Metrics;
  audit: AuditLog;
}): (req: Request) => Promise<void> {
  const { points, windowSeconds } = deps.config.userCodeAttempts;
  const perUser = deps.store.rateLimiter({
    keyPrefix: 'rl:usercode:id:',
    points,
    durationSeconds: windowSeconds,
  });
  const perIp = deps.store.rateLimiter({
    keyPrefix: 'rl:usercode:ip:',
    points,
    durationSeconds: windowSeconds,
  });

  const consume = (limiter: typeof perUser, key: string) =>
    boundedStoreCall(() => limiter.consume(key), {
      what: 'user code limiter',
      timeoutMs: TIMEOUT_MS,
      passThrough: isOverLimit,
    });

  return async (req) => {
    const principal = req.scope.principal;
    try {
      if (principal) await consume(perUser, developerUserIdentifier(principal));
      await consume(perIp, req.ip ?? 'unknown');
    } catch (error) {
      if (!isOverLimit(error)) throw error;
      deps.metrics.rateLimited.inc({ group: 'deviceUserCode' });
      deps.audit.record('rate_limit.exceeded', {
        outcome: 'denied',
        requestId: req.scope.requestId,
        sourceIp: req.ip,
        reason: 'device_user_code',
        ...(principal ? { provider: principal.provider, subject: principal.subject } : {}),
      });
      throw new RateLimitedError(error.msBeforeNext / 1000);
    }
  };
}
