import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import type { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { AwsConfig } from '../config/aws-schema.ts';

/** The AWS services keywarden talks to. Tests inject clients pointed at a double. */
export interface AwsClients {
  readonly cognito: CognitoIdentityClient;
  readonly sts: STSClient;
  /**
   * IAM, for an admin's revocation of credentials already handed out (inline deny policies on
   * the roles): made, and its SDK module loaded, on first use only.
   */
  readonly iam?: () => Promise<IAMClient>;
}

export interface AwsClientOptions {
  /**
   * The service's own credentials for GetOpenIdTokenForDeveloperIdentity. Unset, the SDK's
   * standard chain applies (env, web identity, ECS/EKS, instance profile).
   */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/**
 * Builds the clients with explicit timeouts (an AWS call must never hang a request) and the
 * SDK's own retry strategy: throttling, 5xx and timeouts are retried with jittered backoff,
 * NotAuthorized and validation errors are not.
 */
export function createAwsClients(config: Readonly<AwsConfig>, options: AwsClientOptions = {}): AwsClients {
  const common = {
    region: config.region,
    maxAttempts: config.maxAttempts,
    retryMode: config.retryMode,
    requestHandler: {
      connectionTimeout: config.connectTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      // Without this the handler only logs a warning when the time is up and keeps waiting.
      throwOnRequestTimeout: true,
    },
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  let iam: Promise<IAMClient> | undefined;
  return {
    cognito: new CognitoIdentityClient(common),
    sts: new STSClient(common),
    iam: () => {
      iam ??= import('@aws-sdk/client-iam').then(({ IAMClient }) => new IAMClient(common));
      return iam;
    },
  };
}
