import { BadRequestError, ServiceUnavailableError } from '../http/errors.ts';

/**
 * How long a presigned URL or POST policy lives. A URL signed with temporary credentials
 * stops working when they expire whatever X-Amz-Expires says, so promising more would be a
 * lie: the lifetime is the smallest of what the client asked (or the bucket's default), the
 * bucket's maximum, and the credentials' remaining life. Asking for more than the bucket's
 * maximum is a client error (400); the credentials' limit clamps silently and `expiresAt`
 * tells the client the truth.
 */

/** SigV4 presigned URLs live at most seven days. */
export const SIGV4_MAX_EXPIRES_SECONDS = 7 * 24 * 3600;

export interface LifetimeLimits {
  readonly defaultExpiresSeconds: number;
  readonly maxExpiresSeconds: number;
}

export interface UrlLifetime {
  readonly expiresInSeconds: number;
  readonly expiresAt: Date;
}

/** 400 `invalid_expires_in`: outside 1..the bucket's maximum. */
export function checkRequestedLifetime(requested: number | undefined, limits: LifetimeLimits): void {
  if (requested === undefined) return;
  if (!Number.isInteger(requested) || requested < 1 || requested > limits.maxExpiresSeconds) {
    throw new BadRequestError(
      `expiresIn must be a whole number of seconds from 1 to ${limits.maxExpiresSeconds}.`,
      'invalid_expires_in',
    );
  }
}

export function urlLifetime(options: {
  requested?: number | undefined;
  limits: LifetimeLimits;
  credentialsExpiration: Date;
  now: Date;
}): UrlLifetime {
  const { requested, limits, credentialsExpiration, now } = options;
  checkRequestedLifetime(requested, limits);
  const wanted = Math.min(
    requested ?? limits.defaultExpiresSeconds,
    limits.maxExpiresSeconds,
    SIGV4_MAX_EXPIRES_SECONDS,
  );
  const credentialsLeft = Math.floor((credentialsExpiration.getTime() - now.getTime()) / 1000);
  const expiresInSeconds = Math.min(wanted, credentialsLeft);
  if (expiresInSeconds < 1) {
    // The broker refreshes credentials ahead of expiry, so this means its cache is behind.
    throw new ServiceUnavailableError('Signing credentials are about to expire; retry shortly.', 1);
  }
  return { expiresInSeconds, expiresAt: new Date(now.getTime() + expiresInSeconds * 1000) };
}
