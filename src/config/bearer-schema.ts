import { z } from 'zod';
import { withBearerDefaults } from '../auth/provider-presets.ts';
import { documentClaimsSchema, documentPath, userInfoSchema } from './oauth2-schema.ts';

/**
 * Trusted issuers of bearer tokens (mobile apps and API clients that signed in with their
 * own IdP). Each entry is keyed by a name that becomes the principal's `provider`, so the
 * name must be env-mappable: `KEYWARDEN_BEARER__ISSUERS__<NAME>__AUDIENCES=[...]`.
 */

/** Asymmetric JWS algorithms only: the verification keys come from a public JWKS. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

const algorithm = z.string().transform((value, ctx): AsymmetricAlgorithm => {
  if (value.toLowerCase() === 'none') {
    ctx.addIssue({ code: 'custom', message: 'alg "none" is never accepted: unsigned tokens prove nothing' });
    return z.NEVER;
  }
  if (/^HS/i.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message: `${value} is refused: a symmetric algorithm would let anyone holding the public JWKS key forge tokens`,
    });
    return z.NEVER;
  }
  const known = ASYMMETRIC_ALGORITHMS.find((candidate) => candidate === value);
  if (!known) {
    ctx.addIssue({ code: 'custom', message: `expected one of ${ASYMMETRIC_ALGORITHMS.join(', ')}` });
    return z.NEVER;
  }
  return known;
});

const httpUrl = z.url({ protocol: /^https?$/ });

/** Where the principal's fields come from in the token's claims. */
const claimMappingSchema = z.strictObject({
  subject: z.string().min(1).default('sub').describe("A top-level claim holding the user's stable id."),
  name: z.string().min(1).default('name').describe('The claim holding the display name.'),
  email: z.string().min(1).default('email').describe('The claim holding the email address.'),
  groups: z
    .string()
    .min(1)
    .default('groups')
    .describe(
      'The claim holding group names: an exact claim name (`cognito:groups`, `https://example.com/groups`) or, when no claim has that exact name, a dot path into nested objects (`realm_access.roles`).',
    ),
  extra: z
    .record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/), z.string().min(1))
    .default({})
    .describe('More claims: claim name → token claim name or dot path.'),
});

export const bearerIssuerSchema = z
  .strictObject({
    kind: z
      .literal('jwt')
      .default('jwt')
      .describe("A signed JWT checked with the issuer's public keys (the default kind)."),
    issuer: httpUrl.describe(
      'The exact `iss` value tokens carry; tokens are routed to an entry by `iss` and token type (https in production).',
    ),
    jwksUri: httpUrl.optional().meta({
      description:
        "Where the signing keys are; unset, read from the issuer's OpenID discovery document (whose `issuer` must match).",
      defaultText: 'discovery',
    }),
    tokenType: z
      .enum(['access', 'id'])
      .default('access')
      .describe(
        "`access`: RFC 9068 JWT access tokens (header `typ: at+jwt`), `aud` is the API identifier. `id`: OpenID Connect ID tokens, `aud` is the app's client id (`azp` required with several audiences, and must be a listed client id). One kind is never accepted where the other is expected.",
      ),
    audiences: z
      .array(z.string().min(1))
      .min(1)
      .describe('Accepted `aud` values: API identifiers (access tokens) or client ids (ID tokens).'),
    clientIds: z.array(z.string().min(1)).min(1).optional().meta({
      description: 'Access tokens only: accepted `client_id` (or `azp`) values.',
      defaultText: 'any',
    }),
    algorithms: z
      .array(algorithm)
      .min(1)
      .default(['RS256', 'ES256'])
      .describe(
        'Accepted asymmetric algorithms (RS*, PS*, ES*, EdDSA). `none` and HS* are refused when the config loads.',
      ),
    clockToleranceSeconds: z
      .number()
      .int()
      .min(0)
      .max(300)
      .default(30)
      .describe('Leeway for `exp` and `nbf` (and `iat` with `maxTokenAgeSeconds`).'),
    maxTokenAgeSeconds: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Refuse tokens issued (`iat`) longer ago than this, whatever their `exp`.'),
    requiredClaims: z
      .array(z.string().min(1))
      .default([])
      .describe('Claims that must be present besides `iss`, `sub`, `aud`, `exp` and `iat`.'),
    provider: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/)
      .optional()
      .meta({
        description:
          "The principal's `provider` (the first half of the developer user identifier). Set it to a browser login provider's name when both are the same IdP, so a user's web and mobile sign-ins share one identity.",
        defaultText: "the entry's name",
      }),
    claims: claimMappingSchema.prefault({}),
    jwks: z
      .strictObject({
        cacheMaxAgeSeconds: z
          .number()
          .int()
          .min(1)
          .default(600)
          .describe('Keys are refetched after this long even when every `kid` is known.'),
        cooldownSeconds: z
          .number()
          .int()
          .min(0)
          .default(30)
          .describe(
            'An unknown `kid` triggers at most one refetch per this many seconds: a rotation is picked up at once, a flood of made-up kids costs one fetch.',
          ),
        timeoutMs: z
          .number()
          .int()
          .positive()
          .max(30_000)
          .default(3_000)
          .describe('Discovery and JWKS fetch timeout.'),
        failureBackoffSeconds: z
          .number()
          .int()
          .min(1)
          .max(300)
          .default(5)
          .describe('After a failed fetch, answer 503 without calling the issuer again for this long.'),
      })
      .prefault({}),
  })
  .describe(
    "JWTs (access tokens or ID tokens) from an issuer the app signs in with: signature by the issuer's keys, `iss`, `aud`, `typ`, `exp`, `nbf` checked. An entry without `kind` is this kind.",
  );

