import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { Admin } from './admin/admin.ts';
import { createBearerAuthenticator } from './auth/bearer/bearer-authenticator.ts';
import { cliTokenAuthenticator } from './auth/device/cli-token-authenticator.ts';
import { CliTokens } from './auth/device/cli-tokens.ts';
import { DeviceAuthorizations } from './auth/device/device-authorizations.ts';
import { guestTokenAuthenticator } from './auth/guest/guest-token-authenticator.ts';
import { createLoginProviders, keepSessionsAlive } from './auth/providers.ts';
import { sessionAuthenticator } from './auth/session/session.ts';
import { createSessionMiddleware } from './auth/session/session-middleware.ts';
import type { AwsClients } from './aws/clients.ts';
import { createCredentialServices } from './broker/credential-services.ts';
import { vendingConfigured } from './broker/vending-readiness.ts';
import { LOCAL_AWS_PATH } from './config/local-aws-schema.ts';
import type { Config } from './config/schema.ts';
import { type Authenticator, authenticate } from './http/middleware/authenticate.ts';
import { corsPolicy } from './http/middleware/cors-policy.ts';
import { errorHandler, notFound } from './http/middleware/error-handler.ts';
import { createRateLimits } from './http/middleware/rate-limit.ts';
import { requestScope } from './http/middleware/request-id.ts';
import { requestLog } from './http/middleware/request-log.ts';
import { securityHeaders } from './http/middleware/security-headers.ts';
import { authRoutes } from './http/routes/auth.ts';
import { brandRoutes } from './http/routes/brand-assets.ts';
import { credentialRoutes } from './http/routes/credentials.ts';
import { guestRoutes } from './http/routes/guest.ts';
import { healthRoutes, type Lifecycle } from './http/routes/health.ts';
import { openApiRoutes } from './http/routes/openapi.ts';
import { presignRoutes } from './http/routes/presign.ts';
import type { LocalAwsService } from './local-aws/local-aws-mount.ts';
import { type AuditLog, createAuditLog } from './observability/audit.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { brokerCredentialSource } from './presign/broker-credentials.ts';
import { noBucketsPresignService } from './presign/no-buckets.ts';
import type { PresignService } from './presign/presign-service.ts';
import type { StateStore } from './store/types.ts';

/** Everything the app needs from outside. main.ts wires the real ones; tests wire their own. */
export interface AppDeps {
  config: Readonly<Config>;
  store: StateStore;
  logger: Logger;
  metrics?: Metrics;
  audit?: AuditLog;
  lifecycle?: Lifecycle;
  /** Cognito Identity and STS clients; default: built from config.aws with the standard credential chain. */
  awsClients?: AwsClients;
}

/**
 * Builds the HTTP application without listening. The chain below is the whole path a
 * request takes, top to bottom. Optional parts (the development IdP, SAML, the portal, the
 * device grant, the presigners) are imported only when the configuration uses them, so a
 * server never pays start-up time or memory for code it cannot run.
 */
