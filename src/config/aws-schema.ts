import { z } from 'zod';
import { validateScopeTemplate } from '../broker/scope-policy.ts';

/**
 * Configuration for credential vending: the AWS clients and the identity pool (`aws`),
 * roles, role rules and scopes (`credentials`), the encrypted credential cache (`cache`)
 * and guest identities (`guests`). Cross-field rules are in `checkCredentialsConfig`.
 */

const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/[\w+=,.@\-/]{1,512}$/;
const NAME = /^[a-zA-Z][\w.-]{0,63}$/;

/** The shortest and longest session AWS allows for an assumed role. */
export const MIN_SESSION_SECONDS = 900;
const MAX_SESSION_SECONDS = 43_200;
/** GetCredentialsForIdentity (enhanced flow) always answers one-hour credentials. */
export const ENHANCED_FLOW_SECONDS = 3_600;

export const awsSchema = z
  .strictObject({
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as eu-west-1')
      .default('us-east-1')
      .describe('The region of the identity pool and STS.'),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'One endpoint for Cognito Identity and STS (an emulator). Unset, the SDK uses `AWS_ENDPOINT_URL(_<SERVICE>)` if set, else the regional endpoints. Set by keywarden while the local AWS is on.',
      ),
    connectTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(1_000)
      .describe('TCP connect timeout of each AWS call.'),
    requestTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(3_000)
      .describe('Time to the response of each attempt; the SDK retries after it.'),
    maxAttempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .describe('Attempts per AWS call, the first included; throttling and 5xx are retried with backoff.'),
    retryMode: z.enum(['standard', 'adaptive']).default('standard').describe("The SDK's retry mode."),
    pool: z
      .strictObject({
        identityPoolId: z
          .string()
          .regex(/^[\w-]+:[0-9a-f-]+$/, 'expected an identity pool id such as eu-west-1:uuid')
          .optional()
          .describe(
            'The Cognito identity pool, `<region>:<uuid>`. Without it (or without roles) `/credentials` and `/presign` answer 501 `vending_not_configured`.',
          ),
        developerProviderName: z
          .string()
          .min(1)
          .max(128)
          .default('login.keywarden')
          .describe("The pool's developer provider name (custom authentication provider)."),
        flow: z
          .enum(['basic', 'enhanced'])
          .default('basic')
          .describe(
            "`basic`: `AssumeRoleWithWebIdentity` with a session policy (scopes work). `enhanced`: `GetCredentialsForIdentity` (one hour, the pool's roles, no scopes).",
          ),
        tokenDurationSeconds: z
          .number()
          .int()
          .min(1)
          .max(86_400)
          .default(300)
          .describe('Lifetime of the Cognito OpenID token; it is used at once and never stored.'),
        principalTags: z
          .record(z.string().regex(/^[\w.:/=+\-@]{1,128}$/), z.string().min(1))
          // Cognito takes at most 50 principal tags; more would fail every developer-token request.
          .refine((tags) => Object.keys(tags).length <= 50, 'at most 50 principal tags (a Cognito limit)')
          .default({})
          .describe(
            "Principal tags sent with `GetOpenIdTokenForDeveloperIdentity`: tag key → principal claim name (at most 50). The roles' trust policies must allow `sts:TagSession`.",
          ),
      })
      .prefault({}),
  })
  .describe(
    'The AWS clients and the Cognito identity pool keywarden vends credentials through. See [aws-setup.md](aws-setup.md).',
  );

const roleSchema = z.strictObject({
  arn: z.string().regex(ROLE_ARN, 'expected an IAM role ARN').describe('The IAM role.'),
  maxSessionDuration: z
    .number()
    .int()
    .min(MIN_SESSION_SECONDS)
    .max(MAX_SESSION_SECONDS)
    .default(3_600)
    .describe(
      "The role's MaxSessionDuration in IAM; longer requests are refused (400) before AWS is called.",
    ),
  displayName: z.string().min(1).max(128).optional().describe("The role's name in the portal."),
  account: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .meta({ description: 'The account the portal groups the role under.', defaultText: "the ARN's account" }),
});

