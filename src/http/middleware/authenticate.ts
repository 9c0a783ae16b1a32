import type { Request, RequestHandler } from 'express';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';

/**
 * One way of proving who the caller is. `authenticate` looks for its own kind of
 * credential and answers:
 *  - `false` when the request carries none of its kind (the next authenticator is asked);
 *  - `true` after setting `req.scope.principal` and `req.scope.authMethod`;
 *  - or throws (UnauthorizedError, ServiceUnavailableError) when its credential is present
 *    but invalid or cannot be checked. A present-but-bad credential never falls through to
 *    another authenticator, so a bad bearer token cannot be rescued by a cookie.
 */
export interface Authenticator {
  readonly name: string;
  /**
   * The check is one read of the shared store (a guest or CLI token's record), so it may go to
   * the store together with the request's first rate-limit count. Any other authenticator
   * (a signature to verify, an IdP to call) waits until the request is admitted.
   */
  readonly lookupOnly?: boolean;
  /** Whether the request carries this authenticator's kind of credential at all. */
  present(req: Request): boolean;
  authenticate(req: Request): Promise<boolean>;
}

/**
 * Runs the first authenticator whose credential is present. Order matters and is set in
 * app.ts: bearer token, then guest token, then session cookie — explicit credentials win
 * over ambient ones, and cookies are ignored on bearer requests.
 *
 * `admitted` is the verdict of the rate limits counted so far: a costly check never runs for a
 * request over its limit, and a refusal (429) wins over a credential's failure.
 */
export function authenticate(
  authenticators: readonly Authenticator[],
  admitted: (req: Request) => Promise<void> = () => Promise.resolve(),
): RequestHandler {
  return async (req, _res, next) => {
    const chosen = authenticators.find((authenticator) => authenticator.present(req));
    if (!chosen) return next();
    try {
      if (!chosen.lookupOnly) await admitted(req);
      if (await chosen.authenticate(req)) req.scope.authenticatedBy = chosen.name;
      next();
    } catch (error) {
      admitted(req).then(() => next(error), next);
    }
  };
}

/**
 * 401 problem for anyone not authenticated (XHR or not: the API never redirects). The
 * challenge tells API clients to send a bearer token (RFC 6750 §3: no error code when the
 * request carried no credential); browsers do not prompt for the Bearer scheme.
 */
export function requireAuth(options: { allowGuests?: boolean } = {}): RequestHandler {
  return (req, _res, next) => {
    const principal = req.scope.principal;
    if (!principal) {
      return next(
        new UnauthorizedError(undefined, undefined, {
          headers: { 'WWW-Authenticate': 'Bearer realm="keywarden"' },
        }),
      );
    }
    if (principal.kind === 'guest' && !options.allowGuests) {
      return next(new ForbiddenError('Guests cannot use this resource.', 'guest_not_allowed'));
    }
    next();
  };
}

/**
 * Waits for `req.scope.screening` (an admin's suspension, checked since authentication), for
 * routes without a rate limit of their own; the rate limiter awaits it with its count.
 */
export function awaitScreening(): RequestHandler {
  return (req, _res, next) => {
    const screening = req.scope.screening;
    if (!screening) return next();
    screening.then(() => next(), next);
  };
}

export const CSRF_HEADER = 'x-csrf';

/**
 * Cookie-authenticated requests must carry `X-CSRF: 1`. It is not a CORS-safelisted
 * header, so a cross-site page cannot send it without a preflight that only configured
 * origins pass. Bearer and guest-token requests carry no ambient credential and skip it.
 */
export function requireCsrfHeader(): RequestHandler {
  return (req, _res, next) => {
    if (req.scope.authMethod === 'session' && req.get(CSRF_HEADER) !== '1') {
      return next(new ForbiddenError('The X-CSRF: 1 header is required.', 'csrf_header_missing'));
    }
    next();
  };
}