export async function createApp(deps: AppDeps): Promise<Express> {
  const { config, store, logger } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const audit = deps.audit ?? createAuditLog(logger);
  const lifecycle = deps.lifecycle ?? { draining: false };
  const rateLimit = createRateLimits({ config, store, metrics, audit });
  // Identity administration (off unless configured): suspensions checked at sign-in, on every
  // vend and for bearer callers; the /admin API and the portal's admin page.
  let admin: Admin | undefined;
  if (config.admin.enabled) {
    const { createAdmin } = await import('./admin/admin.ts');
    admin = createAdmin({ config, store, logger, audit, metrics });
  }
  // The CLI's sign-in (RFC 8628 device grant, approved in the portal) and the tokens it yields.
  const cliTokens = new CliTokens(store, config.portal.device.tokenTtlSeconds);
  const loginProviders = await createLoginProviders({
    config,
    store,
    logger,
    audit,
    onIdpLogout: (provider, subject) => cliTokens.revokeAll(provider, subject),
  });
  // Development only (refused in production): Cognito Identity, STS and S3 served by keywarden.
  let localAws: LocalAwsService | undefined;
  if (config.localAws.enabled) {
    const { startLocalAws } = await import('./local-aws/local-aws-mount.ts');
    localAws = await startLocalAws({ config, logger });
  }
  const credentials = createCredentialServices({
    config,
    store,
    logger,
    metrics,
    audit,
    awsClients: deps.awsClients ?? localAws?.clients,
    guard: admin?.guard,
  });
  const devices = config.portal.device.enabled
    ? new DeviceAuthorizations(store, config.portal.device)
    : undefined;

  const app = express();
  app.disable('x-powered-by');
  // Express takes the client IP this many hops from the right of X-Forwarded-For.
  app.set('trust proxy', config.server.trustProxyHops);
  app.set('query parser', 'simple');
  // Nothing keywarden answers is worth a conditional GET, and an ETag hashes every body.
  app.set('etag', false);

  app.use(requestScope());
  app.use(requestLog({ logger, metrics }));
  // Before the security headers, CORS and rate limits: S3 answers with its own headers and CORS rules.
  if (localAws) app.use(LOCAL_AWS_PATH, localAws.handle);
  app.use(securityHeaders());
  app.use(healthRoutes({ store, metrics, lifecycle, metricsEnabled: config.metrics.enabled }));
  // The favicon and the portal's logo: fixed files, ahead of rate limits and sessions.
  app.use(brandRoutes(config.portal));

  app.use(corsPolicy(config.cors));
  // Served without a session or a caller, and counted in the default rate-limit group.
  app.use(openApiRoutes(rateLimit('default')));
  // Development only (refused in production): an in-process OIDC IdP keywarden reaches over HTTP.
  if (config.auth.devIdp.enabled) {
    const { createDevIdp, DEV_IDP_PATH } = await import('./auth/dev-idp/dev-idp.ts');
    app.use(DEV_IDP_PATH, rateLimit('default'), createDevIdp({ config, logger }));
  }

  // Everything else: the default per-IP limit is counted while the caller's session or
  // guest/CLI token record is read (one round trip to the store for both); nothing past `admit`
  // runs for a request over the limit, and costly checks (signatures, IdP calls) wait for it.
  app.use(rateLimit.start('default'));
  // The browser session (cookie → server-side record); a store failure here is a 503.
  app.use(createSessionMiddleware({ config, store, logger, admission: admin?.admission }));
  // Who is calling: CLI token (`Bearer kwcli_…`), bearer JWT, then guest token, then session
  // cookie (see authenticate.ts).
  const authenticators: Authenticator[] = [
    cliTokenAuthenticator({ tokens: cliTokens, audit }),
    createBearerAuthenticator({
      config: config.bearer,
      logger,
      audit,
      metrics,
      store,
      production: config.env === 'production',
    }),
    guestTokenAuthenticator(credentials.guestTokens),
    sessionAuthenticator({ keepAlive: keepSessionsAlive(loginProviders) }),
  ];
  app.use(authenticate(authenticators, rateLimit.admitted));
  app.use(rateLimit.admit());
  // A suspended bearer or guest-token caller is refused on every route (awaited with the rate limit).
  if (admin) app.use(admin.screening);
  app.use(express.json({ limit: config.server.bodyLimit, type: ['application/json', 'application/*+json'] }));

  // Routes, by capability.
  app.use(
    '/auth',
    authRoutes({
      config,
      providers: loginProviders,
      audit,
      rateLimit,
      allowedRoles: (principal) => credentials.broker.allowedRoles(principal).map((role) => role.name),
    }),
  );
  app.use(
    guestRoutes({
      config: config.guests,
      guestRoleConfigured: config.credentials.guestRole !== undefined,
      identities: credentials.identities,
      tokens: credentials.guestTokens,
      rateLimit,
      audit,
    }),
  );
  app.use(credentialRoutes({ broker: credentials.broker, rateLimit, audit, metrics }));
  if (devices) {
    const { deviceRoutes } = await import('./auth/device/device-routes.ts');
    app.use(
      deviceRoutes({
        config,
        authorizations: devices,
        tokens: cliTokens,
        rateLimit,
        audit,
        admission: admin?.admission,
      }),
    );
  }
  if (admin) app.use(admin.routes({ credentials, cliTokens, rateLimit }));
  if (config.portal.enabled) {
    const { portalRoutes } = await import('./portal/portal-routes.ts');
    app.use(
      portalRoutes({
        config,
        providers: loginProviders,
        broker: credentials.broker,
        devices,
        cliTokens,
        store,
        rateLimit,
        audit,
        metrics,
        logger,
        isAdmin: admin?.isAdmin,
        adminPages: admin?.portalPages({ rateLimit }),
      }),
    );
  }
  let presign: PresignService = noBucketsPresignService({ vendingConfigured: vendingConfigured(config) });
  if (config.presign.buckets.length > 0) {
    const { createPresignService } = await import('./presign/presign-service.ts');
    presign = createPresignService({
      config: config.presign,
      store,
      credentialsFor: brokerCredentialSource(credentials.broker),
      s3: {
        connectTimeoutMs: config.aws.connectTimeoutMs,
        requestTimeoutMs: config.aws.requestTimeoutMs,
        maxAttempts: config.aws.maxAttempts,
      },
    });
  }
  app.use(presignRoutes({ service: presign, rateLimit, audit, metrics }));

  app.use(notFound());
  app.use(errorHandler(logger));
  return app;
}