/** The principal's `provider`, as for JWT issuers: set it to the browser provider's name to share one identity. */
const providerOverride = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/)
  .optional()
  .meta({
    description:
      "The principal's `provider`; name the entry (or set this) like the browser login provider so web and app sign-ins share one identity.",
    defaultText: "the entry's name",
  });

/**
 * What every opaque-token kind shares: the answer is cached (in the shared store, under the
 * token's SHA-256 digest — never the token) so that a token costs one provider call per
 * `cache.maxSeconds` across all instances, and a refused token is not re-checked for
 * `cache.negativeSeconds`.
 */
const opaqueCommon = {
  provider: providerOverride,
  cache: z
    .strictObject({
      maxSeconds: z
        .number()
        .int()
        .min(1)
        .max(3_600)
        .default(300)
        .describe(
          'A valid token is trusted this long at most (never past its own expiry); a token revoked at the provider keeps working until then.',
        ),
      negativeSeconds: z
        .number()
        .int()
        .min(0)
        .max(300)
        .default(30)
        .describe('A refused token is answered from the cache this long (0: never cached).'),
    })
    .prefault({}),
  timeoutMs: z
    .number()
    .int()
    .positive()
    .max(30_000)
    .default(3_000)
    .describe('Timeout of each call to the provider; a slow provider answers 503, not 401.'),
  failureBackoffSeconds: z
    .number()
    .int()
    .min(1)
    .max(300)
    .default(5)
    .describe(
      'After an outage (timeout, 5xx, rate limit), answer 503 without calling the provider for this long.',
    ),
};

/**
 * Facebook user access tokens from the mobile SDK: Graph API `debug_token` with the app access
 * token (`<appId>|<appSecret>`) must say the token is valid, a USER token, of this app, not
 * expired; then `/me` gives the profile. The subject is the app-scoped user id, the same one the
 * browser sign-in (preset facebook) sees.
 */
export const facebookIssuerSchema = z
  .strictObject({
    kind: z
      .literal('facebook')
      .describe('Facebook user access tokens, checked with Graph API `debug_token`.'),
    appId: z
      .string()
      .regex(/^\d{1,32}$/, 'the numeric Facebook app id')
      .describe('The numeric Facebook app id.'),
    appSecret: z.string().min(1).optional().describe('The app secret; required.'),
    debugTokenUrl: httpUrl.describe('Graph API `debug_token`.'),
    userInfo: userInfoSchema,
    claims: documentClaimsSchema,
    ...opaqueCommon,
  })
  .describe(
    'Facebook user access tokens from the mobile SDK: `debug_token` (with the app access token) must say the token is valid, a USER token of this app, not expired; then `/me` gives the profile. Sent with `X-Token-Issuer: <name>`.',
  );

