import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { recordLogger, redactUrl } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';

/** Probes and scrapes are not worth a log line each. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * When a response is finished: one JSON access-log line (chosen request fields only: no
 * headers, no body; secret query values masked) and the request's duration in the histogram,
 * labelled by route template, never the raw path.
 */
export function requestLog(deps: { logger: Logger; metrics: Metrics }): RequestHandler {
  const access = recordLogger(deps.logger);
  const { httpDuration } = deps.metrics;
  // One histogram child per (method, route, status), so an observation does not hash its labels.
  const observers = new Map<string, { observe(seconds: number): void }>();
  const observerFor = (method: string, route: string, status: string) => {
    const key = `${method} ${status} ${route}`;
    let observer = observers.get(key);
    if (!observer) {
      observer = httpDuration.labels(method, route, status);
      observers.set(key, observer);
    }
    return observer;
  };
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const elapsedMs = performance.now() - started;
      const status = res.statusCode;
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      observerFor(req.method, route, String(status)).observe(elapsedMs / 1000);
      if (QUIET_PATHS.has(req.originalUrl)) return;
      const level = status >= 500 ? 'error' : 'info';
      if (!access.isLevelEnabled(level)) return;
      access[level](
        {
          req: {
            id: req.scope.requestId,
            method: req.method,
            url: redactUrl(req.originalUrl),
            userAgent: req.headers['user-agent'],
          },
          res: { statusCode: status },
          responseTime: Math.round(elapsedMs),
        },
        'request completed',
      );
    });
    next();
  };
}
