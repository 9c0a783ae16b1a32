import { ClientError, ResponseBodyError } from 'openid-client';

const UNAVAILABLE_CODES = new Set(['OAUTH_TIMEOUT', 'OAUTH_ABORT', 'OAUTH_RESPONSE_IS_NOT_CONFORM']);

/**
 * Whether an openid-client failure means the IdP could not be reached or answered with a
 * server error (→ 503, worth retrying) rather than rejected or sent something invalid (→ 401).
 */
export function isIdpUnavailable(error: unknown): boolean {
  if (error instanceof TypeError) return true; // fetch failed: connection refused, DNS, reset
  if (error instanceof ResponseBodyError) return error.status >= 500;
  if (error instanceof ClientError) return error.code !== undefined && UNAVAILABLE_CODES.has(error.code);
  return false;
}

/** A short, log-safe description of why a login step failed (never token or code values). */
export function describeOidcError(error: unknown): string {
  if (error instanceof ResponseBodyError) return `${error.error} (HTTP ${error.status})`;
  if (error instanceof ClientError) {
    // The wrapped oauth4webapi message names the failed check (`unexpected ID Token "nonce"
    // claim value`) without values; its other cause fields hold claims and are not logged.
    const detail =
      error.cause instanceof Error && error.cause.message !== error.message
        ? ` (${error.cause.message})`
        : '';
    return `${error.code ?? 'client_error'}: ${error.message}${detail}`;
  }
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return 'unknown error';
}
