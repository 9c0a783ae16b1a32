/**
 * A real keywarden for the client's tests: the app on loopback, wired to the AWS test double
 * (Cognito, STS and S3 enforcing SigV4 and session policies) and a real JWT issuer for bearer
 * callers. One per test file.
 */
import {
  ADMIN_ARN,
  credentialOverrides,
  GUEST_ARN,
  READER_ARN,
} from '../../../test/fixtures/credentials/config.ts';
import { type Instance, mergeOverrides, startInstance } from '../../../test/fixtures/credentials/harness.ts';
import {
  type AwsDouble,
  DEFAULT_DEVELOPER_PROVIDER_NAME,
  DEFAULT_IDENTITY_POOL_ID,
  startAwsDouble,
} from '../../../test/support/aws-double/index.ts';
import { type JwksIssuer, startJwksIssuer } from '../../../test/support/jwks-issuer.ts';

export const BUCKET = 'kw-client-uploads';
export const API_AUDIENCE = 'https://api.keywarden.test';
export const MiB = 1024 * 1024;

/** Signing credentials for presigned URLs: the caller's own prefix, with what multipart needs. */
const UPLOADS_SCOPE = {
  policy: {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: [`arn:aws:s3:::${BUCKET}/users/\${identityId}/*`],
      },
    ],
  },
};

/** What a Node app may do with `fromKeywarden` credentials: list and write under its own prefix. */
const APP_SCOPE = {
  policy: {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: [`arn:aws:s3:::${BUCKET}/users/\${identityId}/*`],
      },
      {
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: [`arn:aws:s3:::${BUCKET}`],
        // biome-ignore lint/suspicious/noTemplateCurlyInString: keywarden's scope template variable
        Condition: { StringLike: { 's3:prefix': ['users/${identityId}/*'] } },
      },
    ],
  },
};

export interface TestKeywarden {
  readonly url: string;
  readonly aws: AwsDouble;
  readonly issuer: JwksIssuer;
  readonly instance: Instance;
  /** A fresh bearer JWT for `sub`, as a mobile app's own IdP would issue it. */
  tokenFor(sub: string, claims?: Record<string, unknown>): Promise<string>;
  /** Requests keywarden received for `METHOD /path` since the start. */
  received(method: string, path: string): number;
  close(): Promise<void>;
}

/**
 * `s3Endpoint`: where presigned URLs point (default: the double itself), e.g. a proxy that
 * adds the bucket's CORS rules for a browser.
 */
export async function startKeywarden(
  overrides: Record<string, unknown> = {},
  options: { s3Endpoint?: (aws: AwsDouble) => Promise<string> } = {},
): Promise<TestKeywarden> {
  const aws = await startAwsDouble({
    buckets: [BUCKET],
    roles: {
      [READER_ARN]: { maxSessionDuration: 3600 },
      [ADMIN_ARN]: { maxSessionDuration: 7200 },
      [GUEST_ARN]: { maxSessionDuration: 3600 },
    },
    poolRoles: { authenticated: READER_ARN, unauthenticated: GUEST_ARN },
  });
  const issuer = await startJwksIssuer();
  const s3Endpoint = options.s3Endpoint ? await options.s3Endpoint(aws) : aws.url;
  const base = credentialOverrides({ endpoint: aws.url });
  const instance = await startInstance(
    aws,
    mergeOverrides(
      base,
      {
        aws: {
          pool: {
            identityPoolId: DEFAULT_IDENTITY_POOL_ID,
            developerProviderName: DEFAULT_DEVELOPER_PROVIDER_NAME,
          },
          // keywarden's own S3 calls complete 20 MiB uploads in the double; on a busy machine
          // that can take over the shared fixture's 1 s, and a timed-out CompleteMultipartUpload
          // that S3 did carry out is retried into NoSuchUpload. The cache's lock and wait follow.
          requestTimeoutMs: 10_000,
        },
        cache: { lockTtlMs: 60_000, waitTimeoutMs: 15_000 },
        credentials: {
          scopes: {
            ...(base.credentials as { scopes: object }).scopes,
            uploads: UPLOADS_SCOPE,
            app: APP_SCOPE,
          },
        },
        bearer: {
          issuers: { mobile: { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: [API_AUDIENCE] } },
        },
        presign: {
          buckets: [
            {
              name: BUCKET,
              region: aws.region,
              endpoint: s3Endpoint,
              forcePathStyle: true,
              credentialScope: 'uploads',
              maxObjectBytes: '64mb',
              operations: { guest: ['getObject', 'putObject', 'multipart'] },
            },
          ],
        },
      },
      overrides,
    ),
  );
  const counts = new Map<string, number>();
  instance.server.on('request', (req) => {
    const name = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  });
  return {
    url: instance.url,
    aws,
    issuer,
    instance,
    tokenFor: (sub, claims = {}) => issuer.sign({ aud: API_AUDIENCE, sub, ...claims }),
    received: (method, path) => counts.get(`${method} ${path}`) ?? 0,
    async close() {
      await instance.close();
      await issuer.close();
      await aws.close();
    },
  };
}
