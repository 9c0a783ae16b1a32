import type { Principal } from '../auth/principal.ts';

/** Temporary AWS credentials that sign a caller's URLs: theirs, scoped to their prefix. */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  readonly expiration: Date;
}

/** What the credential broker answers for a caller. */
export interface CallerCredentials {
  readonly identityId: string;
  /** The role name (a `credentials.roles` key) the credentials are for. */
  readonly role: string;
  readonly credentials: SigningCredentials;
}

export interface CallerCredentialsRequest {
  readonly principal: Principal;
  /** The identity id already known for the request (session, guest token), if any. */
  readonly identityId?: string | undefined;
  /** A signed-in session's earlier guest identity, which the broker links on first use. */
  readonly guestIdentityId?: string | undefined;
  readonly requestId?: string | undefined;
  readonly sourceIp?: string | undefined;
  /** The bucket's `credentialScope`, if it names one. */
  readonly scope?: string | undefined;
}

/**
 * Where signing credentials come from: the credential broker and its cache in the app, a
 * direct STS call in tests. Errors it throws are KeywardenErrors (403, 503) and pass through.
 */
export type CallerCredentialSource = (request: CallerCredentialsRequest) => Promise<CallerCredentials>;
