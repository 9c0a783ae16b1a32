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
const byteSize = z
  .union([
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
  ])
  .meta({ typeText: 'size: bytes, or `64kb`, `1mb`' });

const httpUrl = z.url({ protocol: /^https?$/ });

export const serverSchema = z
  .strictObject({
    host: z.string().default('0.0.0.0').describe('The address to listen on.'),
    port: z.number().int().min(0).max(65535).default(8080).meta({
      description: 'The port to listen on. 0 asks the system for a free port, which is then the one used.',
      env: 'PORT',
    }),
    publicUrl: httpUrl
      .transform((url) => url.replace(/\/+$/, ''))
      .optional()
      .meta({
        description:
          'The URL browsers and IdPs use to reach keywarden; redirect, callback and ACS URLs derive from it (kept without trailing slashes). Unset, it follows the port actually bound.',
        defaultText: '`http://localhost:<port>`',
      }),
    trustProxyHops: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(0)
      .describe(
        'How many reverse proxies sit in front of keywarden. The client IP is taken that many hops from the right of X-Forwarded-For, so a client cannot choose its own IP (rate limits, audit); X-Forwarded-Proto is believed from them.',
      ),
    bodyLimit: byteSize
      .default(64 * 1024)
      .describe('The largest JSON request body; a larger one answers 413.'),
    drainDelayMs: z
      .number()
      .int()
      .min(0)
      .max(300_000)
      .default(0)
      .describe(
        'After SIGTERM, keep serving (new connections too) this long while /readyz fails, so load balancers take the instance out of rotation before it stops accepting. 0: stop accepting at once.',
      ),
    shutdownGraceMs: durationMs
      .default(10_000)
      .describe('Then how long in-flight requests and open connections get before they are cut.'),
    requestTimeoutMs: durationMs
      .default(30_000)
      .describe("The HTTP server's time limit for receiving a whole request."),
    keepAliveTimeoutMs: durationMs
      .default(5_000)
      .describe('An idle keep-alive connection is closed after this long (also while draining).'),
  })
  .describe('The HTTP server: where it listens, how it is reached, and how it shuts down.')
  .transform(({ publicUrl, ...server }) => ({
    ...server,
    publicUrl: publicUrl ?? `http://localhost:${server.port}`,
  }));

export const corsSchema = z
  .strictObject({
    origins: z
      .array(z.url().refine((value) => new URL(value).origin === value, 'expected a bare origin'))
      .default([])
      .describe(
        'Exact origins (`scheme://host[:port]`) of the apps allowed to call keywarden with credentials (cookies). No other origin gets CORS headers. Also where `returnTo` may point.',
      ),
    maxAgeSeconds: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .default(600)
      .describe('How long browsers may cache a preflight answer.'),
  })
  .describe('Cross-origin calls from single-page apps on other origins.');

const redisNode = z.strictObject({
  host: z.string().min(1).describe('Host name or IP address.'),
  port: z.number().int().min(1).max(65535).describe('Port.'),
});

export const redisSchema = z.strictObject({
  mode: z
    .enum(['standalone', 'sentinel', 'cluster'])
    .default('standalone')
    .describe('`standalone` (`url`), `sentinel` (`sentinel`) or `cluster` (`cluster`).'),
  url: z
    .string()
    .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
    .optional()
    .meta({
      description:
        'Standalone mode: a `redis://` or `rediss://` (TLS) URL. `REDIS_URL` sets it and selects the Redis store. Keep the password out of it: `store.redis.password`.',
      env: 'REDIS_URL',
    }),
  sentinel: z
    .strictObject({
      masterName: z.string().min(1).describe('The name the sentinels know the primary by.'),
      sentinels: z.array(redisNode).min(1).describe('The sentinels to ask for the primary.'),
    })
    .optional()
    .describe('Sentinel mode: where the sentinels are.'),
  cluster: z
    .strictObject({
      rootNodes: z.array(redisNode).min(1).describe('Some cluster nodes; the rest are discovered.'),
    })
    .optional()
    .describe('Cluster mode: nodes to start from.'),
  username: z.string().optional().describe('ACL user name.'),
  password: z.string().optional().describe('ACL password.'),
  tls: z
    .boolean()
    .default(false)
    .describe('TLS to sentinel and cluster nodes (a `rediss://` URL does it for standalone).'),
  keyPrefix: z.string().default('kw:').describe('Prefix of every key keywarden writes.'),
  connectTimeoutMs: durationMs.default(2_000).describe('Bound on connecting.'),
  commandTimeoutMs: durationMs
    .default(1_000)
    .describe('Bound on every command: a slow Redis answers 503, never a hung request.'),
  reconnectBaseMs: durationMs
    .default(100)
    .describe('Reconnect backoff: min(base × 2^attempt, max), with jitter.'),
  reconnectMaxMs: durationMs.default(5_000).describe('The longest reconnect backoff.'),
});

export const storeSchema = z
  .strictObject({
    kind: z
      .enum(['memory', 'redis'])
      .default('memory')
      .describe('Where shared state lives. The memory store holds it for one process only.'),
    allowMemoryInProduction: z
      .boolean()
      .default(false)
      .describe('Production refuses the memory store unless this is set (one instance only).'),
    redis: redisSchema.prefault({}),
  })
  .describe(
    'Shared state: sessions, rate-limit counters, the credential cache, SAML and token replay caches, guest and CLI tokens, locks.',
  );

export const logSchema = z
  .strictObject({
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('The lowest level written.'),
  })
  .describe('Logs: JSON lines on stdout, secrets redacted.');

const rateLimitRule = z.strictObject({
  points: z.number().int().positive().describe('Requests allowed per window.'),
  windowSeconds: z.number().int().positive().describe('The window, in seconds.'),
});

const rateLimitGroup = z.strictObject({
  perIp: rateLimitRule,
  perIdentity: rateLimitRule
    .optional()
    .describe('Counted besides `perIp` once the caller is known, per identity.'),
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

export const rateLimitSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Rate limiting on or off.'),
    // Configured groups replace the defaults one by one, so setting one group never leaves a
    // route's group undefined.
    groups: z
      .record(z.string().regex(/^[a-z][a-zA-Z0-9]*$/), rateLimitGroup)
      .default({})
      .transform((groups) => ({ ...defaultRateLimitGroups, ...groups }))
      .meta({
        description:
          "Limits by route group. `default` counts every request per IP (health, metrics and favicon excepted); `auth`, `credentials`, `presign`, `guest` (per IP only) and `admin` count their routes on top. A configured group replaces that group's defaults only.",
        key: 'group',
      }),
  })
  .describe(
    'Fixed-window limits counted in the shared store, per client IP and per identity; a refusal is a 429 with `Retry-After`.',
  );

export const metricsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Serve `/metrics`.'),
  })
  .describe('Prometheus metrics at `/metrics`.');

export const configSchema = z.strictObject({
  env: z.enum(['development', 'test', 'production']).default('development').meta({
    description:
      'The environment, from `NODE_ENV` only (never set in a file); it picks `config/<env>.yaml` and turns on the production guards.',
    env: 'NODE_ENV',
    envOnly: true,
  }),
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
