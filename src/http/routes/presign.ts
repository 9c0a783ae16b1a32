import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import type { AuditLog } from '../../observability/audit.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type {
  Issued,
  MultipartRequest,
  PresignRequest,
  PresignService,
} from '../../presign/presign-service.ts';
import { BadRequestError, type KeywardenError } from '../errors.ts';
import { jsonBodyOf, validRequest } from '../json-body.ts';
import { sendJson } from '../json-response.ts';
import { requireAuth, requireCsrfHeader } from '../middleware/authenticate.ts';
import { toKeywardenError } from '../middleware/error-handler.ts';
import type { RateLimits } from '../middleware/rate-limit.ts';
import {
  callerAuditFields,
  deniedAuditOutcome,
  noteIdentity,
  vendFailureLabel,
  vendingCallerOf,
} from './vending-caller.ts';

/** Field shapes only; the rules that need config (sizes, types, lifetimes, keys) live in src/presign. */
const key = z.string().max(4_096);
const bucket = z.string().min(1).max(63).optional();
const prefix = z.string().max(1_024).optional();
/** `type/subtype` with optional parameters, printable ASCII only (it becomes a signed header). */
const contentType = z
  .string()
  .max(255)
  .regex(
    /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;\s*[\w!#$&^.+-]+=("[\x20-\x7e]*"|[\w!#$&^.+-]+))*$/,
    'expected type/subtype',
  )
  .optional();
const contentLength = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional();
const expiresIn = z.number().int().optional();
/** S3 upload ids are opaque printable ASCII. */
const uploadId = z
  .string()
  .min(1)
  .max(1_024)
  .regex(/^[\x21-\x7e]+$/, 'expected an upload id');
const partNumber = z.number().int().min(1).max(10_000);

const presignBody = z.strictObject({
  operation: z.enum(['getObject', 'putObject', 'postObject']),
  key,
  bucket,
  prefix,
  contentType,
  contentLength,
  expiresIn,
});

const common = { key, bucket, prefix };
const multipartBody = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('create'), ...common, contentType, contentLength }),
  z.strictObject({
    action: z.literal('signParts'),
    ...common,
    uploadId,
    partNumbers: z.array(z.number()).max(10_000),
    expiresIn,
  }),
  z.strictObject({
    action: z.literal('complete'),
    ...common,
    uploadId,
    parts: z
      .array(
        z.strictObject({
          partNumber,
          etag: z
            .string()
            .min(1)
            .max(256)
            .regex(/^[\x20-\x7e]+$/),
        }),
      )
      .min(1)
      .max(10_000)
      .refine(
        (parts) =>
          parts.every((part, index) => index === 0 || part.partNumber > parts[index - 1]!.partNumber),
        'parts must be in ascending partNumber order without repeats',
      ),
  }),
  z.strictObject({ action: z.literal('abort'), ...common, uploadId }),
  z.strictObject({ action: z.literal('listParts'), ...common, uploadId }),
]);

function parseBody<T>(req: Request, schema: z.ZodType<T>): T {
  const body = jsonBodyOf(req);
  if (body === undefined) throw new BadRequestError('A JSON body is required.', 'invalid_request');
  return validRequest(schema, body, 'The presign request is not valid.');
}

/**
 * POST /presign and POST /presign/multipart: the same chain as /credentials (any caller
 * kind, CSRF header for cookie sessions, per-identity rate limit after authentication).
 * URLs grant access for their lifetime, so nothing here is cached and the audit record holds
 * the bucket and key, never the URL, its signature or the form fields.
 */
export function presignRoutes(deps: {
  service: PresignService;
  rateLimit: RateLimits;
  audit: AuditLog;
  metrics: Metrics;
}): Router {
  const { service, audit, metrics } = deps;
  const router = Router();

  async function handle<T>(
    req: Request,
    res: Response,
    operation: (body: unknown) => string,
    run: () => Promise<Issued<T>>,
  ): Promise<void> {
    const base = callerAuditFields(req);
    const op = operation(req.body);
    try {
      const issued = await run();
      noteIdentity(req, issued.identityId);
      metrics.presigns.inc({ operation: op, outcome: 'issued' });
      audit.record('presign.issued', {
        ...base,
        outcome: 'success',
        identityId: issued.identityId,
        role: issued.role,
        operation: op,
        bucket: issued.bucket,
        key: issued.key,
      });
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Pragma', 'no-cache');
      sendJson(res, issued.result);
    } catch (error) {
      const problem: KeywardenError = toKeywardenError(error);
      metrics.presigns.inc({ operation: op, outcome: vendFailureLabel(problem) });
      // The rejected key is not recorded: it is attacker-chosen text. The reason names the rule.
      const reason = problem.extensions.reason;
      audit.record('presign.denied', {
        ...base,
        outcome: deniedAuditOutcome(problem),
        operation: op,
        reason: typeof reason === 'string' ? `${problem.code}:${reason}` : problem.code,
      });
      throw problem;
    }
  }

  /** A bounded label for metrics and audit, whatever the body holds. */
  const labelOf =
    (field: 'operation' | 'action', allowed: readonly string[], prefixLabel: string) =>
    (body: unknown): string => {
      const value =
        typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
      return typeof value === 'string' && allowed.includes(value)
        ? `${prefixLabel}${value}`
        : `${prefixLabel}unknown`;
    };

  const chain = [requireAuth({ allowGuests: true }), requireCsrfHeader(), deps.rateLimit('presign')];

  router.post('/presign', ...chain, async (req, res) => {
    await handle(req, res, labelOf('operation', ['getObject', 'putObject', 'postObject'], ''), () => {
      const body: PresignRequest = parseBody(req, presignBody);
      return service.presign(vendingCallerOf(req), body);
    });
  });

  router.post('/presign/multipart', ...chain, async (req, res) => {
    await handle(
      req,
      res,
      labelOf('action', ['create', 'signParts', 'complete', 'abort', 'listParts'], 'multipart.'),
      () => {
        const body = parseBody(req, multipartBody) as MultipartRequest;
        return service.multipart(vendingCallerOf(req), body);
      },
    );
  });

  return router;
}
