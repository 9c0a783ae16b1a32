/**
 * keywarden's request and response shapes, as the contract of record describes them
 * (openapi/openapi.yaml, generated into ./generated/openapi.ts). Named here so the rest of
 * the package and its users read `Session`, not `components['schemas']['Session']`.
 */
import type { components } from './generated/openapi.ts';

type Schemas = components['schemas'];

export type Problem = Schemas['Problem'];
export type Session = Schemas['Session'];
export type LogoutResult = Schemas['LogoutResult'];
export type GuestIdentity = Schemas['GuestIdentity'];
export type CredentialRequest = Omit<Schemas['CredentialRequest'], 'format'>;
/** `/credentials` with `format=json`, the only format this package asks for. */
export type CredentialsResponse = Schemas['Credentials'];
export type PresignRequest = Schemas['PresignRequest'];
export type PresignResult = Schemas['PresignResult'];
export type MultipartRequest = Schemas['MultipartRequest'];
export type MultipartResult = Schemas['MultipartResult'];