const roleRuleSchema = z.strictObject({
  claim: z.string().min(1).describe('The principal claim to test (`groups`, `email`, `provider`…).'),
  match: z
    .enum(['equals', 'contains', 'startsWith', 'notEqual'])
    .describe(
      'How to compare. A multi-valued claim matches when any value does (`notEqual`: when none equals).',
    ),
  value: z.string().describe('The value compared with.'),
  role: z.string().regex(NAME).describe('The role a match allows (a `credentials.roles` name).'),
});

const SCOPE_POLICY_DESCRIPTION =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the scope template syntax, not a JS template
  'An IAM policy document: the session policy. String values may use `${identityId}`, `${sub}`, `${provider}` and `${claim.<name>}`; anything with a colon (`${aws:username}`) is left to IAM. Rendered, at most 2,048 characters.';

const scopeSchema = z.strictObject({
  description: z.string().optional().describe('What the scope is for.'),
  policy: z
    .record(z.string(), z.unknown())
    .meta({ description: SCOPE_POLICY_DESCRIPTION, typeText: 'IAM policy document' }),
});

export const credentialsSchema = z
  .strictObject({
    roles: z
      .record(z.string().regex(NAME), roleSchema)
      .default({})
      .meta({ description: 'The roles keywarden may vend, by name.', key: 'role' }),
    roleRules: z
      .array(roleRuleSchema)
      .default([])
      .describe(
        "Ordered like Cognito's rules: every matching rule allows its role, the first is the preferred one. A missing claim matches nothing.",
      ),
    defaultRole: z
      .string()
      .regex(NAME)
      .optional()
      .describe(
        'The role of signed-in users that no rule matches (with `ambiguousRoleResolution: default`).',
      ),
    guestRole: z
      .string()
      .regex(NAME)
      .optional()
      .describe('The role of guests; unset, guests get no credentials.'),
    ambiguousRoleResolution: z
      .enum(['default', 'deny'])
      .default('default')
      .describe('When no rule matches: `default` gives `defaultRole`, `deny` refuses (403).'),
    scopes: z
      .record(z.string().regex(NAME), scopeSchema)
      .default({})
      .meta({ description: 'Session-policy templates, by name (basic flow only).', key: 'scope' }),
    defaultScope: z
      .string()
      .regex(NAME)
      .optional()
      .describe(
        "The scope used when a request names none (basic flow); unset, the role's own permissions apply.",
      ),
    defaultDurationSeconds: z
      .number()
      .int()
      .min(MIN_SESSION_SECONDS)
      .max(MAX_SESSION_SECONDS)
      .default(3_600)
      .describe("Credential lifetime when a request names none; must fit every role's `maxSessionDuration`."),
    maxVariableLength: z
      .number()
      .int()
      .min(8)
      .max(256)
      .default(64)
      .describe(
        'The longest value one scope variable may take; a longer claim is refused (403), never spliced.',
      ),
  })
  .describe('Roles, role rules and scopes: which credentials a caller may get.');

/** `<id>:<base64 of 32 bytes>`; one string, a comma/space separated list, or a YAML list. */
const cacheKeysSchema = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? value
          .split(/[\s,]+/)
          .map((part) => part.trim())
          .filter(Boolean)
      : value,
  z
    .array(
      z
        .string()
        .regex(/^[\w-]{1,32}:[A-Za-z0-9+/_-]{43}=?$/, 'expected <id>:<base64 of 32 bytes>')
        .refine((entry) => keyBytes(entry).length === 32, 'the key must be 32 bytes'),
    )
    .min(1),
);

