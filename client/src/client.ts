import type {
  GuestIdentity,
  LogoutResult,
  MultipartRequest,
  MultipartResult,
  PresignRequest,
  PresignResult,
  Session,
} from './api-types.ts';
import {
  type CredentialOptions,
  credentialProvider,
  type KeywardenCredentialProvider,
} from './credential-provider.ts';
import { createGuest, upgradeGuest } from './guests.ts';
import { createKeywardenApi, type KeywardenClientOptions } from './keywarden-api.ts';
import { presign, presignMultipart } from './presign.ts';
import { session, signIn, signInUrl, signOut } from './sign-in.ts';
import { type UploadOptions, type UploadResult, upload } from './upload.ts';

/** keywarden's HTTP surface for one caller (see `KeywardenClientOptions` for the caller kinds). */
export interface KeywardenClient {
  /** An AWS SDK v3 credential provider: `new S3Client({ credentials: client.credentials() })`. */
  credentials(options?: CredentialOptions): KeywardenCredentialProvider;
  /** Who the caller is, or `null` when not signed in. */
  session(): Promise<Session | null>;
  /** Browsers: navigates to the provider's sign-in; back at `returnTo` (default: this page). */
  signIn(provider: string, returnTo?: string): void;
  signInUrl(provider: string, returnTo?: string): string;
  /** Ends the browser session; `logoutUrl` is the IdP's own sign-out, when it has one. */
  signOut(): Promise<LogoutResult>;
  /** The caller's guest identity, created when there is none yet. */
  createGuest(): Promise<GuestIdentity>;
  /** Links the stored guest to the signed-in bearer user; `null` when there is no guest to upgrade. */
  upgradeGuest(): Promise<{ identityId: string } | null>;
  presign(request: PresignRequest, signal?: AbortSignal): Promise<PresignResult>;
  presignMultipart(request: MultipartRequest, signal?: AbortSignal): Promise<MultipartResult>;
  /** Uploads a Blob or File: one presigned PUT, or a multipart upload for large ones. */
  upload(body: Blob, options: UploadOptions): Promise<UploadResult>;
}

export function createKeywardenClient(options: KeywardenClientOptions = {}): KeywardenClient {
  const api = createKeywardenApi(options);
  return {
    credentials: (credentialOptions) => credentialProvider(api, credentialOptions),
    session: () => session(api),
    signIn: (provider, returnTo) => signIn(api, provider, returnTo),
    signInUrl: (provider, returnTo) => signInUrl(api, provider, returnTo),
    signOut: () => signOut(api),
    createGuest: () => createGuest(api),
    upgradeGuest: () => upgradeGuest(api),
    presign: (request, signal) => presign(api, request, signal),
    presignMultipart: (request, signal) => presignMultipart(api, request, signal),
    upload: (body, uploadOptions) => upload(api, body, uploadOptions),
  };
}

/**
 * AWS credentials from keywarden for the AWS SDK v3, like the SDK's own
 * `fromCognitoIdentityPool`: `new S3Client({ region, credentials: fromKeywarden({ baseUrl }) })`.
 */
export function fromKeywarden(
  options: KeywardenClientOptions & CredentialOptions = {},
): KeywardenCredentialProvider {
  return createKeywardenClient(options).credentials(options);
}
