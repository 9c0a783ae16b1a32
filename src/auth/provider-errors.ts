/**
 * How a call to a sign-in provider's API went wrong, in the two ways that matter to a client:
 * the provider refused (a revoked token, another app's token, a bad code → 401) or the provider
 * could not answer (down, slow, rate-limited → 503 with Retry-After, never 401: the user's
 * credential may well be fine). Neither carries token values or response bodies.
 */

/** The provider cannot say right now; `reason` is for logs (no secrets). */
export class ProviderUnavailableError extends Error {
  readonly retryAfterSeconds: number;
  constructor(reason: string, retryAfterSeconds: number, options?: ErrorOptions) {
    super(reason, options);
    this.name = 'ProviderUnavailableError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The provider said no. `reason` is for the audit log; clients get a generic message. */
export class ProviderRejectedError extends Error {
  readonly reason: string;
  constructor(reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.name = 'ProviderRejectedError';
    this.reason = reason;
  }
}

const MAX_RETRY_AFTER_SECONDS = 300;
const DEFAULT_RETRY_AFTER_SECONDS = 5;

function clampSeconds(seconds: number): number {
  if (!Number.isFinite(seconds)) return DEFAULT_RETRY_AFTER_SECONDS;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(seconds)));
}

/** From `Retry-After` (seconds or a date) or GitHub's `x-ratelimit-reset` (epoch seconds). */
export function retryAfterOf(response: Response, now = Date.now()): number {
  const retryAfter = response.headers.get('retry-after');
  if (retryAfter !== null) {
    const seconds = /^\d+$/.test(retryAfter.trim())
      ? Number(retryAfter)
      : (Date.parse(retryAfter) - now) / 1000;
    return clampSeconds(seconds);
  }
  const reset = response.headers.get('x-ratelimit-reset');
  if (reset !== null && /^\d+$/.test(reset.trim())) return clampSeconds(Number(reset) - now / 1000);
  return DEFAULT_RETRY_AFTER_SECONDS;
}

/**
 * Graph API error codes that mean "too many calls", not "bad token": 4 (app), 17 (user), 32
 * (page), 613 (custom rate limit), 80001–80014 (business use case limits).
 */
const FACEBOOK_THROTTLE_CODES = new Set([4, 17, 32, 613]);

function facebookErrorCode(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export function isFacebookThrottle(body: unknown): boolean {
  const code = facebookErrorCode(body);
  return code !== undefined && (FACEBOOK_THROTTLE_CODES.has(code) || (code >= 80_001 && code <= 80_014));
}

/**
 * The outage a non-200 answer stands for, if it is one: a server error or another answer that is no refusal, 429, GitHub's rate
 * limits (403 with `x-ratelimit-remaining: 0`, or a secondary limit's 403 with `Retry-After`),
 * or a Graph API throttling code. Anything else is the provider refusing.
 */
export function outageOf(
  response: Response,
  body: unknown,
  what: string,
): ProviderUnavailableError | undefined {
  const status = response.status;
  // A server error, or an answer that is neither the document nor a refusal (a redirect, 204).
  if (status >= 500 || (status < 400 && status !== 200)) {
    return new ProviderUnavailableError(`${what} answered HTTP ${status}`, retryAfterOf(response));
  }
  const rateLimited =
    status === 429 ||
    (status === 403 &&
      (response.headers.get('x-ratelimit-remaining') === '0' || response.headers.has('retry-after'))) ||
    isFacebookThrottle(body);
  return rateLimited
    ? new ProviderUnavailableError(`${what} is rate-limited (HTTP ${status})`, retryAfterOf(response))
    : undefined;
}

/**
 * A network failure, a timeout or an abort of a plain fetch: nothing was learnt about the
 * credential. (openid-client wraps these; see isIdpTransportFailure in idp-errors.ts.)
 */
export function isNetworkFailure(error: unknown): boolean {
  if (error instanceof TypeError) return true; // fetch failed: refused, reset, DNS
  return error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/** A user document or token check is a few kB; a provider answering megabytes is not answering. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads a JSON body, or undefined when there is none or it is not JSON (an error page). Bodies
 * over 1 MiB are an outage, not something to buffer.
 */
export async function jsonBodyOf(response: Response, what: string): Promise<unknown> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) {
        // Leaving the loop by a throw cancels the stream.
        throw new ProviderUnavailableError(
          `${what} answered more than ${MAX_BODY_BYTES} bytes`,
          DEFAULT_RETRY_AFTER_SECONDS,
        );
      }
      chunks.push(chunk);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
