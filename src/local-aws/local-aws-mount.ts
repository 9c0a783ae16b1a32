import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { type AwsClients, createAwsClients } from '../aws/clients.ts';
import { LOCAL_AWS_PATH } from '../config/local-aws-schema.ts';
import type { Config } from '../config/schema.ts';
import { IdentityFile } from './identity-file.ts';
import { createLocalAws } from './local-aws.ts';
import { FileObjectStore } from './object-store.ts';
import type { PolicyDocument } from './policy.ts';
import type { RoleSettings, StaticCredentials } from './state.ts';

/**
 * The keys keywarden signs its own Cognito and STS calls to the local AWS with. Fixed and
 * public: they open nothing but the local AWS, which production refuses to run.
 */
export const LOCAL_SERVICE_CREDENTIALS: StaticCredentials = {
  accessKeyId: 'AKIALOCALKEYWARDEN00',
  secretAccessKey: 'local-keywarden-service-key/not-an-aws-secret',
};

/** Unset pools still need an id for the local Cognito; nothing is vended without a configured one. */
const PLACEHOLDER_POOL_SUFFIX = ':00000000-0000-4000-8000-000000000000';
/** Bodies are held in memory while received; a larger single upload needs multipart. */
const MAX_BODY_BYTES = 1024 ** 3;
const MIN_BODY_BYTES = 64 * 1024 ** 2;

export interface LocalAwsService {
  /** Mounted at LOCAL_AWS_PATH. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** Cognito Identity and STS clients pointed at it, signing with LOCAL_SERVICE_CREDENTIALS. */
  readonly clients: AwsClients;
}

/** A role with no configured local policy may do anything in the configured buckets. */
function bucketsPolicy(buckets: readonly string[]): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 's3:*',
        Resource: buckets.flatMap((bucket) => [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`]),
      },
    ],
  };
}

/**
 * Starts the local AWS for this configuration: the identity pool of `aws.pool`, a role for
 * each of `credentials.roles` (with its `localAws.rolePolicies` entry as its IAM policy), the
 * buckets of `presign.buckets`, CORS for `cors.origins`, state under `localAws.dataDir`.
 */
export async function startLocalAws(deps: {
  config: Readonly<Config>;
  logger: Logger;
}): Promise<LocalAwsService> {
  const { config, logger } = deps;
  if (config.env === 'production') throw new Error('the local AWS cannot run in production');
  const buckets = config.presign.buckets.map((bucket) => bucket.name);
  const roleArn = (name: string | undefined) =>
    name !== undefined && Object.hasOwn(config.credentials.roles, name)
      ? config.credentials.roles[name]?.arn
      : undefined;
  const roles: Record<string, RoleSettings> = {};
  for (const [name, role] of Object.entries(config.credentials.roles)) {
    const policy = Object.hasOwn(config.localAws.rolePolicies, name)
      ? config.localAws.rolePolicies[name]
      : undefined;
    roles[role.arn] = {
      maxSessionDuration: role.maxSessionDuration,
      policy: policy ?? bucketsPolicy(buckets),
    };
  }
  const guestRole = roleArn(config.credentials.guestRole);
  const authenticatedRole = roleArn(config.credentials.defaultRole);
  const dataDir = path.resolve(config.localAws.dataDir);
  const largestObject = Math.max(0, ...config.presign.buckets.map((bucket) => bucket.maxObjectBytes));

  const local = await createLocalAws({
    region: config.aws.region,
    identityPoolId: config.aws.pool.identityPoolId ?? `${config.aws.region}${PLACEHOLDER_POOL_SUFFIX}`,
    developerProviderName: config.aws.pool.developerProviderName,
    allowUnauthenticated: config.guests.enabled && guestRole !== undefined,
    serviceCredentials: LOCAL_SERVICE_CREDENTIALS,
    roles,
    poolRoles: {
      ...(authenticatedRole ? { authenticated: authenticatedRole } : {}),
      ...(guestRole ? { unauthenticated: guestRole } : {}),
    },
    buckets,
    objects: await FileObjectStore.open(path.join(dataDir, 's3')),
    identityFile: new IdentityFile(dataDir),
    mountPath: LOCAL_AWS_PATH,
    // Behind a proxy that strips the public URL's path, clients still signed the whole path.
    publicPathPrefix: new URL(config.server.publicUrl).pathname,
    cors: config.cors,
    maxBodyBytes: Math.min(MAX_BODY_BYTES, Math.max(MIN_BODY_BYTES, largestObject)),
    onUnexpectedError: (error) =>
      logger.error({ err: { message: (error as Error).message } }, 'local AWS: unexpected error'),
  });
  logger.warn(
    { endpoint: config.aws.endpoint, dataDir },
    'local AWS enabled: Cognito Identity, STS and S3 are served by keywarden itself and hand out local credentials, not AWS credentials (never use this outside local development)',
  );
  return {
    handle: local.handle,
    clients: createAwsClients(config.aws, { credentials: LOCAL_SERVICE_CREDENTIALS }),
  };
}
