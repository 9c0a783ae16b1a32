import type { Principal } from '../auth/principal.ts';

/** Everything one request carries through the middleware chain, in one typed place. */
export interface RequestScope {
  readonly requestId: string;
  /**
   * The client address (`req.ip`: that many proxy hops from the right of X-Forwarded-For),
   * worked out once; Express's `req.ip` parses the header again at every read.
   */
  readonly sourceIp: string | undefined;
  /** Set by an authenticator (session cookie, bearer token, guest token). */
  principal?: Principal;
  /** How the principal was established; decides whether CSRF checks apply. */
  authMethod?: 'session' | 'bearer' | 'guest-token';
  /** Which authenticator vouched for the principal (`cli-token`, `bearer`, `guest-token`, `session`). */
  authenticatedBy?: string;
  /** The `bearer.issuers` entry that verified a bearer token (it may name another provider). */
  bearerIssuer?: string;
  /**
   * A check started once the caller was known (an admin's suspension) that must pass before a
   * route acts: awaited with the route's rate-limit count, so it costs no round trip of its own.
   */
  screening?: Promise<void>;
  /** When the credential that authenticated this request expires (a bearer token's `exp`). */
  authExpiresAt?: Date;
  /** The Cognito identity id once it is known. */
  identityId?: string;
}

declare global {
  namespace Express {
    interface Request {
      scope: RequestScope;
    }
  }
}
