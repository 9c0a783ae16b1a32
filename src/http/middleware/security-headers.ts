import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * helmet's protective headers, plus `Cache-Control: no-store` as the default for every answer
 * (routes that may be cached, such as the portal's static assets, say so themselves).
 *
 * helmet's default headers do not depend on the request, so they are worked out once, by
 * running helmet against a recording response at start-up, and set from that list: helmet's
 * twelve middleware per request cost more than the rest of a cached credential answer's
 * headers. test/http-core.test.ts checks that the list stays what helmet itself sets.
 */
export function securityHeaders(): RequestHandler {
  const headers = helmetDefaultHeaders();
  headers.push(['Cache-Control', 'no-store']);
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

/** What `helmet()` sets on a response, in order. */
export function helmetDefaultHeaders(): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.push([name, String(value)]);
      return recorder;
    },
    removeHeader() {},
    getHeader: () => undefined,
  };
  let finished = false;
  helmet()({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    finished = true;
  });
  // helmet's default middleware are synchronous; if a version ever is not, fail at start-up.
  if (!finished) throw new Error('helmet did not finish synchronously; its headers cannot be precomputed');
  return headers;
}
