/**
 * AWS test double for keywarden: one HTTP server on 127.0.0.1 speaking the real wire protocols of
 * Cognito Identity (JSON 1.1), STS (Query/XML) and S3 (REST/XML, path style), enforcing SigV4, tokens,
 * expirations, session policies and POST policies the way AWS documents them.
 *
 * Usage:
 *   const aws = await startAwsDouble({ buckets: ['uploads'] });
 *   new CognitoIdentityClient({ endpoint: aws.url, region: aws.region, credentials: DEFAULT_SERVICE_CREDENTIALS });
 *   new STSClient({ endpoint: aws.url, region: aws.region });
 *   new S3Client({ endpoint: aws.url, region: aws.region, forcePathStyle: true, credentials: vended });
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import { COGNITO_TARGET_PREFIX, CognitoService, redactCognitoInput } from './cognito.ts';
import { newRequestId, routeS3, type S3Response, S3Service, s3ErrorResponse } from './s3.ts';
import type { QueryMap, ReceivedRequest } from './sigv4.ts';
import {
  ACCOUNT_ID,
  AwsError,
  COGNITO_ISSUER,
  type DoubleState,
  type MultipartUpload,
  type RoleSettings,
  type StoredObject,
  type VendedCredentials,
} from './state.ts';
import { redactStsParams, StsService, stsErrorXml } from './sts.ts';

export type { PolicyDocument, PolicyStatement } from './policy.ts';
export { evaluatePolicy, parsePolicy } from './policy.ts';
export type { IdentityRecord, MultipartUpload, StoredObject, VendedCredentials } from './state.ts';
export { ACCOUNT_ID };

export const DEFAULT_SERVICE_CREDENTIALS: { accessKeyId: string; secretAccessKey: string } = {
  accessKeyId: 'AKIAKEYWARDENTEST001',
  secretAccessKey: 'kEyWaRdEn/TeSt/SeRvIcE/SeCrEt/0000000000',
};
export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_IDENTITY_POOL_ID = 'us-east-1:00000000-0000-4000-8000-000000000000';
export const DEFAULT_DEVELOPER_PROVIDER_NAME = 'login.keywarden.test';
export const DEFAULT_AUTHENTICATED_ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/keywarden-authenticated`;
export const DEFAULT_UNAUTHENTICATED_ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/keywarden-unauthenticated`;
export const DEFAULT_BUCKET = 'keywarden-test-bucket';

export interface AwsDoubleOptions {
  region?: string; // default 'us-east-1'
  identityPoolId?: string; // default 'us-east-1:00000000-0000-4000-8000-000000000000'
  developerProviderName?: string; // default 'login.keywarden.test'
  allowUnauthenticated?: boolean; // default true
  /** the keys keywarden signs Cognito/STS calls with; default DEFAULT_SERVICE_CREDENTIALS */
  serviceCredentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * role ARN -> settings; unknown role ARN in AssumeRoleWithWebIdentity -> AccessDenied.
   * Default: DEFAULT_AUTHENTICATED_ROLE_ARN and DEFAULT_UNAUTHENTICATED_ROLE_ARN, maxSessionDuration 3600.
   */
  roles?: Record<string, { maxSessionDuration: number; trustsPool?: boolean }>;
  /** for GetCredentialsForIdentity (enhanced flow); default: the two default roles (when `roles` is not given) */
  poolRoles?: { authenticated?: string; unauthenticated?: string };
  /** S3 buckets that exist; default [DEFAULT_BUCKET] */
  buckets?: string[];
}

export type AwsService = 'cognito' | 'sts' | 's3';
export type FaultKind = 'throttle' | 'internal' | 'notAuthorized' | 'timeout';

