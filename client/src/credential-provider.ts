import type { AwsCredentialIdentity } from '@smithy/types';
import type { CredentialRequest, CredentialsResponse } from './api-types.ts';
import type { KeywardenApi } from './keywarden-api.ts';

export interface CredentialOptions extends CredentialRequest {
  /**
   * Fetch new credentials this long before the current ones expire (default 300, the AWS
   * SDK's own margin: a client keeps asking its provider once inside it).
   */
  refreshBeforeSeconds?: number;
}

/** AWS credentials from keywarden, with the identity and role they were vended for. */
export interface KeywardenCredentials extends AwsCredentialIdentity {
  readonly sessionToken: string;
  readonly expiration: Date;
  /** The Cognito identity id; the caller's objects live under its prefix. */
  readonly identityId: string;
  /** The role name (from keywarden's config) the credentials are for. */
  readonly role: string;
}

/**
 * An AWS SDK v3 credential provider (`AwsCredentialIdentityProvider`). The SDK passes
 * `{ forceRefresh: true }` when a request failed with expired credentials.
 */
export type KeywardenCredentialProvider = (identityProperties?: {
  forceRefresh?: boolean;
}) => Promise<KeywardenCredentials>;

/**
 * Memoized and single-flight: the credentials are reused until `refreshBeforeSeconds`
 * before they expire, and every caller asking while a request to `/credentials` is on its
 * way shares that one request.
 */
export function credentialProvider(
  api: KeywardenApi,
  options: CredentialOptions = {},
): KeywardenCredentialProvider {
  const refreshBeforeMs = (options.refreshBeforeSeconds ?? 300) * 1000;
  const body: CredentialRequest = {};
  if (options.role !== undefined) body.role = options.role;
  if (options.scope !== undefined) body.scope = options.scope;
  if (options.durationSeconds !== undefined) body.durationSeconds = options.durationSeconds;

  let current: KeywardenCredentials | undefined;
  let pending: Promise<KeywardenCredentials> | undefined;

  const fetchCredentials = async (): Promise<KeywardenCredentials> => {
    const answer = await api.call<CredentialsResponse>({ method: 'POST', path: '/credentials', body });
    const { credentials } = answer;
    return {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      expiration: new Date(credentials.expiration),
      identityId: answer.identityId,
      role: answer.role,
    };
  };

  return (identityProperties) => {
    const fresh = current && current.expiration.getTime() - Date.now() > refreshBeforeMs;
    if (fresh && !identityProperties?.forceRefresh) return Promise.resolve(current!);
    pending ??= fetchCredentials()
      .then((credentials) => {
        current = credentials;
        return credentials;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
