import type { Response } from 'express';

/**
 * Answers `body` as JSON. What `res.json` does for keywarden's answers, without what they never
 * need (a replacer, spacing, a content-type lookup, freshness checks): the routes every client
 * calls most use this.
 */
export function sendJson(res: Response, body: unknown, status = 200): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}
