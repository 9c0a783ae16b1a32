import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

// An incoming id is kept only if it is short and plain, so it cannot inject into logs or headers.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Gives every request an id (the caller's, if sane) and the typed per-request scope. */
export function requestScope(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
    req.scope = { requestId, sourceIp: req.ip };
    res.setHeader('X-Request-Id', requestId);
    next();
  };
}