function keyBytes(entry: string): Buffer {
  const encoded = entry.slice(entry.indexOf(':') + 1);
  return Buffer.from(encoded.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

export const cacheSchema = z
  .strictObject({
    keys: cacheKeysSchema.optional().meta({
      description:
        'AES-256-GCM keys `<id>:<base64 of 32 bytes>`, newest first (a list, or one string separated by commas or spaces). New entries are sealed with the first; any listed key opens. Required in production once a pool is set.',
      defaultText: 'a random key per process (outside production)',
    }),
    minRemainingSeconds: z
      .number()
      .int()
      .min(0)
      .max(3_600)
      .default(300)
      .describe('Never hand out credentials with less than this left.'),
    refreshAheadSeconds: z
      .number()
      .int()
      .min(0)
      .max(3_600)
      .default(600)
      .describe('Within this of expiry a cached entry is still served but replaced in the background.'),
    lockTtlMs: z
      .number()
      .int()
      .min(100)
      .max(120_000)
      .default(30_000)
      .describe(
        'How long one instance may hold the vend lock while others wait for its result. At least 2 × `aws.maxAttempts` × (`connectTimeoutMs` + `requestTimeoutMs`), the slowest vend.',
      ),
    waitTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(120_000)
      .default(15_000)
      .describe("How long a request waits for another instance's vend before answering 503."),
    pollIntervalMs: z
      .number()
      .int()
      .min(5)
      .max(1_000)
      .default(25)
      .describe('How often a waiting request looks for that result.'),
  })
  .describe(
    'The credential cache: per (identity, role, scope, duration, claims), encrypted in the shared store, one vend across instances, refreshed ahead of expiry.',
  );

export const guestsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Allow guest identities (`POST /identities/guest`).'),
    tokenTtlSeconds: z
      .number()
      .int()
      .positive()
      .default(30 * 24 * 3600)
      .describe('Lifetime of a guest token (apps); the identity itself lives on in Cognito.'),
  })
  .describe(
    'Guests: unauthenticated identities for apps without sign-in, kept in the session or behind a guest token.',
  );

export type AwsConfig = z.infer<typeof awsSchema>;
export type CredentialsConfig = z.infer<typeof credentialsSchema>;
export type RoleConfig = z.infer<typeof roleSchema>;
export type RoleRuleConfig = z.infer<typeof roleRuleSchema>;
export type ScopeConfig = z.infer<typeof scopeSchema>;
export type CacheConfig = z.infer<typeof cacheSchema>;
export type GuestsConfig = z.infer<typeof guestsSchema>;

export const credentialSecretPaths: readonly string[] = ['cache.keys'];

/** The account id in a role ARN. */
export function accountOf(arn: string): string | undefined {
  return ROLE_ARN.exec(arn)?.[1];
}

/** Decodes `cache.keys` entries into (id, 32-byte key), newest first. */
export function parseCacheKeys(entries: readonly string[]): Array<{ id: string; key: Buffer }> {
  return entries.map((entry) => ({ id: entry.slice(0, entry.indexOf(':')), key: keyBytes(entry) }));
}

interface CredentialSections {
  env: string;
  aws: AwsConfig;
  credentials: CredentialsConfig;
  cache: CacheConfig;
  guests: GuestsConfig;
}

