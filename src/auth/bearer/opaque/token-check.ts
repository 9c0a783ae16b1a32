import type { Logger } from 'pino';
import { subjectOf } from '../../document-claims.ts';
import type { UserDocumentSource } from '../../oauth2/user-document.ts';
import {
  isNetworkFailure,
  jsonBodyOf,
  ProviderRejectedError,
  ProviderUnavailableError,
} from '../../provider-errors.ts';
import { InvalidTokenError } from '../token-verifier.ts';

/** What a provider says about an opaque token it accepted. */
export interface CheckedToken {
  /** The token owner's id, normalised (src/auth/document-claims.ts). */
  readonly subject: string;
  /** Epoch ms, when the token has an expiry. */
  readonly expiresAt?: number;
  /** Where the principal's claims are read from (the user document, or the introspection answer). */
  readonly document: Readonly<Record<string, unknown>>;
}

/**
 * One provider's way of checking an opaque (non-JWT) bearer token. Resolves with the owner, or
 * rejects with InvalidTokenError (revoked, expired, another app's → 401) or
 * ProviderUnavailableError (down, slow, rate-limited, or refusing keywarden's own credentials →
 * 503: nothing was learnt about the token).
 */
export interface TokenCheck {
  check(token: string): Promise<CheckedToken>;
}

/** A plain HTTP call to a provider with a timeout and no redirects; transport failures become 503. */
export async function callProvider(
  url: URL,
  init: { method?: string; headers: Record<string, string>; body?: string; timeoutMs: number },
  what: string,
): Promise<{ response: Response; body: unknown }> {
  try {
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      headers: init.headers,
      ...(init.body !== undefined ? { body: init.body } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(init.timeoutMs),
    });
    return { response, body: await jsonBodyOf(response, what) };
  } catch (error) {
    if (error instanceof ProviderUnavailableError) throw error;
    if (isNetworkFailure(error)) {
      throw new ProviderUnavailableError(`${what} could not be reached in time`, 5, { cause: error });
    }
    throw error;
  }
}

/**
 * keywarden's own credentials were refused while checking a token: a deployment problem (wrong
 * app secret), not the user's. Logged as an error; the client gets 503.
 */
export function ownCredentialsRefused(
  logger: Logger,
  issuer: string,
  what: string,
): ProviderUnavailableError {
  logger.error(
    { issuer },
    `${what} refused keywarden's own client credentials; check the issuer's configuration`,
  );
  return new ProviderUnavailableError(`${what} refused keywarden's client credentials`, 30);
}

/**
 * The user document of an accepted token, which must name the same user the check did: a
 * provider whose token check and user endpoint disagree proves nothing.
 */
export async function confirmedDocument(
  users: UserDocumentSource,
  token: string,
  subject: string,
  subjectPath: string,
  issuer: string,
): Promise<Record<string, unknown>> {
  let document: Record<string, unknown>;
  try {
    document = await users.fetch(token);
  } catch (error) {
    if (error instanceof ProviderRejectedError) {
      throw new InvalidTokenError('The token is not valid or has been revoked', issuer, { cause: error });
    }
    throw error;
  }
  if (subjectOf(document, subjectPath) !== subject) {
    throw new InvalidTokenError('The token owner could not be confirmed', issuer);
  }
  return document;
}
