import type { Request, RequestHandler, Router } from 'express';
import type { Logger } from 'pino';
import type { CliTokens } from '../auth/device/cli-tokens.ts';
import { DeviceAuthorizations } from '../auth/device/device-authorizations.ts';
import type { SignInAdmission } from '../auth/session/session-middleware.ts';
import type { VendGuard } from '../broker/credential-broker.ts';
import type { CredentialServices } from '../broker/credential-services.ts';
import { ENHANCED_FLOW_SECONDS } from '../config/aws-schema.ts';
import type { Config } from '../config/schema.ts';
import type { RateLimits } from '../http/middleware/rate-limit.ts';
import type { AuditLog } from '../observability/audit.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { PortalKit } from '../portal/portal-kit.ts';
import type { StateStore } from '../store/types.ts';
import { isAdmin } from './admin-policy.ts';
import { adminPortalRoutes } from './admin-portal.ts';
import { adminRoutes } from './admin-routes.ts';
import { AdminService } from './admin-service.ts';
import { CognitoIdentities } from './cognito-identities.ts';
import { IssuedCredentialsRevoker, type VendedRole } from './issued-credentials.ts';
import { Suspensions } from './suspensions.ts';

/** How much longer than a credential's own life a revocation is kept (clock skew, cache margins). */
const KEEP_MARGIN_MS = 5 * 60_000;

/** The roles keywarden vends, each with the longest life a credential on it can have. */
function vendedRoles(config: Readonly<Config>): VendedRole[] {
  const seen = new Set<string>();
  const roles: VendedRole[] = [];
  for (const [name, role] of Object.entries(config.credentials.roles)) {
    if (seen.has(role.arn)) continue;
    seen.add(role.arn);
    const seconds = config.aws.pool.flow === 'enhanced' ? ENHANCED_FLOW_SECONDS : role.maxSessionDuration;
    roles.push({ name, arn: role.arn, keepMs: seconds * 1000 + KEEP_MARGIN_MS });
  }
  return roles;
}

/** What the rest of the app is given when admin is configured (app.ts wires each part in its place). */
export interface Admin {
  /** Refuses a suspended user's sign-in and CLI token (the session middleware and device routes ask it). */
  readonly admission: SignInAdmission;
  /** Checks every vend against suspensions (the credential broker). */
  readonly guard: VendGuard;
  /** After authentication: starts the suspension check of callers a revocation cannot delete. */
  readonly screening: RequestHandler;
  /** The REST API under /admin/, once the credential services exist. */
  routes(deps: { credentials: CredentialServices; cliTokens: CliTokens; rateLimit: RateLimits }): Router;
  /** The portal's admin page, mounted by the portal (after `routes`). */
  portalPages(deps: { rateLimit: RateLimits }): (kit: PortalKit) => Router;
  /** Whether the caller may administer (the portal header links the admin page then). */
  isAdmin(req: Request): boolean;
}

/**
 * Identity administration, built only when `admin.enabled` (app.ts imports this module then
 * and only then): suspensions read on the hot path, the admin service and its routes.
 */
export function createAdmin(deps: {
  config: Readonly<Config>;
  store: StateStore;
  logger: Logger;
  audit: AuditLog;
  metrics: Metrics;
}): Admin {
  const { config, store, logger, audit, metrics } = deps;
  const roles = vendedRoles(config);
  const keepMs = Math.max(ENHANCED_FLOW_SECONDS * 1000 + KEEP_MARGIN_MS, ...roles.map((role) => role.keepMs));
  const suspensions = new Suspensions({ store, audit, keepMs });
  let service: AdminService | undefined;
  return {
    admission: suspensions.admission(),
    guard: suspensions.vendGuard(),
    screening: suspensions.screening(),
    isAdmin: (req) => isAdmin(config.admin, req),
    portalPages({ rateLimit }) {
      if (!service) throw new Error('the admin routes are built before the portal pages');
      return adminPortalRoutes({ service, config: config.admin, rateLimit, audit });
    },
    routes({ credentials, cliTokens, rateLimit }) {
      const revoker = new IssuedCredentialsRevoker({
        clients: credentials.clients,
        config: config.admin.revokeIssuedCredentials,
        roles,
        store,
        suspensions,
        logger,
        metrics,
      });
      if (config.admin.revokeIssuedCredentials.enabled && roles.length > 0 && !credentials.clients.iam) {
        logger.warn('no IAM client: revoking a user will not deny the AWS credentials already issued');
      }
      service = new AdminService({
        config,
        store,
        suspensions,
        revoker,
        cognito: new CognitoIdentities({ clients: credentials.clients, config: config.aws, metrics, logger }),
        identities: credentials.identities,
        cliTokens,
        devices: new DeviceAuthorizations(store, config.portal.device),
        audit,
        logger,
      });
      return adminRoutes({ service, config: config.admin, rateLimit, audit });
    },
  };
}
