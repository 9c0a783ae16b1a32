import { Router } from 'express';
import type { Metrics } from '../../observability/metrics.ts';
import type { StateStore } from '../../store/types.ts';

export interface Lifecycle {
  /** Set when shutdown begins, so load balancers stop sending new requests. */
  draining: boolean;
}

/** Liveness, readiness and metrics: unauthenticated, unlimited, never cached (securityHeaders' default). */
export function healthRoutes(deps: {
  store: StateStore;
  metrics: Metrics;
  lifecycle: Lifecycle;
  metricsEnabled: boolean;
}): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const checks: Record<string, 'ok' | 'failing'> = { config: 'ok', store: 'ok' };
    try {
      await deps.store.ping();
    } catch {
      checks.store = 'failing';
    }
    if (deps.lifecycle.draining) checks.shutdown = 'failing';
    const ready = Object.values(checks).every((value) => value === 'ok');
    if (!ready) res.setHeader('Retry-After', '5');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });

  if (deps.metricsEnabled) {
    router.get('/metrics', async (_req, res) => {
      res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    });
  }
  return router;
}
