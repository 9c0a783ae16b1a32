import { type Request, type RequestHandler, Router } from 'express';
import type { AdminConfig } from '../config/admin-schema.ts';
import { BadRequestError, KeywardenError } from '../http/errors.ts';
import type { RateLimits } from '../http/middleware/rate-limit.ts';
import type { AuditLog } from '../observability/audit.ts';
import type { PortalKit } from '../portal/portal-kit.ts';
import { signInPage } from '../portal/portal-pages.ts';
import { adminPage } from './admin-pages.ts';
import { requireAdmin } from './admin-policy.ts';
import { adminContext, parseUserRef, reasonSchema } from './admin-routes.ts';
import type { AdminService } from './admin-service.ts';

function field(req: Request, name: string): string | undefined {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** A `datetime-local` value (read as UTC) or an ISO time; empty means "until lifted". */
function suspendedUntil(raw: string | undefined): Date | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const iso = /Z$|[+-]\d\d:\d\d$/.test(raw) ? raw : `${raw}Z`;
  const date = new Date(iso);
  if (!Number.isFinite(date.getTime()) || date.getTime() <= Date.now()) {
    throw new BadRequestError('The suspension must end in the future.', 'invalid_request');
  }
  return date;
}

/**
 * The portal's admin page (`/portal/admin`), server-rendered inside the portal with its CSP,
 * its CSRF token and its error pages, for signed-in portal users who are admins: find a user
 * and act on them through the same AdminService as the REST API.
 */
export function adminPortalRoutes(deps: {
  service: AdminService;
  config: Readonly<AdminConfig>;
  rateLimit: RateLimits;
  audit: AuditLog;
}): (kit: PortalKit) => Router {
  const { service } = deps;
  return (kit) => {
    const router = Router();
    const admin = requireAdmin({ config: deps.config, audit: deps.audit });
    const signedIn: RequestHandler = (req, res, next) => {
      if (kit.user(req)) return next();
      kit.send(res, signInPage(kit.info, kit.providerLinks, { returnTo: '/portal/admin' }));
    };

    router.get('/portal/admin', kit.headers, signedIn, deps.rateLimit('admin'), admin, async (req, res) => {
      const user = kit.user(req)!;
      const query = typeof req.query.user === 'string' ? req.query.user.trim() : '';
      if (!query) {
        kit.send(res, adminPage(kit.info, user, {}));
        return;
      }
      let target: ReturnType<typeof parseUserRef>;
      try {
        target = parseUserRef(query);
      } catch (error) {
        kit.send(
          res,
          adminPage(kit.info, user, { query: query.slice(0, 200), error: (error as Error).message }),
          400,
        );
        return;
      }
      kit.send(
        res,
        adminPage(kit.info, user, { lookup: await service.lookup(target, adminContext(req, 'portal')) }),
      );
    });

    router.post('/portal/admin', ...kit.form, deps.rateLimit('admin'), admin, async (req, res) => {
      const user = kit.user(req)!;
      const target = parseUserRef(field(req, 'user'));
      const context = adminContext(req, 'portal');
      let notice: string;
      try {
        switch (field(req, 'action')) {
          case 'revoke': {
            const reason = reasonSchema.safeParse(field(req, 'reason') ?? '');
            if (!reason.success)
              throw new BadRequestError('The reason must be printable text.', 'invalid_request');
            const result = await service.revoke(
              target,
              { until: suspendedUntil(field(req, 'until')), ...(reason.data ? { reason: reason.data } : {}) },
              context,
            );
            notice = `Revoked: ${result.sessions} session(s), ${result.cliTokens} CLI sign-in(s) and ${result.cachedCredentials} cached credential(s) ended; ${
              result.issuedCredentials.revoked
                ? 'credentials already issued are denied on every role.'
                : `credentials already issued are NOT denied everywhere (${
                    result.issuedCredentials.skipped ??
                    result.issuedCredentials.roles
                      .filter((role) => !role.revoked)
                      .map((role) => `${role.role}: ${role.error}`)
                      .join(', ')
                  }).`
            }`;
            break;
          }
          case 'unsuspend': {
            const result = await service.unsuspend(target, context);
            notice = result.wasSuspended ? 'The suspension is lifted.' : 'The user was not suspended.';
            break;
          }
          case 'end-session':
            await service.revokeSession(target, field(req, 'session') ?? '', context);
            notice = 'The session has ended.';
            break;
          case 'unlink': {
            const result = await service.unlink(target, context);
            notice = `The login is unlinked from ${result.identityId}.`;
            break;
          }
          case 'merge': {
            const result = await service.merge(target, parseUserRef(field(req, 'into')), context);
            notice = `Merged into ${result.into}; the identity is ${result.identityId}.`;
            break;
          }
          case 'delete-identity': {
            if (field(req, 'confirm') !== 'yes') {
              throw new BadRequestError('Tick the box to confirm the erasure.', 'invalid_request');
            }
            const result = await service.deleteIdentity(target, context);
            notice = `Erased: identities ${result.deletedIdentityIds.join(', ') || 'none'}${
              result.unprocessed.length > 0
                ? `; Cognito kept ${result.unprocessed.map((item) => item.identityId).join(', ')}`
                : ''
            }.`;
            break;
          }
          default:
            throw new BadRequestError('Choose an action.', 'invalid_request');
        }
      } catch (error) {
        // A refusal about the request (unknown session, no identity…) is shown on the page itself.
        if (!(error instanceof KeywardenError) || error.status >= 500) throw error;
        kit.send(
          res,
          adminPage(kit.info, user, { lookup: await service.lookup(target, context), error: error.message }),
          error.status,
        );
        return;
      }
      kit.send(res, adminPage(kit.info, user, { lookup: await service.lookup(target, context), notice }));
    });

    return router;
  };
}
