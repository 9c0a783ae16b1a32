import { GetCredentialsForIdentityCommand } from '@aws-sdk/client-cognito-identity';
import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { type AwsCallContext, AwsConfigurationError, callAws } from '../aws/aws-call.ts';
import type { AwsClients } from '../aws/clients.ts';
import type { AwsCredentials } from '../cache/credential-cache.ts';

/**
 * The two ways a Cognito OpenID token becomes AWS credentials.
 *  - basic: STS AssumeRoleWithWebIdentity with keywarden's choice of role, duration and an
 *    inline session policy (the scope), so the credentials are narrowed per request;
 *  - enhanced: Cognito GetCredentialsForIdentity, one hour, role from the pool (or
 *    CustomRoleArn), scoped only by the role's own policy variables.
 */

const COGNITO_LOGIN = 'cognito-identity.amazonaws.com';

const SESSION_NAME_CHARS = /[^\w+=,.@-]/g;

/**
 * RoleSessionName from the identity id (`region:uuid` → `region.uuid`): 2–64 characters of
 * `[\w+=,.@-]`, and the same identity always gets the same name, so CloudTrail entries of
 * the assumed role point back to the Cognito identity.
 */
export function roleSessionName(identityId: string): string {
  const name = identityId.replace(SESSION_NAME_CHARS, '.').slice(0, 64);
  return name.length >= 2 ? name : `kw.${name}`;
}

export interface BasicFlowInput {
  identityId: string;
  token: string;
  roleArn: string;
  durationSeconds: number;
  policy?: string;
}

function credentialsFrom(
  operation: string,
  raw:
    | {
        AccessKeyId?: string;
        SecretAccessKey?: string;
        SecretKey?: string;
        SessionToken?: string;
        Expiration?: Date;
      }
    | undefined,
): AwsCredentials {
  const secretAccessKey = raw?.SecretAccessKey ?? raw?.SecretKey;
  if (!raw?.AccessKeyId || !secretAccessKey || !raw.SessionToken || !raw.Expiration) {
    throw new AwsConfigurationError(`${operation} answered without complete credentials`);
  }
  return {
    accessKeyId: raw.AccessKeyId,
    secretAccessKey,
    sessionToken: raw.SessionToken,
    expiration: raw.Expiration,
  };
}

export async function assumeRoleWithWebIdentity(
  clients: AwsClients,
  context: AwsCallContext,
  input: BasicFlowInput,
): Promise<AwsCredentials> {
  const output = await callAws(context, 'AssumeRoleWithWebIdentity', () =>
    clients.sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: input.roleArn,
        RoleSessionName: roleSessionName(input.identityId),
        WebIdentityToken: input.token,
        DurationSeconds: input.durationSeconds,
        ...(input.policy ? { Policy: input.policy } : {}),
      }),
    ),
  );
  return credentialsFrom('AssumeRoleWithWebIdentity', output.Credentials);
}

export interface EnhancedFlowInput {
  identityId: string;
  /** A developer-identity OpenID token; absent for guests (unauthenticated identities need none). */
  token?: string;
  customRoleArn?: string;
}

export async function getCredentialsForIdentity(
  clients: AwsClients,
  context: AwsCallContext,
  input: EnhancedFlowInput,
): Promise<AwsCredentials> {
  const output = await callAws(context, 'GetCredentialsForIdentity', () =>
    clients.cognito.send(
      new GetCredentialsForIdentityCommand({
        IdentityId: input.identityId,
        ...(input.token ? { Logins: { [COGNITO_LOGIN]: input.token } } : {}),
        ...(input.customRoleArn ? { CustomRoleArn: input.customRoleArn } : {}),
      }),
    ),
  );
  return credentialsFrom('GetCredentialsForIdentity', output.Credentials);
}
