import type { Logger } from 'pino';
import { type AwsClients, createAwsClients } from '../aws/clients.ts';
import { CacheKeyRing } from '../cache/cache-key-ring.ts';
import { CredentialCache } from '../cache/credential-cache.ts';
import { parseCacheKeys } from '../config/aws-schema.ts';
import type { Config } from '../config/schema.ts';
import { GuestTokens } from '../identity/guest-tokens.ts';
import { IdentityResolver } from '../identity/identity-resolver.ts';
import type { AuditLog } from '../observability/audit.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { StateStore } from '../store/types.ts';
import { CredentialBroker, type VendGuard } from './credential-broker.ts';
import { missingVendingSettings, vendingConfigured } from './vending-readiness.ts';

/** Everything credential vending is made of, built once per app. */
export interface CredentialServices {
  readonly broker: CredentialBroker;
  readonly identities: IdentityResolver;
  readonly guestTokens: GuestTokens;
  readonly cache: CredentialCache;
  readonly clients: AwsClients;
}

export function createCredentialServices(deps: {
  config: Readonly<Config>;
  store: StateStore;
  logger: Logger;
  metrics: Metrics;
  audit: AuditLog;
  /** Pre-built clients (tests point them at a double); default: from config.aws and the standard credential chain. */
  awsClients?: AwsClients;
  /** Admins' revocations, checked on every vend (only when admin is configured). */
  guard?: VendGuard | undefined;
}): CredentialServices {
  const { config, store, logger, metrics, audit } = deps;
  const clients = deps.awsClients ?? createAwsClients(config.aws);
  let keyRing: CacheKeyRing;
  if (config.cache.keys) {
    keyRing = new CacheKeyRing(parseCacheKeys(config.cache.keys));
  } else {
    // Config validation refuses this in production.
    keyRing = CacheKeyRing.ephemeral();
    logger.warn(
      'cache.keys is not set: the credential cache uses a random key made at start-up, so entries are neither shared between instances nor kept across restarts; set KEYWARDEN_CACHE__KEYS',
    );
  }
  const missing = missingVendingSettings(config);
  if (missing.length > 0) {
    const consequence = vendingConfigured(config)
      ? 'no signed-in user is given a role'
      : 'until then /credentials and /presign answer 501 vending_not_configured';
    logger.warn(
      { missing },
      `credential vending is not configured: set ${missing.join(', ')}; ${consequence}`,
    );
  }
  const identities = new IdentityResolver({ clients, config: config.aws, store, metrics, logger, audit });
  const cache = new CredentialCache({ store, keyRing, config: config.cache, metrics, logger });
  const broker = new CredentialBroker({
    clients,
    aws: config.aws,
    config: config.credentials,
    identities,
    cache,
    metrics,
    logger,
    guard: deps.guard,
  });
  return {
    broker,
    identities,
    cache,
    clients,
    guestTokens: new GuestTokens(store, config.guests.tokenTtlSeconds),
  };
}
