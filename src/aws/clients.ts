import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { AwsConfig } from '../config/aws-schema.ts';

/** The two AWS services credential vending talks to. Tests inject clients pointed at a double. */
export interface AwsClients {
  readonly cognito: CognitoIdentityClient;
  readonly sts: STSClient;
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
  return { cognito: new CognitoIdentityClient(common), sts: new STSClient(common) };
}