/**
 * GitHub OAuth or GitHub App user tokens: GitHub's "check a token" API, called as this app
 * (client id and secret), answers only for tokens issued to this app — a token another app
 * obtained from the same user is refused, which `/user` alone could not tell. Then the same
 * user calls as the browser sign-in (preset github).
 */
export const githubIssuerSchema = z
  .strictObject({
    kind: z.literal('github').describe('GitHub user tokens, checked with GitHub\'s "check a token" API.'),
    clientId: z.string().min(1).describe("The GitHub app's client id."),
    clientSecret: z.string().min(1).optional().describe("The GitHub app's client secret; required."),
    checkTokenUrl: httpUrl.describe(
      'GitHub\'s "check a token" API; `{clientId}` is replaced by the client id.',
    ),
    userInfo: userInfoSchema,
    claims: documentClaimsSchema,
    ...opaqueCommon,
  })
  .describe(
    'GitHub OAuth or GitHub App user tokens: "check a token", called as this app, must know the token for this app (another app\'s token for the same user is refused); then the browser preset\'s user calls give the claims. Sent with `X-Token-Issuer: <name>`.',
  );

/**
 * RFC 7662 token introspection, for enterprise IdPs that issue opaque access tokens: the
 * answer must be `active`, unexpired, and (when configured) from this issuer, for one of these
 * audiences and client ids. Claims are read from the introspection answer.
 */
export const introspectionIssuerSchema = z
  .strictObject({
    kind: z.literal('introspection').describe('Opaque access tokens checked by RFC 7662 introspection.'),
    introspectionEndpoint: httpUrl.describe("The IdP's introspection endpoint."),
    issuer: httpUrl.optional().describe("When set, an answer's `iss` (if present) must equal it."),
    clientId: z.string().min(1).describe("keywarden's own client at the IdP, allowed to introspect."),
    clientSecret: z.string().min(1).optional().describe("That client's secret; required."),
    clientAuthMethod: z
      .enum(['client_secret_basic', 'client_secret_post'])
      .default('client_secret_basic')
      .describe('How keywarden authenticates at the introspection endpoint.'),
    audiences: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .meta({ description: 'Accepted `aud` values.', defaultText: 'any' }),
    clientIds: z.array(z.string().min(1)).min(1).optional().meta({
      description: 'Accepted `client_id` values (the app the token was issued to).',
      defaultText: 'any',
    }),
    claims: documentClaimsSchema
      .extend({
        subject: documentPath
          .default('sub')
          .describe("Where the user's stable id is in the introspection answer."),
      })
      .prefault({}),
    ...opaqueCommon,
  })
  .describe(
    'Opaque access tokens of an enterprise IdP, checked by RFC 7662 introspection: `active` must be true, `exp`/`nbf` hold, and when configured `iss`, `aud` and `client_id` match. Claims are read from the answer. Sent with `X-Token-Issuer: <name>`.',
  );

const issuerKinds = z.discriminatedUnion('kind', [
  bearerIssuerSchema,
  facebookIssuerSchema,
  githubIssuerSchema,
  introspectionIssuerSchema,
]);

/**
 * An entry without `kind` is a JWT issuer, as before opaque kinds existed; the facebook and
 * github kinds start from their defaults (objects merge, the entry's own values win).
 */
const issuerEntry = z.preprocess(withBearerDefaults, issuerKinds);

export const bearerSchema = z
  .strictObject({
    issuers: z
      .record(z.string().regex(/^[a-z][a-z0-9]*$/), issuerEntry)
      .default({})
      .describe(
        "Trusted issuers of bearer tokens, by name (`^[a-z][a-z0-9]*$`). The name is the principal's `provider` unless `provider` says otherwise, so the developer user identifier is `<name>:<sub>`.",
      ),
  })
  .describe(
    'Bearer tokens from mobile apps and API clients that signed in with their own IdP. See [mobile.md](mobile.md).',
  );

