/**
 * AWS test double for keywarden: the local AWS (src/local-aws/, which speaks the real wire
 * protocols of Cognito Identity, STS and S3 and enforces SigV4, tokens, expirations, role and
 * session policies and POST policies the way AWS documents them) served on 127.0.0.1, with what
 * only tests need around it: a record of every call, injected faults and latency, a movable clock.
 *
 * Usage:
 *   const aws = await startAwsDouble({ buckets: ['uploads'] });
 *   new CognitoIdentityClient({ endpoint: aws.url, region: aws.region, credentials: DEFAULT_SERVICE_CREDENTIALS });
 *   new STSClient({ endpoint: aws.url, region: aws.region });
 *   new S3Client({ endpoint: aws.url, region: aws.region, forcePathStyle: true, credentials: vended });
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AwsCall, type AwsService, createLocalAws } from '../../../src/local-aws/local-aws.ts';
import { MemoryObjectStore, type StoredObject } from '../../../src/local-aws/object-store.ts';
import {
  ACCOUNT_ID,
  AwsError,
  type IdentityRecord,
  type MultipartUpload,
  type RoleSettings,
  type VendedCredentials,
} from '../../../src/local-aws/state.ts';

export type { StoredObject } from '../../../src/local-aws/object-store.ts';
export type { PolicyDocument, PolicyStatement } from '../../../src/local-aws/policy.ts';
export { evaluatePolicy, parsePolicy } from '../../../src/local-aws/policy.ts';
export type { IdentityRecord, MultipartUpload, VendedCredentials } from '../../../src/local-aws/state.ts';
export type { AwsService };
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
  roles?: Record<string, RoleSettings>;
  /** for GetCredentialsForIdentity (enhanced flow); default: the two default roles (when `roles` is not given) */
  poolRoles?: { authenticated?: string; unauthenticated?: string };
  /** S3 buckets that exist; default [DEFAULT_BUCKET] */
  buckets?: string[];
}

export type FaultKind = 'throttle' | 'internal' | 'notAuthorized' | 'timeout' | 'lostAnswer';

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
   * (STS, S3); timeout => the response is held until the client gives up (or close()/reset());
   * lostAnswer => the operation takes effect (S3 completes the upload, STS issues credentials…),
   * then its answer is held like a timeout's: the client gives up on a call that succeeded.
   */
  failNext(operation: string, error: FaultKind, count?: number): void;
  /** artificial delay on every response */
  setLatency(ms: number): void;
  /**
   * Holds the next call of `operation` once it has arrived (and been recorded) until the test
   * releases it: `arrived` resolves when it is held, `release()` lets it be served.
   */
  hold(operation: string): { arrived: Promise<void>; release(): void };
  /** Cognito's identities, by identity id (with their developer logins). */
  identities: Map<string, IdentityRecord>;
  /** Each role's inline policies written through IAM PutRolePolicy: role ARN → policy name → document. */
  rolePolicies: Map<string, Map<string, string>>;
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

const HOLD_MS = 5 * 60 * 1000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function faultError(service: AwsService, kind: Exclude<FaultKind, 'timeout' | 'lostAnswer'>): AwsError {
  if (kind === 'throttle') {
    if (service === 'cognito') return new AwsError(400, 'TooManyRequestsException', 'Rate exceeded');
    if (service === 'sts' || service === 'iam') return new AwsError(400, 'Throttling', 'Rate exceeded');
    return new AwsError(503, 'SlowDown', 'Please reduce your request rate.');
  }
  if (kind === 'internal') {
    if (service === 'cognito')
      return new AwsError(500, 'InternalErrorException', 'An internal error occurred (injected).');
    if (service === 'sts')
      return new AwsError(500, 'InternalFailure', 'An internal error occurred (injected).');
    if (service === 'iam')
      return new AwsError(500, 'ServiceFailure', 'An internal error occurred (injected).');
    return new AwsError(500, 'InternalError', 'We encountered an internal error. Please try again.');
  }
  if (service === 'cognito') return new AwsError(400, 'NotAuthorizedException', 'Not authorized (injected).');
  if (service === 'sts' || service === 'iam')
    return new AwsError(403, 'AccessDenied', 'Not authorized to perform this action (injected).');
  return new AwsError(403, 'AccessDenied', 'Access Denied');
}

