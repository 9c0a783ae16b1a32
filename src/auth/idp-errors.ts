import { ClientError, ResponseBodyError, WWWAuthenticateChallengeError } from 'openid-client';
import { isNetworkFailure } from './provider-errors.ts';

/**
 * openid-client's failures (token endpoint, discovery, userinfo, introspection, protected
 * resources) read as "the IdP refused" or "the IdP could not answer". Kept apart from
 * provider-errors.ts so that code which only needs the error classes (the bearer
 * authenticator) does not load openid-client.
 */

/** A network failure, timeout or abort, also as openid-client reports them. */
export function isIdpTransportFailure(error: unknown): boolean {
  if (isNetworkFailure(error)) return true;
  return error instanceof ClientError && (error.code === 'OAUTH_TIMEOUT' || error.code === 'OAUTH_ABORT');
}

/**
 * Whether an openid-client failure (token endpoint, discovery, userinfo) means the IdP could not
 * be reached, answered with a server error or is rate-limiting us (→ 503, worth retrying) rather
 * than refused or sent something invalid (→ 401). A 4xx whose body is not an RFC 6749 error
 * (Facebook's `{"error": {…}}` object) is a refusal, not an outage.
 */
export function isIdpUnavailable(error: unknown): boolean {
  if (isIdpTransportFailure(error)) return true;
  if (error instanceof ResponseBodyError) return error.status >= 500 || error.status === 429;
  if (error instanceof WWWAuthenticateChallengeError) return error.status === 429;
  if (error instanceof ClientError && error.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
    // openid-client puts the unexpected response itself in `cause`.
    const status = error.cause instanceof Response ? error.cause.status : 500;
    return status >= 500 || status === 429;
  }
  return false;
}

/** The RFC 6749 `error` code inside an openid-client failure, when the IdP sent one (GitHub sends it with HTTP 200). */
function oauthErrorCode(error: unknown): string | undefined {
  const body =
    error instanceof ResponseBodyError
      ? error.cause
      : error instanceof ClientError && error.cause instanceof Error
        ? (error.cause.cause as { body?: unknown } | undefined)?.body
        : undefined;
  const code = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  return typeof code === 'string' && /^[a-z_]{1,64}$/.test(code) ? code : undefined;
}

/** A short, log-safe description of why a login step failed (never token or code values). */
export function describeIdpError(error: unknown): string {
  if (error instanceof ResponseBodyError) return `${error.error} (HTTP ${error.status})`;
  if (error instanceof ClientError) {
    // The wrapped oauth4webapi message names the failed check (`unexpected ID Token "nonce"
    // claim value`) without values; its other cause fields hold claims and are not logged.
    const detail =
      error.cause instanceof Error && error.cause.message !== error.message
        ? ` (${error.cause.message})`
        : '';
    const code = oauthErrorCode(error);
    return `${error.code ?? 'client_error'}: ${error.message}${detail}${code ? ` [${code}]` : ''}`;
  }
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return 'unknown error';
}
