import { z } from 'zod';
import { adminSchema, checkAdminConfig } from './admin-schema.ts';
import { authSchema, authSecretPaths, checkAuthConfig } from './auth-schema.ts';
import {
  awsSchema,
  cacheSchema,
  checkCredentialsConfig,
  credentialSecretPaths,
  credentialsSchema,
  guestsSchema,
} from './aws-schema.ts';
import { bearerSchema, bearerSecretPaths, checkBearerConfig } from './bearer-schema.ts';
import { checkPresignConfig, presignSchema } from './buckets-schema.ts';
import { checkLocalAwsConfig, localAwsSchema } from './local-aws-schema.ts';
import { checkPortalConfig, portalSchema } from './portal-schema.ts';
import { checkSessionConfig, sessionSchema, sessionSecretPaths } from './session-schema.ts';

/**
 * The one schema for every option keywarden reads. Defaults live here, not scattered
 * through the code; cross-field rules live in `checkConfig` at the bottom.
 * Later capabilities add their own section objects and list them in `configSchema`.
 */

const durationMs = z.number().int().positive();

/** A byte size written as a number or as `64kb`, `1mb`. */
const byteSize = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'expected a size such as 64kb or 1mb')
    .transform((value) => {
      const match = /^(\d+)(b|kb|mb)$/i.exec(value)!;
      const unit = match[2]!.toLowerCase();
      const factor = unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1;
      return Number(match[1]) * factor;
    }),
]);

const httpUrl = z.url({ protocol: /^https?$/ });

export const serverSchema = z
  .strictObject({
    host: z.string().default('0.0.0.0'),
    /** 0 asks the system for a free port; the port actually bound is then the one used. */
    port: z.number().int().min(0).max(65535).default(8080),
    /**
     * The URL browsers and IdPs use to reach keywarden; redirect and ACS URLs derive from it.
     * Kept without trailing slashes, so `${publicUrl}/path` is always one slash. Unset, it is
     * `http://localhost:<port>` and follows the listen port.
     */
    publicUrl: httpUrl.transform((url) => url.replace(/\/+$/, '')).optional(),
    /**
     * How many reverse proxies sit in front of keywarden. The client IP is taken that many
     * hops from the right of X-Forwarded-For, so a client cannot choose its own IP.
     */
    trustProxyHops: z.number().int().min(0).max(10).default(0),
    bodyLimit: byteSize.default(64 * 1024),
    /**
     * After SIGTERM, keep serving (new connections too) this long while /readyz fails, so load
     * balancers take the instance out of rotation before it stops accepting. 0: stop at once.
     */
    drainDelayMs: z.number().int().min(0).max(300_000).default(0),
    /** Then how long in-flight requests and open connections get before they are cut. */
    shutdownGraceMs: durationMs.default(10_000),
    requestTimeoutMs: durationMs.default(30_000),
    keepAliveTimeoutMs: durationMs.default(5_000),
  })
  .transform(({ publicUrl, ...server }) => ({
    ...server,
    publicUrl: publicUrl ?? `http://localhost:${server.port}`,
  }));

export const corsSchema = z.strictObject({
  /** Exact origins (scheme://host[:port]) allowed to call keywarden with credentials. */
  origins: z
    .array(z.url().refine((value) => new URL(value).origin === value, 'expected a bare origin'))
    .default([]),
  maxAgeSeconds: z.number().int().min(0).max(86_400).default(600),
});

const redisNode = z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535) });

export const redisSchema = z.strictObject({
  mode: z.enum(['standalone', 'sentinel', 'cluster']).default('standalone'),
  /** standalone: `redis://` or `rediss://` URL. */
  url: z
    .string()
    .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
    .optional(),
  sentinel: z
    .strictObject({
      masterName: z.string().min(1),
      sentinels: z.array(redisNode).min(1),
    })
    .optional(),
  cluster: z.strictObject({ rootNodes: z.array(redisNode).min(1) }).optional(),
  username: z.string().optional(),
  /** Secret: from KEYWARDEN_STORE__REDIS__PASSWORD(_FILE) only. */
  password: z.string().optional(),
  tls: z.boolean().default(false),
  keyPrefix: z.string().default('kw:'),
  connectTimeoutMs: durationMs.default(2_000),
  commandTimeoutMs: durationMs.default(1_000),
  /** Reconnect backoff: min(base * 2^attempt, max) with jitter. */
  reconnectBaseMs: durationMs.default(100),
  reconnectMaxMs: durationMs.default(5_000),
});

export const storeSchema = z.strictObject({
  kind: z.enum(['memory', 'redis']).default('memory'),
  /** The memory store holds state for one process only; production needs this set to run it. */
  allowMemoryInProduction: z.boolean().default(false),
  redis: redisSchema.prefault({}),
});

export const logSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const rateLimitRule = z.strictObject({
  /** Requests allowed per window. */
  points: z.number().int().positive(),
  windowSeconds: z.number().int().positive(),
});

const rateLimitGroup = z.strictObject({
  perIp: rateLimitRule,
  /** Applied in addition to perIp once the caller's identity is known. */
  perIdentity: rateLimitRule.optional(),
});

