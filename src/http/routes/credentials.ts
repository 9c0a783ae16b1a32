import { type Request, type RequestHandler, type Response, Router } from 'express';
import { z } from 'zod';
import type { CredentialBroker, IssuedCredentials } from '../../broker/credential-broker.ts';
import type { AuditLog } from '../../observability/audit.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { KeywardenError } from '../errors.ts';
import { jsonBodyOf, validRequest } from '../json-body.ts';
import { sendJson } from '../json-response.ts';
import { requireAuth, requireCsrfHeader } from '../middleware/authenticate.ts';
import { toKeywardenError } from '../middleware/error-handler.ts';
import type { RateLimits } from '../middleware/rate-limit.ts';
import { callerAuditFields, credentialVendRecords, noteIdentity, vendingCallerOf } from './vending-caller.ts';

const NAME = /^[a-zA-Z][\w.-]{0,63}$/;

/** The same parameters in the query (GET) or a JSON body (POST). */
const credentialParams = z.strictObject({
  role: z.string().regex(NAME).optional(),
  scope: z.string().regex(NAME).optional(),
  durationSeconds: z.coerce.number().int().min(1).max(129_600).optional(),
  format: z.enum(['json', 'aws-container', 'credential-process']).default('json'),
});

type CredentialFormat = z.infer<typeof credentialParams>['format'];

/** The three response shapes: keywarden's JSON, the SDK's container provider (`fromHttp`), `credential_process`. */
function render(format: CredentialFormat, issued: IssuedCredentials): Record<string, unknown> {
  const { credentials } = issued;
  const expiration = credentials.expiration.toISOString();
  switch (format) {
    case 'json':
      return {
        identityId: issued.identityId,
        role: issued.role,
        expiration,
        credentials: {
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: credentials.secretAccessKey,
          sessionToken: credentials.sessionToken,
          expiration,
        },
      };
    case 'aws-container':
      return {
        AccessKeyId: credentials.accessKeyId,
        SecretAccessKey: credentials.secretAccessKey,
        Token: credentials.sessionToken,
        Expiration: expiration,
      };
    case 'credential-process':
      return {
        Version: 1,
        AccessKeyId: credentials.accessKeyId,
        SecretAccessKey: credentials.secretAccessKey,
        SessionToken: credentials.sessionToken,
        Expiration: expiration,
      };
  }
}

function parse(req: Request, source: 'query' | 'body'): z.infer<typeof credentialParams> {
  // An empty POST means "all defaults".
  const raw = source === 'query' ? req.query : (jsonBodyOf(req) ?? {});
  return validRequest(credentialParams, raw, 'The credential request parameters are not valid.');
}

/**
 * GET and POST /credentials. Every caller kind may ask (session + X-CSRF, bearer, guest
 * token); the rate limit runs after authentication so per-identity limits apply. The
 * response is never cached by anyone.
 */
export function credentialRoutes(deps: {
  broker: CredentialBroker;
  rateLimit: RateLimits;
  audit: AuditLog;
  metrics: Metrics;
}): Router {
  const { broker } = deps;
  const record = credentialVendRecords(deps);
  const router = Router();

  const handle =
    (source: 'query' | 'body'): RequestHandler =>
    async (req: Request, res: Response) => {
      const base = callerAuditFields(req);
      try {
        const params = parse(req, source);
        const issued = await broker.getCredentials({
          ...vendingCallerOf(req),
          ...(params.role ? { role: params.role } : {}),
          ...(params.scope ? { scope: params.scope } : {}),
          ...(params.durationSeconds !== undefined ? { durationSeconds: params.durationSeconds } : {}),
        });
        noteIdentity(req, issued.identityId);
        record.issued(base, issued);
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('Pragma', 'no-cache');
        sendJson(res, render(params.format, issued));
      } catch (error) {
        const problem: KeywardenError = toKeywardenError(error);
        record.denied(base, problem);
        throw problem;
      }
    };

  const chain = [requireAuth({ allowGuests: true }), requireCsrfHeader(), deps.rateLimit('credentials')];
  router.get('/credentials', ...chain, handle('query'));
  router.post('/credentials', ...chain, handle('body'));
  return router;
}
