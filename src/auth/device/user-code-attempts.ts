import type { Request } from 'express';
import type { DeviceConfig } from '../../config/portal-schema.ts';
import { RateLimitedError } from '../../http/errors.ts';
import type { AuditLog } from '../../observability/audit.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { StateStore } from '../../store/types.ts';
import { developerUserIdentifier } from '../principal.ts';

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
  const windowMs = windowSeconds * 1000;

  return async (req) => {
    const principal = req.scope.principal;
    const counts = await Promise.all([
      deps.store.hit(`rl:usercode:ip:${req.ip ?? 'unknown'}`, windowMs),
      ...(principal
        ? [deps.store.hit(`rl:usercode:id:${developerUserIdentifier(principal)}`, windowMs)]
        : []),
    ]);
    const over = counts.filter((count) => count.count > points);
    if (over.length === 0) return;
    deps.metrics.rateLimited.inc({ group: 'deviceUserCode' });
    deps.audit.record('rate_limit.exceeded', {
      outcome: 'denied',
      requestId: req.scope.requestId,
      sourceIp: req.ip,
      reason: 'device_user_code',
      ...(principal ? { provider: principal.provider, subject: principal.subject } : {}),
    });
    throw new RateLimitedError(Math.max(...over.map((count) => Math.ceil(count.resetInMs / 1000))));
  };
}
