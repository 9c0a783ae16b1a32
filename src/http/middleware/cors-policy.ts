import cors from 'cors';
import type { RequestHandler } from 'express';

/**
 * CORS only for configured SPA origins, with credentials. Anything else gets no CORS
 * headers, so the browser blocks the read and, because X-CSRF is not a safelisted header,
 * never sends the credentialed request at all.
 */
export function corsPolicy(options: { origins: readonly string[]; maxAgeSeconds: number }): RequestHandler {
  const allowed = new Set(options.origins);
  const policy = cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: [
      'Content-Type',
      'X-CSRF',
      'Authorization',
      'X-Guest-Token',
      'X-Token-Issuer',
      'X-Request-Id',
    ],
    exposedHeaders: ['RateLimit', 'RateLimit-Policy', 'Retry-After', 'X-Request-Id', 'WWW-Authenticate'],
    maxAge: options.maxAgeSeconds,
  });
  // Most requests (mobile apps, same-origin pages, servers) carry no Origin, and the policy
  // would add nothing to them: skip its option handling.
  return (req, res, next) => {
    if (req.headers.origin !== undefined) return policy(req, res, next);
    next();
  };
}
