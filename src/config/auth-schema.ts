import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import { LOGIN_PRESETS, withPreset } from '../auth/provider-presets.ts';
import {
  authParamsSchema,
  checkOAuth2Provider,
  documentPath,
  oauth2ProviderSchema,
  scopeToken,
} from './oauth2-schema.ts';
import { checkSamlProvider, samlProviderSchema, samlSecretPaths } from './saml-schema.ts';

/**
 * Login providers, keyed by name. Each entry is a discriminated union on `kind`: adding a
 * kind is one schema in its own file plus one entry in `loginProviderSchema` below (and
 * one case in src/auth/providers.ts).
 */

/** Names appear in URLs and env var names (KEYWARDEN_AUTH__PROVIDERS__<NAME>__CLIENT_SECRET). */
export const providerName = z
  .string()
  .regex(/^[a-z][a-z0-9]*$/, 'lower-case letters and digits, starting with a letter');

export const oidcProviderSchema = z.strictObject({
  kind: z.literal('oidc'),
  /** Shown on the sign-in choice; defaults to the provider name. */
  displayName: z.string().min(1).optional(),
  /** Exact issuer identifier; discovery reads `<issuer>/.well-known/openid-configuration`. */
  issuer: z.url({ protocol: /^https?$/ }),
  clientId: z.string().min(1),
  /** Secret: KEYWARDEN_AUTH__PROVIDERS__<NAME>__CLIENT_SECRET(_FILE). */
  clientSecret: z.string().min(1).optional(),
  clientAuthMethod: z
    .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt'])
    .default('client_secret_basic'),
  /** private_key_jwt: PKCS#8 PEM. Secret: KEYWARDEN_AUTH__PROVIDERS__<NAME>__PRIVATE_KEY(_FILE). */
  privateKey: z.string().min(1).optional(),
  privateKeyId: z.string().min(1).optional(),
  privateKeyAlg: z.enum(['RS256', 'PS256', 'ES256', 'EdDSA']).default('RS256'),
  scopes: z.array(scopeToken).default(['openid', 'profile', 'email']),
  /** Extra authorization request parameters (`prompt`, `acr_values`, `domain_hint`...). */
  authParams: authParamsSchema,
  /**
   * How the IdP returns the authorization response: `query` (a GET redirect) or `form_post`
   * (an auto-submitted cross-site POST to the same callback URL, which Sign in with Apple
   * requires when name or email is asked for). A form_post sign-in keeps its transaction in the
   * shared store, bound to the browser by a SameSite=None cookie, since the session cookie
   * (SameSite=Lax) does not ride a cross-site POST.
   */
  responseMode: z.enum(['query', 'form_post']).default('query'),
  /**
   * A client secret that is an ES256 JWT signed with the team's key (Sign in with Apple):
   * `iss` = teamId, `sub` = clientId, `aud` = audience, `kid` = keyId. Used when `teamId` is
   * set; made on first use and remade before it expires.
   */
  signedClientSecret: z
    .strictObject({
      teamId: z.string().min(1).optional(),
      keyId: z.string().min(1).optional(),
      /** PKCS#8 PEM (EC P-256). Secret: KEYWARDEN_AUTH__PROVIDERS__<NAME>__SIGNED_CLIENT_SECRET__PRIVATE_KEY(_FILE). */
      privateKey: z.string().min(1).optional(),
      /** The JWT's `aud`; default: the issuer. */
      audience: z.string().min(1).optional(),
      /** Apple refuses client secrets valid for more than 6 months (15,777,000 s). */
      lifetimeSeconds: z.number().int().min(60).max(15_777_000).default(15_777_000),
    })
    .optional(),
  /**
   * A form field the IdP posts, on the first sign-in only, with the user's name as JSON
   * (Sign in with Apple's `user`: `{"name":{"firstName":…,"lastName":…},"email":…}`). The name
   * is kept per user and becomes the `name` claim of every later sign-in; the email in it is
   * ignored (unsigned) — the ID token's is used. Needs responseMode form_post.
   */
  firstSignInUserField: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/)
    .optional(),
  /** Where the principal's fields come from in the ID token (and userinfo, if fetched). */
  claims: z
    .strictObject({
      subject: z.string().min(1).default('sub'),
      name: z.string().min(1).default('name'),
      email: z.string().min(1).default('email'),
      /** When set, `email` is kept only if this claim is true (or "true", as Apple sends it). */
      emailVerified: documentPath.optional(),
      /** Dotted path to a string or string array, e.g. `groups` or `realm_access.roles`. */
      groups: z.string().min(1).optional(),
      /** Further claims copied as they are (strings or string arrays only). */
      extra: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  /** Also call the userinfo endpoint and merge its claims (ID token claims win). */
  fetchUserinfo: z.boolean().default(false),
  /**
   * Keep the IdP session alive with the refresh token while the keywarden session is used;
   * the keywarden session ends when a refresh fails.
   */
  refreshTokens: z.boolean().default(false),
  /**
   * Put the ID token in the RP-initiated logout URL as `id_token_hint`. Off by default: the
   * logout URL goes through the browser, and the BFF keeps every token out of it; some IdPs
   * then ask the user to confirm the logout.
   */
  logoutIdTokenHint: z.boolean().default(false),
  /** Registered post-logout redirect for RP-initiated logout; omitted when unset. */
  postLogoutRedirectUri: z.url({ protocol: /^https?$/ }).optional(),
  /** Timeout of every call to the IdP (discovery, token, JWKS). */
  httpTimeoutMs: z.number().int().positive().default(5_000),
  /** Discovery is retried on demand with exponential backoff up to this delay. */
  discoveryMaxBackoffMs: z.number().int().positive().default(60_000),
});

export type OidcProviderConfig = z.infer<typeof oidcProviderSchema>;

/** Where the development IdP is mounted; its issuer is `<server.publicUrl>/dev-idp`. */
export const DEV_IDP_PATH = '/dev-idp';

/**
 * The login provider the development IdP serves, derived from `server.publicUrl` (so it
 * follows the listen port) rather than configured: a separately configured issuer could only
 * disagree with where the IdP actually is.
 */
export function devIdpProvider(publicUrl: string, displayName: string): OidcProviderConfig {
  return oidcProviderSchema.parse({
    kind: 'oidc',
    displayName,
    issuer: `${publicUrl}${DEV_IDP_PATH}`,
    clientId: 'keywarden-dev',
    // Known to the in-process development IdP only; never a secret anywhere.
    clientSecret: 'development-only-not-a-secret',
    scopes: ['openid', 'profile', 'email', 'groups'],
    claims: { groups: 'groups' },
  });
}

/**
 * One provider entry: `preset: github` (src/auth/provider-presets.ts) is applied first, then the
 * entry is validated by its kind's schema like any hand-written one.
 */
export const loginProviderSchema = z.preprocess(
  (entry, ctx) => {
    const applied = withPreset(entry);
    if (applied.unknownPreset !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['preset'],
        message: `unknown preset "${applied.unknownPreset}" (known: ${Object.keys(LOGIN_PRESETS).join(', ')})`,
      });
    }
    return applied.entry;
  },
  z.discriminatedUnion('kind', [oidcProviderSchema, oauth2ProviderSchema, samlProviderSchema]),
);
export type LoginProviderConfig = z.infer<typeof loginProviderSchema>;