/**
 * Per-IP limits are generous because mobile carriers put many devices behind one address
 * (CGNAT); per-identity limits are what stop one app stuck in a retry loop. Guest creation
 * has no identity yet, so it is limited strictly per IP.
 */
const defaultRateLimitGroups: Record<string, z.infer<typeof rateLimitGroup>> = {
  default: { perIp: { points: 600, windowSeconds: 60 } },
  auth: {
    perIp: { points: 60, windowSeconds: 60 },
    perIdentity: { points: 120, windowSeconds: 60 },
  },
  credentials: {
    perIp: { points: 300, windowSeconds: 60 },
    perIdentity: { points: 120, windowSeconds: 60 },
  },
  presign: {
    perIp: { points: 600, windowSeconds: 60 },
    perIdentity: { points: 300, windowSeconds: 60 },
  },
  guest: { perIp: { points: 30, windowSeconds: 60 } },
  // Identity administration: a person at a console or the CLI, never a client in a loop.
  admin: {
    perIp: { points: 120, windowSeconds: 60 },
    perIdentity: { points: 60, windowSeconds: 60 },
  },
};

export const rateLimitSchema = z.strictObject({
  enabled: z.boolean().default(true),
  // Configured groups replace the defaults one by one, so setting one group never leaves a
  // route's group undefined.
  groups: z
    .record(z.string().regex(/^[a-z][a-zA-Z0-9]*$/), rateLimitGroup)
    .default({})
    .transform((groups) => ({ ...defaultRateLimitGroups, ...groups })),
});

export const metricsSchema = z.strictObject({
  enabled: z.boolean().default(true),
});

export const configSchema = z.strictObject({
  /** Taken from NODE_ENV; not set in files. */
  env: z.enum(['development', 'test', 'production']).default('development'),
  server: serverSchema.prefault({}),
  cors: corsSchema.prefault({}),
  store: storeSchema.prefault({}),
  log: logSchema.prefault({}),
  rateLimit: rateLimitSchema.prefault({}),
  metrics: metricsSchema.prefault({}),
  bearer: bearerSchema.prefault({}),
  auth: authSchema.prefault({}),
  session: sessionSchema.prefault({}),
  aws: awsSchema.prefault({}),
  credentials: credentialsSchema.prefault({}),
  cache: cacheSchema.prefault({}),
  guests: guestsSchema.prefault({}),
  presign: presignSchema.prefault({}),
  portal: portalSchema.prefault({}),
  localAws: localAwsSchema.prefault({}),
  admin: adminSchema.prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type RedisConfig = z.infer<typeof redisSchema>;
export type StoreConfig = z.infer<typeof storeSchema>;
export type RateLimitGroupConfig = z.infer<typeof rateLimitGroup>;

/**
 * Paths of secret values. They may come only from the environment (or `*_FILE`), never from
 * a YAML file in production, so that config files can be committed and mounted as ConfigMaps.
 * A `*` matches any single key (a provider name, say).
 */
export const secretPaths: readonly string[] = [
  'store.redis.password',
  ...authSecretPaths,
  ...bearerSecretPaths,
  ...sessionSecretPaths,
  ...credentialSecretPaths,
];

/** Rules that span fields; each problem is reported with the path it concerns. */
export function checkConfig(config: Config, ctx: z.RefinementCtx): void {
  if (config.rateLimit.groups.default?.perIdentity) {
    ctx.addIssue({
      code: 'custom',
      path: ['rateLimit', 'groups', 'default', 'perIdentity'],
      message: 'the default group applies before authentication, so it can only limit per IP',
    });
  }
  checkBearerConfig(config.bearer, config.env, ctx);
  checkAuthConfig(config, ctx);
  checkSessionConfig(config, ctx);
  checkCredentialsConfig(config, ctx);
  checkPortalConfig(config, ctx);
  checkLocalAwsConfig(config, ctx);
  checkAdminConfig(config, ctx);
  checkPresignConfig(config.presign, ctx, {
    roles: Object.keys(config.credentials.roles),
    scopes: Object.keys(config.credentials.scopes),
    production: config.env === 'production',
  });
  if (config.store.kind === 'redis') {
    const { mode, url, sentinel, cluster } = config.store.redis;
    if (mode === 'standalone' && !url) {
      ctx.addIssue({
        code: 'custom',
        path: ['store', 'redis', 'url'],
        message: 'required when store.kind is redis',
      });
    }
    if (mode === 'sentinel' && !sentinel) {
      ctx.addIssue({
        code: 'custom',
        path: ['store', 'redis', 'sentinel'],
        message: 'required for sentinel mode',
      });
    }
    if (mode === 'cluster' && !cluster) {
      ctx.addIssue({
        code: 'custom',
        path: ['store', 'redis', 'cluster'],
        message: 'required for cluster mode',
      });
    }
  }
  if (
    config.env === 'production' &&
    config.store.kind === 'memory' &&
    !config.store.allowMemoryInProduction
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['store', 'kind'],
      message:
        'the memory store keeps state in one process and is refused in production; use redis or set store.allowMemoryInProduction',
    });
  }
}