/** Rules across the credential sections; scope templates are checked by rendering a worst case. */
export function checkCredentialsConfig(config: CredentialSections, ctx: z.RefinementCtx): void {
  const issue = (path: Array<string | number>, message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  const { credentials, aws, cache } = config;
  const roleNames = new Set(Object.keys(credentials.roles));
  const checkRole = (path: Array<string | number>, name: string | undefined) => {
    if (name !== undefined && !roleNames.has(name))
      issue(path, `no role named "${name}" in credentials.roles`);
  };
  checkRole(['credentials', 'defaultRole'], credentials.defaultRole);
  checkRole(['credentials', 'guestRole'], credentials.guestRole);
  credentials.roleRules.forEach((rule, index) => {
    checkRole(['credentials', 'roleRules', index, 'role'], rule.role);
  });
  for (const [name, role] of Object.entries(credentials.roles)) {
    if (credentials.defaultDurationSeconds > role.maxSessionDuration && aws.pool.flow === 'basic') {
      // The default applies to every role, so it must fit each of them.
      issue(
        ['credentials', 'defaultDurationSeconds'],
        `exceeds the maxSessionDuration of role "${name}" (${role.maxSessionDuration})`,
      );
    }
  }
  const scopeNames = Object.keys(credentials.scopes);
  if (aws.pool.flow === 'enhanced' && scopeNames.length > 0) {
    issue(
      ['credentials', 'scopes'],
      'scopes need the basic flow (aws.pool.flow: basic): the enhanced flow cannot pass a session policy',
    );
  }
  if (credentials.defaultScope !== undefined && !scopeNames.includes(credentials.defaultScope)) {
    issue(['credentials', 'defaultScope'], `no scope named "${credentials.defaultScope}"`);
  }
  for (const [name, scope] of Object.entries(credentials.scopes)) {
    for (const problem of validateScopeTemplate(scope.policy, credentials.maxVariableLength)) {
      issue(['credentials', 'scopes', name, 'policy'], problem);
    }
  }
  if (cache.minRemainingSeconds >= MIN_SESSION_SECONDS) {
    issue(['cache', 'minRemainingSeconds'], `must be below the shortest session (${MIN_SESSION_SECONDS} s)`);
  }
  if (cache.refreshAheadSeconds < cache.minRemainingSeconds) {
    issue(['cache', 'refreshAheadSeconds'], 'must be at least cache.minRemainingSeconds');
  }
  if (cache.refreshAheadSeconds >= MIN_SESSION_SECONDS) {
    // Otherwise a fresh 900 s credential is already due for refresh: every read would start a vend.
    issue(['cache', 'refreshAheadSeconds'], `must be below the shortest session (${MIN_SESSION_SECONDS} s)`);
  }
  if (cache.keys) {
    // Decryption picks the key by id: two keys with one id would leave one of them unused.
    const ids = parseCacheKeys(cache.keys).map(({ id }) => id);
    ids.forEach((id, index) => {
      if (ids.indexOf(id) !== index) issue(['cache', 'keys', index], `key id "${id}" is listed twice`);
    });
  }
  if (config.env === 'production' && aws.endpoint && new URL(aws.endpoint).protocol !== 'https:') {
    // Cognito and STS answer with tokens and secret keys in the response body.
    issue(['aws', 'endpoint'], 'must be https in production: credentials come back in the response');
  }
  // A vend is two AWS calls (OpenID token, then credentials), each retried up to maxAttempts.
  const slowestVendMs = 2 * aws.maxAttempts * (aws.connectTimeoutMs + aws.requestTimeoutMs);
  if (cache.lockTtlMs < slowestVendMs) {
    issue(
      ['cache', 'lockTtlMs'],
      `must be at least ${slowestVendMs} ms (2 AWS calls × aws.maxAttempts × (connectTimeoutMs + requestTimeoutMs)): a lock that expires during a slow vend lets another instance vend the same credentials again`,
    );
  }
  if (cache.waitTimeoutMs < aws.requestTimeoutMs) {
    issue(
      ['cache', 'waitTimeoutMs'],
      'must be at least aws.requestTimeoutMs, or waiters give up on a healthy vend',
    );
  }
  // Without a pool nothing is vended and nothing cached; with one, production needs shared keys.
  if (config.env === 'production' && aws.pool.identityPoolId && !cache.keys) {
    issue(
      ['cache', 'keys'],
      'required in production when aws.pool.identityPoolId is set (KEYWARDEN_CACHE__KEYS or KEYWARDEN_CACHE__KEYS_FILE)',
    );
  }
}