export const authSchema = z.strictObject({
  /** Where the browser lands after sign-in when `returnTo` is missing or not allowed. */
  landingPath: z
    .string()
    .regex(/^\/(?![/\\])[\x21-\x7E]*$/, 'a local path such as / or /app')
    .refine((value) => !value.includes('\\'), 'a local path such as / or /app')
    .default('/'),
  /** How long a started sign-in may take before its state is forgotten. */
  loginTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(10 * 60_000),
  providers: z.record(providerName, loginProviderSchema).default({}),
  /**
   * The development IdP (src/auth/dev-idp/) mounted at /dev-idp, accepting any username. When
   * enabled it adds the OIDC login provider named `provider` (issuer `<publicUrl>/dev-idp`);
   * disabled, that provider and its sign-in button are gone. Refused in production.
   */
  devIdp: z
    .strictObject({
      enabled: z.boolean().default(false),
      provider: providerName.default('dev'),
      displayName: z.string().min(1).default('Development sign-in'),
    })
    .prefault({}),
});

export type AuthConfig = z.infer<typeof authSchema>;

export const authSecretPaths = [
  'auth.providers.*.clientSecret',
  'auth.providers.*.privateKey',
  'auth.providers.*.signedClientSecret.privateKey',
  ...samlSecretPaths,
] as const;