export async function startAwsDouble(opts: AwsDoubleOptions = {}): Promise<AwsDouble> {
  const roles: Record<string, RoleSettings> = opts.roles ?? {
    [DEFAULT_AUTHENTICATED_ROLE_ARN]: { maxSessionDuration: 3600 },
    [DEFAULT_UNAUTHENTICATED_ROLE_ARN]: { maxSessionDuration: 3600 },
  };
  const poolRoles =
    opts.poolRoles ??
    (opts.roles
      ? {}
      : { authenticated: DEFAULT_AUTHENTICATED_ROLE_ARN, unauthenticated: DEFAULT_UNAUTHENTICATED_ROLE_ARN });

  const calls: AwsDouble['calls'] = [];
  let faults = new Map<string, Fault>();
  let latencyMs = 0;
  const held = new Set<() => void>();
  const gates = new Map<string, { arrive: () => void; released: Promise<void> }>();
  /** Responses whose answer is to be lost once the operation has taken effect. */
  const answersToLose = new WeakSet<ServerResponse>();

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

  const objects = new MemoryObjectStore();
  const local = await createLocalAws({
    region: opts.region ?? DEFAULT_REGION,
    identityPoolId: opts.identityPoolId ?? DEFAULT_IDENTITY_POOL_ID,
    developerProviderName: opts.developerProviderName ?? DEFAULT_DEVELOPER_PROVIDER_NAME,
    allowUnauthenticated: opts.allowUnauthenticated ?? true,
    serviceCredentials: opts.serviceCredentials ?? DEFAULT_SERVICE_CREDENTIALS,
    roles,
    poolRoles,
    buckets: opts.buckets ?? [DEFAULT_BUCKET],
    objects,
    hooks: {
      recordCall: (call: AwsCall) => calls.push({ ...call, at: Date.now() }),
      // Latency, then fault injection, after the call is recorded.
      beforeOperation: async (call, res) => {
        const gate = gates.get(call.operation);
        if (gate) {
          gates.delete(call.operation);
          gate.arrive();
          await gate.released;
        }
        if (latencyMs > 0) await sleep(latencyMs);
        const fault = takeFault(call.operation);
        if (!fault) return;
        if (fault === 'lostAnswer') {
          answersToLose.add(res);
          return;
        }
        if (fault === 'timeout') {
          await hold(res);
          if (!res.writableEnded && !res.destroyed) res.destroy();
          return;
        }
        throw faultError(call.service, fault);
      },
      afterOperation: async (_call, res) => {
        if (!answersToLose.has(res)) return;
        await hold(res);
        if (!res.writableEnded && !res.destroyed) res.destroy();
      },
    },
    onUnexpectedError: (error) => console.error('[aws-double] unexpected error', error),
  });

  const server = createServer(local.handle);
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const releaseHeld = () => {
    for (const done of [...held]) done();
  };

  return {
    url: `http://127.0.0.1:${port}`,
    region: local.state.region,
    identityPoolId: local.state.identityPoolId,
    calls,
    objects: objects.objects,
    uploads: local.state.uploads,
    credentials: local.state.vended,
    jwks: local.jwks,
    failNext(operation, error, count = 1) {
      faults.set(operation, { kind: error, remaining: count });
    },
    setLatency(ms) {
      latencyMs = Math.max(0, ms);
    },
    hold(operation) {
      let arrive!: () => void;
      let release!: () => void;
      const arrived = new Promise<void>((resolve) => {
        arrive = resolve;
      });
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      gates.set(operation, { arrive, released });
      return { arrived, release };
    },
    rolePolicies: local.state.roleInlinePolicies,
    identities: local.state.identities,
    advanceClock(ms) {
      local.state.clockOffsetMs += ms;
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