export interface AwsDouble {
  url: string; // http://127.0.0.1:<port>
  region: string;
  identityPoolId: string;
  /** every request received (params WITHOUT secrets) */
  calls: Array<{ service: AwsService; operation: string; params: unknown; at: number }>;
  /**
   * Inject faults into the next `count` (default 1) calls of `operation` (e.g. 'GetOpenIdTokenForDeveloperIdentity',
   * 'AssumeRoleWithWebIdentity', 'PutObject'): throttle => 400 TooManyRequestsException (Cognito) / Throttling
   * (STS) / 503 SlowDown (S3); internal => 500; notAuthorized => NotAuthorizedException (Cognito) / AccessDenied
   * (STS, S3); timeout => the response is held until the client gives up (or close()/reset()).
   */
  failNext(operation: string, error: FaultKind, count?: number): void;
  /** artificial delay on every response */
  setLatency(ms: number): void;
  /** key `${bucket}/${key}` */
  objects: Map<string, StoredObject>;
  /** multipart uploads in progress (created, neither completed nor aborted), by upload id */
  uploads: Map<string, MultipartUpload>;
  /** forget calls, faults, latency (not identities, credentials or objects) */
  reset(): void;
  close(): Promise<void>;
  // ---- extras beyond the required API ----
  /** every credential set vended (access key id -> record incl. parsed session policy) */
  credentials: Map<string, VendedCredentials>;
  /** shift the double's clock (token/credential/presigned-URL/POST-policy expiry); SigV4 clock skew uses real time */
  advanceClock(ms: number): void;
  /** JWKS of the key the double signs Cognito OpenID tokens with (also served at `${url}/.well-known/jwks_uri`) */
  jwks: { keys: Array<Record<string, unknown>> };
}

interface Fault {
  kind: FaultKind;
  remaining: number;
}

