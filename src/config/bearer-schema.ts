import { z } from 'zod';

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
  /** A top-level claim holding the stable subject identifier. */
  subject: z.string().min(1).default('sub'),
  name: z.string().min(1).default('name'),
  email: z.string().min(1).default('email'),
  /**
   * The claim holding group names: an exact claim name (`cognito:groups`,
   * `https://example.com/groups`) or, when no claim has that exact name, a dot path into
   * nested objects (`realm_access.roles`).
   */
  groups: z.string().min(1).default('groups'),
  /** More principal claims: principal claim name → token claim name or dot path. */
  extra: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/), z.string().min(1)).default({}),
});

export const bearerIssuerSchema = z.strictObject({
  /** The exact `iss` value tokens carry. */
  issuer: httpUrl,
  /** Where the signing keys are. When absent, read from the issuer's OpenID discovery document. */
  jwksUri: httpUrl.optional(),
  /**
   * Which kind of token this entry accepts. `access`: RFC 9068 JWT access tokens (header
   * `typ: at+jwt`), `aud` is the API identifier. `id`: OpenID Connect ID tokens, `aud` is
   * the app's client id. One kind is never accepted where the other is expected.
   */
  tokenType: z.enum(['access', 'id']).default('access'),
  /** Accepted `aud` values: API identifiers (access tokens) or client ids (ID tokens). */
  audiences: z.array(z.string().min(1)).min(1),
  /** Access tokens only: accepted `client_id` values; any when absent. */
  clientIds: z.array(z.string().min(1)).min(1).optional(),
  algorithms: z.array(algorithm).min(1).default(['RS256', 'ES256']),
  clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
  /** Refuse tokens issued (`iat`) longer ago than this, whatever their `exp`. */
  maxTokenAgeSeconds: z.number().int().positive().optional(),
  /** Claims that must be present in addition to iss, sub, aud, exp and iat. */
  requiredClaims: z.array(z.string().min(1)).default([]),
  /**
   * The principal's `provider` (and so the first half of the developer user identifier).
   * Defaults to this entry's name; set it to a browser login provider's name when both are
   * the same IdP, so a user's web and mobile sign-ins share one identity.
   */
  provider: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/)
    .optional(),
  claims: claimMappingSchema.prefault({}),
  jwks: z
    .strictObject({
      /** Keys are refetched after this long even when every `kid` is known. */
      cacheMaxAgeSeconds: z.number().int().min(1).default(600),
      /** An unknown `kid` triggers at most one refetch per this many seconds (caps a flood of made-up kids). */
      cooldownSeconds: z.number().int().min(0).default(30),
      timeoutMs: z.number().int().positive().max(30_000).default(3_000),
      /** After a failed fetch, answer 503 without calling the issuer again for this long. */
      failureBackoffSeconds: z.number().int().min(1).max(300).default(5),
    })
    .prefault({}),
});

export const bearerSchema = z.strictObject({
  issuers: z.record(z.string().regex(/^[a-z][a-z0-9]*$/), bearerIssuerSchema).default({}),
});

export type BearerConfig = z.infer<typeof bearerSchema>;
export type BearerIssuerConfig = z.infer<typeof bearerIssuerSchema>;

/** Cross-field rules for the bearer section; `path` is where the section sits in the whole config. */
export function checkBearerConfig(
  bearer: BearerConfig,
  env: 'development' | 'test' | 'production',
  ctx: z.RefinementCtx,
): void {
  const seen = new Map<string, string>();
  for (const [name, entry] of Object.entries(bearer.issuers)) {
    const path = ['bearer', 'issuers', name];
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
