export type {
  CredentialRequest,
  CredentialsResponse,
  GuestIdentity,
  LogoutResult,
  MultipartRequest,
  MultipartResult,
  PresignRequest,
  PresignResult,
  Problem,
  Session,
} from './api-types.ts';
export { createKeywardenClient, fromKeywarden, type KeywardenClient } from './client.ts';
export type {
  CredentialOptions,
  KeywardenCredentialProvider,
  KeywardenCredentials,
} from './credential-provider.ts';
export { KeywardenError } from './errors.ts';
export {
  DEFAULT_GUEST_TOKEN_KEY,
  type GuestTokenStorage,
  localStorageGuestTokenStorage,
  memoryGuestTokenStorage,
  type SecureStoreLike,
  secureStoreGuestTokenStorage,
  type WebStorageLike,
} from './guest-storage.ts';
export type { FetchLike, KeywardenClientOptions, TokenSource } from './keywarden-api.ts';
export type { UploadOptions, UploadProgress, UploadResult } from './upload.ts';
