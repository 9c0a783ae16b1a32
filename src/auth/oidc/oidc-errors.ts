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
  if (error instanceof ClientError) return `${error.code ?? 'client_error'}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return 'unknown error';
}
