import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { redactUrl } from '../../observability/logger.ts';

/**
 * One JSON line per request. Only chosen request fields are logged (no headers, no body),
 * and secret query values are replaced, so the access log cannot carry a credential.
 */
export function httpLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: (req) => (req as IncomingMessage & { scope?: { requestId: string } }).scope?.requestId ?? '',
    customLogLevel: (_req, res, error) => {
      if (error || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'info';
      return 'info';
    },
    autoLogging: {
      ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics',
    },
    serializers: {
      req: (req: IncomingMessage & { id?: string; raw?: IncomingMessage }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.url ?? ''),
        userAgent: req.headers?.['user-agent'],
      }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
    // The error handler logs errors itself, with the detail that is safe to keep.
    customErrorObject: (_req, _res, _error, value) => ({ ...value, err: undefined }),
  });
}