interface AuthCheckInput {
  env: string;
  server: { publicUrl: string };
  auth: AuthConfig;
}

/** Why a PEM cannot sign ES256 client secrets (never quoting the key), or undefined. */
function es256KeyProblem(pem: string): string | undefined {
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
      return undefined;
    return 'must be an EC P-256 key (ES256), as Apple issues them';
  } catch {
    return 'is not a PEM private key (PKCS#8: the .p8 file Apple lets you download once)';
  }
}

export function checkAuthConfig(config: AuthCheckInput, ctx: z.RefinementCtx): void {
  const production = config.env === 'production';
  for (const [name, provider] of Object.entries(config.auth.providers)) {
    if (provider.kind === 'saml')
      checkSamlProvider(provider, ['auth', 'providers', name], ctx, { production });
    if (provider.kind === 'oauth2')
      checkOAuth2Provider(provider, ['auth', 'providers', name], name, ctx, { production });
    if (provider.kind !== 'oidc') continue;
    const path = ['auth', 'providers', name];
    const signed = provider.signedClientSecret;
    if (signed?.teamId !== undefined || signed?.keyId !== undefined || signed?.privateKey !== undefined) {
      for (const field of ['teamId', 'keyId', 'privateKey'] as const) {
        if (signed[field] === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'signedClientSecret', field],
            message:
              field === 'privateKey'
                ? `required for a signed client secret (KEYWARDEN_AUTH__PROVIDERS__${name.toUpperCase()}__SIGNED_CLIENT_SECRET__PRIVATE_KEY_FILE)`
                : 'required for a signed client secret',
          });
        }
      }
      const keyProblem = signed.privateKey === undefined ? undefined : es256KeyProblem(signed.privateKey);
      if (keyProblem) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'signedClientSecret', 'privateKey'],
          message: keyProblem,
        });
      }
      if (provider.clientAuthMethod === 'private_key_jwt') {
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'clientAuthMethod'],
          message: 'a signed client secret is sent as client_secret_post or client_secret_basic',
        });
      }
    } else if (provider.clientAuthMethod === 'private_key_jwt') {
      if (!provider.privateKey) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'privateKey'],
          message: 'required for private_key_jwt',
        });
      }
    } else if (!provider.clientSecret) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'clientSecret'],
        message: `required for ${provider.clientAuthMethod} (KEYWARDEN_AUTH__PROVIDERS__${name.toUpperCase()}__CLIENT_SECRET)${
          signed ? ', unless signedClientSecret has teamId, keyId and privateKey' : ''
        }`,
      });
    }
    if (!provider.scopes.includes('openid')) {
      ctx.addIssue({ code: 'custom', path: [...path, 'scopes'], message: 'must include openid' });
    }
    if (provider.firstSignInUserField !== undefined && provider.responseMode !== 'form_post') {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'firstSignInUserField'],
        message: 'the IdP posts it only with responseMode form_post',
      });
    }
    if (production && new URL(provider.issuer).protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', path: [...path, 'issuer'], message: 'must be https in production' });
    }
  }
  const devIdp = config.auth.devIdp;
  if (devIdp.enabled) {
    if (production) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth', 'devIdp', 'enabled'],
        message: 'the development IdP accepts any username and is refused in production',
      });
    }
    if (Object.hasOwn(config.auth.providers, devIdp.provider)) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth', 'providers', devIdp.provider],
        message: `the development IdP (auth.devIdp) provides this login provider, with the issuer ${config.server.publicUrl}${DEV_IDP_PATH}; remove it here, or give the development IdP another name with auth.devIdp.provider`,
      });
    }
  }
}
