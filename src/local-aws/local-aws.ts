/**
 * A local AWS for development and tests: one HTTP request handler speaking the real wire
 * protocols of Cognito Identity (JSON 1.1), STS and IAM (Query/XML) and S3 (REST/XML, path
 * style), and enforcing SigV4, token and credential expiry, the role's permission policies
 * (with inline policies written through IAM) ∩ the session policy, POST policies and the AWS
 * limits keywarden relies on.
 *
 * It has no server of its own: keywarden mounts it under `/local-aws` in development
 * (local-aws-mount.ts), and the test suite serves it on a loopback port with fault injection
 * around it (test/support/aws-double/).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import { COGNITO_TARGET_PREFIX, CognitoService, redactCognitoInput } from './cognito.ts';
import { IamService, iamErrorXml } from './iam.ts';
import type { IdentityFile } from './identity-file.ts';
import { MemoryObjectStore, type ObjectStore } from './object-store.ts';
import { newRequestId, routeS3, type S3Response, S3Service, s3ErrorResponse } from './s3.ts';
import { type S3CorsRules, s3CorsHeaders, s3Preflight } from './s3-cors.ts';
import type { QueryMap, ReceivedRequest } from './sigv4.ts';
import {
  AwsError,
  COGNITO_ISSUER,
  type LocalAwsState,
  type RoleSettings,
  type StaticCredentials,
} from './state.ts';
import { redactStsParams, StsService, stsErrorXml } from './sts.ts';

export type AwsService = 'cognito' | 'sts' | 'iam' | 's3';

/** One request, recognised: which service and operation, with its parameters minus secrets. */
export interface AwsCall {
  service: AwsService;
  operation: string;
  params: unknown;
}

/** What the test suite wraps around the local AWS (recording, latency, injected faults). */
export interface LocalAwsHooks {
  /** Every recognised request, as it arrives. */
  recordCall?(call: AwsCall): void;
  /**
   * Runs before the operation is served. It may throw an AwsError (answered in the service's
   * own wire format) or end or destroy the response (then nothing more is sent).
   */
  beforeOperation?(call: AwsCall, res: ServerResponse): Promise<void>;
  /**
   * Runs after the operation took effect, before its answer is sent. It may end or destroy the
   * response (then nothing more is sent): a lost answer to a call that succeeded.
   */
  afterOperation?(call: AwsCall, res: ServerResponse): Promise<void>;
}

export interface LocalAwsOptions {
  region: string;
  identityPoolId: string;
  /** The pool's developer provider name (the key of GetOpenIdTokenForDeveloperIdentity's Logins). */
  developerProviderName: string;
  allowUnauthenticated: boolean;
  /** The keys the service (keywarden) signs Cognito and STS calls with. */
  serviceCredentials: StaticCredentials;
  /** Role ARN → settings; AssumeRoleWithWebIdentity refuses any other role. */
  roles: Record<string, RoleSettings>;
  /** GetCredentialsForIdentity (enhanced flow): the pool's roles. */
  poolRoles: { authenticated?: string; unauthenticated?: string };
  buckets: readonly string[];
  /** Default: in memory. */
  objects?: ObjectStore;
  /** Default: identities and credentials are kept in memory only. */
  identityFile?: IdentityFile;
  /**
   * The path the handler is mounted under, as the server sees it (`/local-aws`); requests
   * are routed on what follows it. Default: mounted at the root.
   */
  mountPath?: string;
  /**
   * The path clients put in front of what the server sees (the path of keywarden's public URL,
   * when a proxy strips it). Signatures are checked over the path the client signed.
   */
  publicPathPrefix?: string;
  /** Browser origins allowed to call S3 (presigned PUT/GET from an SPA). */
  cors?: S3CorsRules;
  /** Largest request body taken; larger is refused with EntityTooLarge. */
  maxBodyBytes?: number;
  hooks?: LocalAwsHooks;
  /** Told of any error that is not an AWS error (a bug or an I/O failure); answered as a 500. */
  onUnexpectedError?(error: unknown): void;
}