export type BearerConfig = z.infer<typeof bearerSchema>;
/** A JWT issuer entry. */
export type BearerIssuerConfig = z.infer<typeof bearerIssuerSchema>;
export type FacebookIssuerConfig = z.infer<typeof facebookIssuerSchema>;
export type GithubIssuerConfig = z.infer<typeof githubIssuerSchema>;
export type IntrospectionIssuerConfig = z.infer<typeof introspectionIssuerSchema>;
export type OpaqueIssuerConfig = FacebookIssuerConfig | GithubIssuerConfig | IntrospectionIssuerConfig;
export type AnyBearerIssuerConfig = z.infer<typeof issuerKinds>;

export function isJwtIssuer(entry: AnyBearerIssuerConfig): entry is BearerIssuerConfig {
  return entry.kind === 'jwt';
}

export const bearerSecretPaths = ['bearer.issuers.*.appSecret', 'bearer.issuers.*.clientSecret'] as const;

/** Cross-field rules for the bearer section; `path` is where the section sits in the whole config. */
export function checkBearerConfig(
  bearer: BearerConfig,
  env: 'development' | 'test' | 'production',
  ctx: z.RefinementCtx,
): void {
  const seen = new Map<string, string>();
  for (const [name, entry] of Object.entries(bearer.issuers)) {
    const path = ['bearer', 'issuers', name];
    if (!isJwtIssuer(entry)) {
      checkOpaqueIssuer(entry, path, name, env, ctx);
      continue;
    }
    // Tokens are routed to an entry by (iss, token type); two entries would make that ambiguous.
    const key = `${entry.tokenType} ${entry.issuer}`;
    const other = seen.get(key);
    if (other) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'issuer'],
        message: `issuer ${entry.issuer} already accepts ${entry.tokenType} tokens under "${other}"`,
      });
    }
    seen.set(key, name);
    if (env === 'production') {
      for (const field of ['issuer', 'jwksUri'] as const) {
        const value = entry[field];
        if (value && !value.startsWith('https://')) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, field],
            message: 'must be https in production: signing keys fetched over plain HTTP can be swapped',
          });
        }
      }
    }
  }
}

function checkOpaqueIssuer(
  entry: OpaqueIssuerConfig,
  path: string[],
  name: string,
  env: 'development' | 'test' | 'production',
  ctx: z.RefinementCtx,
): void {
  const secretField = entry.kind === 'facebook' ? 'appSecret' : 'clientSecret';
  const secret = entry.kind === 'facebook' ? entry.appSecret : entry.clientSecret;
  if (!secret) {
    const envName = secretField === 'appSecret' ? 'APP_SECRET' : 'CLIENT_SECRET';
    ctx.addIssue({
      code: 'custom',
      path: [...path, secretField],
      message: `required (KEYWARDEN_BEARER__ISSUERS__${name.toUpperCase()}__${envName})`,
    });
  }
  if (env !== 'production') return;
  const urls: Array<[string[], string]> = [
    [['userInfo', 'url'], entry.kind === 'introspection' ? '' : entry.userInfo.url],
    ...(entry.kind === 'introspection'
      ? [[['introspectionEndpoint'], entry.introspectionEndpoint] as [string[], string]]
      : entry.kind === 'facebook'
        ? [[['debugTokenUrl'], entry.debugTokenUrl] as [string[], string]]
        : [[['checkTokenUrl'], entry.checkTokenUrl] as [string[], string]]),
    ...(entry.kind === 'introspection'
      ? []
      : Object.entries(entry.userInfo.extraCalls).map(([call, url]): [string[], string] => [
          ['userInfo', 'extraCalls', call],
          url,
        ])),
  ];
  for (const [where, url] of urls) {
    if (url && !url.startsWith('https://')) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, ...where],
        message: 'must be https in production: the token is sent there',
      });
    }
  }
}
