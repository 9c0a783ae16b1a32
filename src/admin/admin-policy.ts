import type { Request, RequestHandler } from 'express';
import type { AdminConfig } from '../config/admin-schema.ts';
import { ForbiddenError, UnauthorizedError } from '../http/errors.ts';
import type { AuditLog } from '../observability/audit.ts';

function values(claim: string | readonly string[] | undefined): readonly string[] {
  if (claim === undefined) return [];
  return typeof claim === 'string' ? [claim] : claim;
}

/**
 * Whether the caller may administer, by `admin` in the config and nothing else:
 *  - a portal user (browser session), or the keywarden CLI a portal user signed in (its token
 *    carries the claims of that sign-in), whose mapped `groups` include an admin group, from a
 *    listed login provider if any are listed;
 *  - a bearer caller whose token was verified by a listed issuer entry and whose mapped claim
 *    holds one of that rule's values.
 * Guests never are.
 */
export function isAdmin(config: Readonly<AdminConfig>, req: Request): boolean {
  const principal = req.scope.principal;
  if (!config.enabled || principal?.kind !== 'user') return false;
  switch (req.scope.authenticatedBy) {
    case 'session':
    case 'cli-token': {
      if (config.providers.length > 0 && !config.providers.includes(principal.provider)) return false;
      return values(principal.claims.groups).some((group) => config.groups.includes(group));
    }
    case 'bearer': {
      const issuer = req.scope.bearerIssuer;
      return config.bearer.some(
        (rule) =>
          rule.issuer === issuer &&
          values(principal.claims[rule.claim]).some((value) => rule.values.includes(value)),
      );
    }
    default:
      return false;
  }
}

/** 401 for anonymous callers, 403 `admin_required` (audited) for everyone who is not an admin. */
export function requireAdmin(deps: { config: Readonly<AdminConfig>; audit: AuditLog }): RequestHandler {
  return (req, _res, next) => {
    const principal = req.scope.principal;
    if (!principal) {
      return next(
        new UnauthorizedError(undefined, undefined, {
          headers: { 'WWW-Authenticate': 'Bearer realm="keywarden"' },
        }),
      );
    }
    if (isAdmin(deps.config, req)) return next();
    deps.audit.record('admin.denied', {
      outcome: 'denied',
      requestId: req.scope.requestId,
      sourceIp: req.scope.sourceIp,
      provider: principal.provider,
      subject: principal.subject,
      reason: 'not an admin',
    });
    next(new ForbiddenError('Only administrators may do this.', 'admin_required'));
  };
}