const MAX_BODY = 64 * 1024 * 1024;
const HOLD_MS = 5 * 60 * 1000;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new AwsError(400, 'EntityTooLarge', 'Request body too large for the AWS test double'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseQuery(raw: string): QueryMap {
  const out: QueryMap = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startAwsDouble(opts: AwsDoubleOptions = {}): Promise<AwsDouble> {
  const region = opts.region ?? DEFAULT_REGION;
  const roles: Record<string, RoleSettings> = opts.roles ?? {
    [DEFAULT_AUTHENTICATED_ROLE_ARN]: { maxSessionDuration: 3600 },
    [DEFAULT_UNAUTHENTICATED_ROLE_ARN]: { maxSessionDuration: 3600 },
  };
  const poolRoles =
    opts.poolRoles ??
    (opts.roles
      ? {}
      : { authenticated: DEFAULT_AUTHENTICATED_ROLE_ARN, unauthenticated: DEFAULT_UNAUTHENTICATED_ROLE_ARN });
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `${region}-${randomBytes(4).toString('hex')}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const state: DoubleState = {
    region,
    identityPoolId: opts.identityPoolId ?? DEFAULT_IDENTITY_POOL_ID,
    developerProviderName: opts.developerProviderName ?? DEFAULT_DEVELOPER_PROVIDER_NAME,
    allowUnauthenticated: opts.allowUnauthenticated ?? true,
    serviceCredentials: { ...(opts.serviceCredentials ?? DEFAULT_SERVICE_CREDENTIALS) },
    roles,
    poolRoles,
    buckets: new Set(opts.buckets ?? [DEFAULT_BUCKET]),
    identities: new Map(),
    developerUsers: new Map(),
    vended: new Map(),
    objects: new Map(),
    uploads: new Map(),
    signingKey: { privateKey, publicKey, kid, jwk },
    clockOffsetMs: 0,
    now: () => Date.now() + state.clockOffsetMs,
  };
  const cognito = new CognitoService(state);
  const sts = new StsService(state);
  const s3 = new S3Service(state);

  const calls: AwsDouble['calls'] = [];
  let faults = new Map<string, Fault>();
  let latencyMs = 0;
  const held = new Set<() => void>();

  const takeFault = (operation: string): FaultKind | undefined => {
    const f = faults.get(operation);
    if (!f) return undefined;
    f.remaining--;
    if (f.remaining <= 0) faults.delete(operation);
    return f.kind;
  };

  /** Holds the response until the client disconnects, the double is closed/reset, or HOLD_MS passes. */
  const hold = (res: ServerResponse) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        held.delete(done);
        resolve();
      };
      const timer = setTimeout(done, HOLD_MS);
      held.add(done);
      res.on('close', done);
    });

  const faultError = (service: AwsService, kind: Exclude<FaultKind, 'timeout'>): AwsError => {
    if (kind === 'throttle') {
      if (service === 'cognito') return new AwsError(400, 'TooManyRequestsException', 'Rate exceeded');
      if (service === 'sts') return new AwsError(400, 'Throttling', 'Rate exceeded');
      return new AwsError(503, 'SlowDown', 'Please reduce your request rate.');
    }
    if (kind === 'internal') {
      if (service === 'cognito')
        return new AwsError(500, 'InternalErrorException', 'An internal error occurred (injected).');
      if (service === 'sts')
        return new AwsError(500, 'InternalFailure', 'An internal error occurred (injected).');
      return new AwsError(500, 'InternalError', 'We encountered an internal error. Please try again.');
    }
    if (service === 'cognito')
      return new AwsError(400, 'NotAuthorizedException', 'Not authorized (injected).');
    if (service === 'sts')
      return new AwsError(403, 'AccessDenied', 'Not authorized to perform this action (injected).');
    return new AwsError(403, 'AccessDenied', 'Access Denied');
  };

  const send = (
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body?: Buffer | string,
  ) => {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, headers);
    res.end(body);
  };

  const sendError = (res: ServerResponse, service: AwsService, e: AwsError, head: boolean) => {
    const requestId = newRequestId();
    if (service === 'cognito') {
      send(
        res,
        e.status,
        {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': requestId,
          'x-amzn-errortype': `${e.code}:`,
        },
        JSON.stringify({ __type: e.code, message: e.message }),
      );
    } else if (service === 'sts') {
      send(
        res,
        e.status,
        { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        stsErrorXml(e, requestId),
      );
    } else {
      const r = s3ErrorResponse(e, requestId, head);
      send(res, r.status, r.headers, r.body);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const rawUrl = req.url ?? '/';
    const qIdx = rawUrl.indexOf('?');
    const rawPath = qIdx < 0 ? rawUrl : rawUrl.slice(0, qIdx);
    const query = parseQuery(qIdx < 0 ? '' : rawUrl.slice(qIdx + 1));
    const method = (req.method ?? 'GET').toUpperCase();
    let service: AwsService = 's3';
    try {
      const body = await readBody(req);
      const received: ReceivedRequest = { method, rawPath, query, headers: req.headers, body };
      const target = req.headers['x-amz-target'];
      const contentType = String(req.headers['content-type'] ?? '').toLowerCase();

      if (
        method === 'GET' &&
        (rawPath === '/.well-known/jwks_uri' || rawPath === '/.well-known/openid-configuration')
      ) {
        const doc =
          rawPath === '/.well-known/jwks_uri'
            ? { keys: [state.signingKey.jwk] }
            : {
                issuer: COGNITO_ISSUER,
                jwks_uri: `${url}/.well-known/jwks_uri`,
                id_token_signing_alg_values_supported: ['RS256'],
              };
        send(res, 200, { 'content-type': 'application/json' }, JSON.stringify(doc));
        return;
      }

      if (typeof target === 'string') {
        service = 'cognito';
        const operation = target.startsWith(COGNITO_TARGET_PREFIX)
          ? target.slice(COGNITO_TARGET_PREFIX.length)
          : target;
        let input: Record<string, unknown> = {};
        try {
          const parsed: unknown = body.length ? JSON.parse(body.toString('utf8')) : {};
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
            input = parsed as Record<string, unknown>;
        } catch {
          calls.push({ service, operation, params: null, at: Date.now() });
          throw new AwsError(400, 'SerializationException', 'Request body is not valid JSON.');
        }
        calls.push({ service, operation, params: redactCognitoInput(input), at: Date.now() });
        await before(res, service, operation);
        if (res.writableEnded || res.destroyed) return;
        if (!target.startsWith(COGNITO_TARGET_PREFIX)) {
          throw new AwsError(400, 'UnknownOperationException', `Unknown target ${target}`);
        }
        const result = await cognito.handle(operation, input, received);
        send(
          res,
          200,
          { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() },
          JSON.stringify(result),
        );
        return;
      }

      if (
        method === 'POST' &&
        rawPath === '/' &&
        contentType.startsWith('application/x-www-form-urlencoded')
      ) {
        service = 'sts';
        const params = new URLSearchParams(body.toString('utf8'));
        const action = params.get('Action') ?? '';
        calls.push({ service, operation: action, params: redactStsParams(params), at: Date.now() });
        await before(res, service, action);
        if (res.writableEnded || res.destroyed) return;
        const xml = await sts.handle(action, params, received);
        send(res, 200, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() }, xml);
        return;
      }

      service = 's3';
      const route = routeS3(method, rawPath, query, contentType);
      const safeQuery: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(query)) {
        const lk = k.toLowerCase();
        if (lk === 'x-amz-signature' || lk === 'x-amz-security-token') continue;
        safeQuery[k] = v;
      }
      const credential = (query['X-Amz-Credential'] ??
        /Credential=([^/,]+)/.exec(String(req.headers.authorization ?? ''))?.[1]) as string | undefined;
      calls.push({
        service,
        operation: route.operation,
        params: {
          bucket: route.bucket,
          key: route.key,
          query: safeQuery,
          presigned: query['X-Amz-Signature'] !== undefined,
          accessKeyId: credential?.split('/')[0],
          contentLength: body.length,
        },
        at: Date.now(),
      });
      await before(res, service, route.operation);
      if (res.writableEnded || res.destroyed) return;
      const r: S3Response = await s3.handle(received, route);
      send(
        res,
        r.status,
        { 'x-amz-request-id': newRequestId(), ...r.headers },
        method === 'HEAD' ? undefined : r.body,
      );
    } catch (e) {
      const err =
        e instanceof AwsError
          ? e
          : new AwsError(
              500,
              service === 'cognito' ? 'InternalErrorException' : 'InternalError',
              (e as Error)?.message ?? String(e),
            );
      // A client that hangs up mid-body (an aborted upload) is ordinary traffic, not a double bug.
      if (!(e instanceof AwsError) && !req.readableAborted) console.error('[aws-double] unexpected error', e);
      sendError(res, service, err, method === 'HEAD');
    }
  };

  /** latency + fault injection, applied after the call is recorded */
  const before = async (res: ServerResponse, service: AwsService, operation: string) => {
    if (latencyMs > 0) await sleep(latencyMs);
    const fault = takeFault(operation);
    if (!fault) return;
    if (fault === 'timeout') {
      await hold(res);
      if (!res.writableEnded && !res.destroyed) res.destroy();
      return;
    }
    throw faultError(service, fault);
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  const releaseHeld = () => {
    for (const done of [...held]) done();
  };

  return {
    url,
    region,
    identityPoolId: state.identityPoolId,
    calls,
    objects: state.objects,
    uploads: state.uploads,
    credentials: state.vended,
    jwks: { keys: [state.signingKey.jwk as Record<string, unknown>] },
    failNext(operation, error, count = 1) {
      faults.set(operation, { kind: error, remaining: count });
    },
    setLatency(ms) {
      latencyMs = Math.max(0, ms);
    },
    advanceClock(ms) {
      state.clockOffsetMs += ms;
    },
    reset() {
      calls.length = 0;
      faults = new Map();
      latencyMs = 0;
      releaseHeld();
    },
    async close() {
      releaseHeld();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
