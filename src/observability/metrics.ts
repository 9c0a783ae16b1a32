import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * One registry per app instance (not prom-client's global), so several apps in one test
 * process or one bench do not share counters. Later capabilities add their own metrics here.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly rateLimited: Counter<'group'>;
}

export function createMetrics(options: { collectProcessMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.collectProcessMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'keywarden_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'keywarden_http_request_duration_seconds',
      help: 'HTTP request duration by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'keywarden_rate_limited_total',
      help: 'Requests refused by a rate limit, by route group',
      labelNames: ['group'],
      registers: [registry],
    }),
  };
}