export interface LocalAws {
  /** The request handler (Node's `(req, res)`, so it mounts in Express as it is). */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  readonly state: LocalAwsState;
  /** JWKS of the key Cognito OpenID tokens are signed with (also served at `<mount>/.well-known/jwks_uri`). */
  readonly jwks: { keys: Array<Record<string, unknown>> };
}

const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * On every S3 answer. Mounted in keywarden, objects are served from keywarden's own origin
 * (real S3 is another origin): an uploaded HTML page opened from a presigned URL must not run
 * as keywarden's origin, so it is sandboxed into an opaque origin, and never type-sniffed.
 */
const S3_CONTENT_HEADERS = { 'content-security-policy': 'sandbox', 'x-content-type-options': 'nosniff' };

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new AwsError(400, 'EntityTooLarge', 'Request body too large for the local AWS'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
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

function send(res: ServerResponse, status: number, headers: Record<string, string>, body?: Buffer | string) {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, headers);
  res.end(body);
}

function sendError(
  res: ServerResponse,
  service: AwsService,
  e: AwsError,
  head: boolean,
  extra: Record<string, string>,
) {
  const requestId = newRequestId();
  if (service === 'cognito') {
    send(
      res,
      e.status,
      {
        ...extra,
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': `${e.code}:`,
      },
      JSON.stringify({ __type: e.code, message: e.message }),
    );
  } else if (service === 'sts' || service === 'iam') {
    send(
      res,
      e.status,
      { ...extra, 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      service === 'sts' ? stsErrorXml(e, requestId) : iamErrorXml(e, requestId),
    );
  } else {
    const r = s3ErrorResponse(e, requestId, head);
    send(res, r.status, { ...extra, ...r.headers }, r.body);
  }
}

export async function createLocalAws(options: LocalAwsOptions): Promise<LocalAws> {
  const { hooks = {} } = options;
  const mountPath = (options.mountPath ?? '').replace(/\/+$/, '');
  const publicPathPrefix = (options.publicPathPrefix ?? '').replace(/\/+$/, '');
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `${options.region}-${randomBytes(4).toString('hex')}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const state: LocalAwsState = {
    region: options.region,
    identityPoolId: options.identityPoolId,
    developerProviderName: options.developerProviderName,
    allowUnauthenticated: options.allowUnauthenticated,
    serviceCredentials: { ...options.serviceCredentials },
    roles: options.roles,
    roleInlinePolicies: new Map(),
    poolRoles: options.poolRoles,
    buckets: new Set(options.buckets),
    identities: new Map(),
    developerUsers: new Map(),
    vended: new Map(),
    uploads: new Map(),
    signingKey: { privateKey, publicKey, kid, jwk },
    clockOffsetMs: 0,
    now: () => Date.now() + state.clockOffsetMs,
  };
  await options.identityFile?.load(state);
  const cognito = new CognitoService(state);
  const sts = new StsService(state);
  const iam = new IamService(state);
  const s3 = new S3Service(state, {
    objects: options.objects ?? new MemoryObjectStore(),
    pathPrefix: `${publicPathPrefix}${mountPath}`,
  });
  // Saved before answering, so that whatever a client was told survives a restart.
  const remember = async () => {
    await options.identityFile?.save(state);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // Express strips its mount path from req.url and keeps the whole URL in originalUrl.
    const fullUrl = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    const qIdx = fullUrl.indexOf('?');
    const fullPath = qIdx < 0 ? fullUrl : fullUrl.slice(0, qIdx);
    const routedPath = fullPath.startsWith(mountPath) ? fullPath.slice(mountPath.length) || '/' : fullPath;
    const query = parseQuery(qIdx < 0 ? '' : fullUrl.slice(qIdx + 1));
    const method = (req.method ?? 'GET').toUpperCase();
    const cors = s3CorsHeaders(options.cors, req.headers.origin);
    let service: AwsService = 's3';
    try {
      if (method === 'OPTIONS') {
        const preflight = s3Preflight(options.cors, req.headers);
        send(res, preflight.status, preflight.headers, preflight.body);
        return;
      }
      const body = await readBody(req, maxBodyBytes);
      const received: ReceivedRequest = {
        method,
        rawPath: `${publicPathPrefix}${fullPath}`,
        query,
        headers: req.headers,
        body,
      };
      const target = req.headers['x-amz-target'];
      const contentType = String(req.headers['content-type'] ?? '').toLowerCase();

      if (
        method === 'GET' &&
        (routedPath === '/.well-known/jwks_uri' || routedPath === '/.well-known/openid-configuration')
      ) {
        const doc =
          routedPath === '/.well-known/jwks_uri'
            ? { keys: [state.signingKey.jwk] }
            : {
                issuer: COGNITO_ISSUER,
                jwks_uri: `http://${req.headers.host ?? 'localhost'}${publicPathPrefix}${mountPath}/.well-known/jwks_uri`,
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
          hooks.recordCall?.({ service, operation, params: null });
          throw new AwsError(400, 'SerializationException', 'Request body is not valid JSON.');
        }
        const call = { service, operation, params: redactCognitoInput(input) };
        hooks.recordCall?.(call);
        await hooks.beforeOperation?.(call, res);
        if (res.writableEnded || res.destroyed) return;
        if (!target.startsWith(COGNITO_TARGET_PREFIX)) {
          throw new AwsError(400, 'UnknownOperationException', `Unknown target ${target}`);
        }
        const result = await cognito.handle(operation, input, received);
        await remember();
        await hooks.afterOperation?.(call, res);
        if (res.writableEnded || res.destroyed) return;
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
        routedPath === '/' &&
        contentType.startsWith('application/x-www-form-urlencoded')
      ) {
        // STS and IAM share the Query protocol and the path; the signature's scope names the service.
        const scope = /Credential=[^/,]+\/\d{8}\/([^/,]+)\/([^/,]+)\//.exec(
          String(req.headers.authorization ?? ''),
        );
        service = scope?.[2] === 'iam' ? 'iam' : 'sts';
        const params = new URLSearchParams(body.toString('utf8'));
        const call = { service, operation: params.get('Action') ?? '', params: redactStsParams(params) };
        hooks.recordCall?.(call);
        await hooks.beforeOperation?.(call, res);
        if (res.writableEnded || res.destroyed) return;
        const xml =
          service === 'iam'
            ? await iam.handle(call.operation, params, received, scope?.[1] ?? state.region)
            : await sts.handle(call.operation, params, received);
        await remember();
        await hooks.afterOperation?.(call, res);
        if (res.writableEnded || res.destroyed) return;
        send(res, 200, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() }, xml);
        return;
      }

      service = 's3';
      const route = routeS3(method, routedPath, query, contentType);
      const safeQuery: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(query)) {
        const lk = k.toLowerCase();
        if (lk === 'x-amz-signature' || lk === 'x-amz-security-token') continue;
        safeQuery[k] = v;
      }
      const credential = (query['X-Amz-Credential'] ??
        /Credential=([^/,]+)/.exec(String(req.headers.authorization ?? ''))?.[1]) as string | undefined;
      const call = {
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
      };
      hooks.recordCall?.(call);
      await hooks.beforeOperation?.(call, res);
      if (res.writableEnded || res.destroyed) return;
      const r: S3Response = await s3.handle(received, route);
      await hooks.afterOperation?.(call, res);
      if (res.writableEnded || res.destroyed) return;
      send(
        res,
        r.status,
        { ...cors, ...S3_CONTENT_HEADERS, 'x-amz-request-id': newRequestId(), ...r.headers },
        method === 'HEAD' ? undefined : r.body,
      );
    } catch (e) {
      const err =
        e instanceof AwsError
          ? e
          : new AwsError(
              500,
              service === 'cognito' ? 'InternalErrorException' : 'InternalError',
              'We encountered an internal error. Please try again.',
            );
      // A client that hangs up mid-body (an aborted upload) is ordinary traffic, not a bug.
      if (!(e instanceof AwsError) && !req.readableAborted) options.onUnexpectedError?.(e);
      sendError(
        res,
        service,
        err,
        method === 'HEAD',
        service === 's3' ? { ...cors, ...S3_CONTENT_HEADERS } : {},
      );
    }
  };

  return {
    handle: (req, res) => {
      void handle(req, res);
    },
    state,
    jwks: { keys: [state.signingKey.jwk as Record<string, unknown>] },
  };
}
