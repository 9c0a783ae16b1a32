import { type Request, type RequestHandler, Router } from 'express';
import { z } from 'zod';
import type { AdminConfig } from '../config/admin-schema.ts';
import { BadRequestError } from '../http/errors.ts';
import { jsonBodyOf, validRequest } from '../http/json-body.ts';
import { requireCsrfHeader } from '../http/middleware/authenticate.ts';
import type { RateLimits } from '../http/middleware/rate-limit.ts';
import type { UserRef } from '../identity/user-index.ts';
import type { AuditLog } from '../observability/audit.ts';
import { requireAdmin } from './admin-policy.ts';
import type { AdminContext, AdminService } from './admin-service.ts';

/** `provider:subject`: a login provider's (or bearer issuer's) name, then the subject, as Cognito is given it. */
const USER = /^([a-z][a-z0-9-]*):([^\p{Cc}]{1,1024})$/u;

/** The user a path or form names, or 400. */
export function parseUserRef(value: unknown): UserRef {
  const match = typeof value === 'string' ? USER.exec(value) : null;
  if (!match) {
    throw new BadRequestError(
      'Name the user as provider:subject (the login provider, then the subject it gives).',
      'invalid_user',
    );
  }
  return { provider: match[1]!, subject: match[2]! };
}

/** A suspension's end: a time in the future, at most ten years out. */
const until = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value))
  .refine((date) => date.getTime() > Date.now(), 'must be in the future')
  .refine((date) => date.getTime() < Date.now() + 10 * 365 * 86_400_000, 'must be within ten years');

/** Why, in the admin's words (a ticket number); printable text only, kept in the audit trail. */
export const reasonSchema = z
  .string()
  .max(200)
  .regex(/^[^\p{Cc}]*$/u, 'printable text only');

const revokeBody = z.strictObject({ until: until.optional(), reason: reasonSchema.optional() });
const mergeBody = z.strictObject({ into: z.string() });
const emptyBody = z.strictObject({});

/** The admin acting, for the audit trail. */
export function adminContext(req: Request, channel: string): AdminContext {
  const principal = req.scope.principal!;
  return {
    actor: { provider: principal.provider, subject: principal.subject },
    requestId: req.scope.requestId,
    sourceIp: req.scope.sourceIp,
    channel,
  };
}

/**
 * The REST API under `/admin/` (described in openapi/openapi.yaml), for admins only: bearer
 * callers, the keywarden CLI, and browser sessions with `X-CSRF: 1`. Its own rate-limit group
 * (`admin`). Answers are never cached.
 */
export function adminRoutes(deps: {
  service: AdminService;
  config: Readonly<AdminConfig>;
  rateLimit: RateLimits;
  audit: AuditLog;
}): Router {
  const { service } = deps;
  const router = Router();
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
  const chain = [
    noStore,
    deps.rateLimit('admin'),
    requireCsrfHeader(),
    requireAdmin({ config: deps.config, audit: deps.audit }),
  ];
  const body = <T>(req: Request, schema: z.ZodType<T>): T =>
    validRequest(schema, jsonBodyOf(req) ?? {}, 'The request body is not valid.');
  const target = (req: Request) => parseUserRef(req.params.user);

  router.get('/admin/users/:user', ...chain, async (req, res) => {
    res.json(await service.lookup(target(req), adminContext(req, 'api')));
  });

  router.post('/admin/users/:user/revoke', ...chain, async (req, res) => {
    const user = target(req);
    const options = body(req, revokeBody);
    res.json(await service.revoke(user, options, adminContext(req, 'api')));
  });

  router.post('/admin/users/:user/unsuspend', ...chain, async (req, res) => {
    const user = target(req);
    body(req, emptyBody);
    res.json(await service.unsuspend(user, adminContext(req, 'api')));
  });

  router.delete('/admin/users/:user/sessions/:session', ...chain, async (req, res) => {
    await service.revokeSession(target(req), String(req.params.session), adminContext(req, 'api'));
    res.status(204).end();
  });

  router.post('/admin/users/:user/unlink', ...chain, async (req, res) => {
    const user = target(req);
    body(req, emptyBody);
    res.json(await service.unlink(user, adminContext(req, 'api')));
  });

  router.post('/admin/users/:user/merge', ...chain, async (req, res) => {
    const user = target(req);
    const into = parseUserRef(body(req, mergeBody).into);
    res.json(await service.merge(user, into, adminContext(req, 'api')));
  });

  router.delete('/admin/users/:user/identity', ...chain, async (req, res) => {
    res.json(await service.deleteIdentity(target(req), adminContext(req, 'api')));
  });

  return router;
}
