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

export const oidcProviderSchema = z
  .strictObject({
    kind: z.literal('oidc').describe('An OpenID Connect IdP: code flow with PKCE, ID token checked.'),
    displayName: z
      .string()
      .min(1)
      .optional()
      .describe('Shown on sign-in choices (the portal); defaults to the provider name.'),
    issuer: z
      .url({ protocol: /^https?$/ })
      .describe(
        'The exact issuer identifier; discovery reads `<issuer>/.well-known/openid-configuration` (https in production).',
      ),
    clientId: z.string().min(1).describe("keywarden's client id at the IdP."),
    clientSecret: z
      .string()
      .min(1)
      .optional()
      .describe('The client secret (`client_secret_basic` and `client_secret_post`).'),
    clientAuthMethod: z
      .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt'])
      .default('client_secret_basic')
      .describe('How keywarden authenticates at the token endpoint.'),
    privateKey: z.string().min(1).optional().describe('`private_key_jwt`: the signing key, PKCS#8 PEM.'),
    privateKeyId: z.string().min(1).optional().describe('`private_key_jwt`: the key id (`kid`) to send.'),
    privateKeyAlg: z
      .enum(['RS256', 'PS256', 'ES256', 'EdDSA'])
      .default('RS256')
      .describe('`private_key_jwt`: the signing algorithm.'),
    scopes: z
      .array(scopeToken)
      .default(['openid', 'profile', 'email'])
      .describe('Requested scopes; must include `openid`.'),
    authParams: authParamsSchema,
    /**
     * A form_post sign-in keeps its transaction in the shared store, bound to the browser by a
     * SameSite=None cookie, since the session cookie (SameSite=Lax) does not ride a cross-site POST.
     */
    responseMode: z
      .enum(['query', 'form_post'])
      .default('query')
      .describe(
        'How the IdP returns the answer: `query` (a redirect) or `form_post` (a cross-site POST to the same callback URL, which Sign in with Apple needs with the name or email scope).',
      ),
    signedClientSecret: z
      .strictObject({
        teamId: z.string().min(1).optional().describe("The JWT's `iss` (Apple: your team id)."),
        keyId: z.string().min(1).optional().describe("The JWT's `kid` (Apple: the key's id)."),
        privateKey: z
          .string()
          .min(1)
          .optional()
          .describe('The signing key: PKCS#8 PEM, EC P-256 (Apple: the `.p8` file).'),
        audience: z
          .string()
          .min(1)
          .optional()
          .meta({ description: "The JWT's `aud`.", defaultText: 'the issuer' }),
        lifetimeSeconds: z
          .number()
          .int()
          .min(60)
          .max(15_777_000)
          .default(15_777_000)
          .describe(
            'How long each made secret is valid; Apple refuses more than 6 months. Remade after 90 % of it.',
          ),
      })
      .optional()
      .describe(
        'A client secret that is an ES256 JWT keywarden signs (Sign in with Apple): `iss` = teamId, `sub` = clientId, `aud` = audience, `kid` = keyId. Used when `teamId` is set; then all three of teamId, keyId and privateKey are required.',
      ),
    firstSignInUserField: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/)
      .optional()
      .describe(
        "A form field the IdP posts on the first sign-in only, holding the user's name as JSON (Apple's `user`). The name is kept per user and becomes the `name` claim of later sign-ins; its email is ignored. Needs `responseMode: form_post`.",
      ),
    claims: z
      .strictObject({
        subject: z.string().min(1).default('sub').describe("The claim holding the user's stable id."),
        name: z.string().min(1).default('name').describe('The claim holding the display name.'),
        email: z.string().min(1).default('email').describe('The claim holding the email address.'),
        emailVerified: documentPath
          .optional()
          .describe('When set, `email` is kept only if this claim is true (or "true", as Apple sends it).'),
        groups: z
          .string()
          .min(1)
          .optional()
          .describe(
            'A dotted path to a string or string array, e.g. `groups` or `realm_access.roles`; becomes the `groups` claim role rules match.',
          ),
        extra: z
          .array(z.string().min(1))
          .default([])
          .describe('Further claims copied as they are (strings or string arrays only).'),
      })
      .prefault({}),
    fetchUserinfo: z
      .boolean()
      .default(false)
      .describe(
        "Also call the userinfo endpoint and merge its claims (the ID token's win). Needed for IdPs that put groups (or other mapped claims) only in userinfo.",
      ),
    refreshTokens: z
      .boolean()
      .default(false)
      .describe(
        'Keep the IdP session alive with the refresh token while the keywarden session is used; the keywarden session ends when the IdP refuses a refresh.',
      ),
    /** Off by default: the logout URL goes through the browser, and the BFF keeps every token out of it. */
    logoutIdTokenHint: z
      .boolean()
      .default(false)
      .describe(
        'Put the ID token in the RP-initiated logout URL as `id_token_hint` (that URL goes through the browser). Off, some IdPs ask the user to confirm the logout.',
      ),
    postLogoutRedirectUri: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'Where the IdP sends the browser after its own logout (register it at the IdP); left out when unset.',
      ),
    httpTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(5_000)
      .describe('Timeout of every call to the IdP (discovery, token, userinfo, JWKS).'),
    discoveryMaxBackoffMs: z
      .number()
      .int()
      .positive()
      .default(60_000)
      .describe(
        'Discovery is lazy and retried with backoff up to this delay, so an IdP that is down never stops keywarden from starting (its sign-in answers 503 meanwhile).',
      ),
  })
  .describe(
    'An OpenID Connect identity provider for browser sign-in (Entra ID, Okta, Google, Keycloak, Cognito user pools…).',
  );

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

export const authSchema = z
  .strictObject({
    landingPath: z
      .string()
      .regex(/^\/(?![/\\])[\x21-\x7E]*$/, 'a local path such as / or /app')
      .refine((value) => !value.includes('\\'), 'a local path such as / or /app')
      .default('/')
      .describe(
        'Where the browser lands after sign-in (or sign-out) when `returnTo` is missing or not allowed.',
      ),
    loginTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(10 * 60_000)
      .describe('How long a started sign-in may take before its state is forgotten.'),
    providers: z
      .record(providerName, loginProviderSchema)
      .default({})
      .describe(
        'Login providers for browser sign-in, by name (`^[a-z][a-z0-9]*$`: it appears in URLs such as `/auth/login/<name>` and in variable names).',
      ),
    devIdp: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe(
            'Mount the development IdP at `/dev-idp` (any username signs in) and add its login provider. Refused in production.',
          ),
        provider: providerName
          .default('dev')
          .describe(
            'The name of the login provider it adds; a provider of that name in `auth.providers` is an error.',
          ),
        displayName: z
          .string()
          .min(1)
          .default('Development sign-in')
          .describe("The provider's name on sign-in pages."),
      })
      .prefault({}),
  })
  .describe(
    'Browser sign-in: login providers (OIDC, OAuth 2.0, SAML), the development IdP, where sign-in lands.',
  );

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
