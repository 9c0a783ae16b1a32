import { z } from 'zod';
import { parseDocumentPath } from '../auth/document-path.ts';

/**
 * Plain OAuth 2.0 sign-in (GitHub, Facebook, X, Amazon…): no ID token, so the user is read
 * from the provider's user endpoint with the access token, and a claim mapping says where each
 * field is in that document. The presets in src/auth/provider-presets.ts fill all of it in.
 */

const httpUrl = z.url({ protocol: /^https?$/ });

/** A place in a user document (src/auth/document-path.ts): `id`, `data.id`, `orgs[].login`, `emails[verified=true].email`. */
export const documentPath = z
  .string()
  .refine(
    (path) => parseDocumentPath(path) !== undefined,
    'not a document path (a.b, list[].x, list[k=v].x)',
  );

/** Where the principal's fields are in the user document (or an introspection answer). */
export const documentClaimsSchema = z.strictObject({
  /**
   * The provider's stable user id. A number and the same number as a string (GitHub's `id`
   * is a JSON number, other APIs send ids as strings) are the same subject.
   */
  subject: documentPath.default('id'),
  name: documentPath.default('name'),
  email: documentPath.default('email'),
  /**
   * When set, `email` is kept only if this field is `true` (or the string "true"): a role rule
   * or scope template must never act on an address the provider did not verify.
   */
  emailVerified: documentPath.optional(),
  /** A string or list of strings, e.g. `groups`. */
  groups: documentPath.optional(),
  /** More principal claims: claim name → document path (strings, numbers or lists of them). */
  extra: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/), documentPath).default({}),
});

/** Headers keywarden sets itself on a user-endpoint call; configuring them would break or leak the call. */
const RESERVED_HEADERS = new Set(['authorization', 'cookie', 'host', 'content-length']);

/** The provider's user endpoint, and further calls whose answers join the document. */
export const userInfoSchema = z.strictObject({
  /** GET with `Authorization: Bearer <access token>`; answers the user document (JSON object). */
  url: httpUrl,
  /** Extra request headers (GitHub wants `Accept: application/vnd.github+json`). */
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]+$/), z.string())
    .default({})
    .refine((headers) => Object.keys(headers).every((name) => !RESERVED_HEADERS.has(name.toLowerCase())), {
      message: `may not set ${[...RESERVED_HEADERS].join(', ')}`,
    }),
  /**
   * More GET calls with the same token; each answer is put into the document under its name
   * (GitHub: `emails` from /user/emails for the verified address, `orgs` from /user/orgs).
   * Any of them failing fails the sign-in, as the user call does.
   */
  extraCalls: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/), httpUrl).default({}),
  /**
   * Facebook's `appsecret_proof` (HMAC-SHA256 of the access token with the app secret) on every
   * call, which apps with "Require App Secret" demand.
   */
  appSecretProof: z.boolean().default(false),
});

/** Parameters keywarden sets itself; configuring them as extra parameters would weaken the flow. */
const RESERVED_AUTH_PARAMS = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'response_mode',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'request',
  'request_uri',
]);

export const authParamsSchema = z
  .record(z.string().min(1), z.string())
  .default({})
  .refine((params) => Object.keys(params).every((key) => !RESERVED_AUTH_PARAMS.has(key)), {
    message: `may not set ${[...RESERVED_AUTH_PARAMS].join(', ')}`,
  });

/** RFC 6749 §3.3 scope-token characters. */
export const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/);

export const oauth2ProviderSchema = z.strictObject({
  kind: z.literal('oauth2'),
  /** Shown on the sign-in choice ("Sign in with GitHub"); defaults to the provider name. */
  displayName: z.string().min(1).optional(),
  authorizationEndpoint: httpUrl,
  tokenEndpoint: httpUrl,
  /**
   * The authorization server's identifier, checked against an RFC 9207 `iss` response
   * parameter when the provider sends one. Default: the authorization endpoint's origin.
   */
  issuer: httpUrl.optional(),
  clientId: z.string().min(1),
  /** Secret: KEYWARDEN_AUTH__PROVIDERS__<NAME>__CLIENT_SECRET(_FILE). */
  clientSecret: z.string().min(1).optional(),
  clientAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
  scopes: z.array(scopeToken).default([]),
  /** PKCE S256 on every sign-in; turn off only for a provider that refuses the parameters. `state` is always sent. */
  pkce: z.boolean().default(true),
  authParams: authParamsSchema,
  userInfo: userInfoSchema,
  claims: documentClaimsSchema.prefault({}),
  /** Timeout of every call to the provider (token, user endpoint, extra calls). */
  httpTimeoutMs: z.number().int().positive().default(5_000),
});

export type OAuth2ProviderConfig = z.infer<typeof oauth2ProviderSchema>;
export type DocumentClaimsConfig = z.infer<typeof documentClaimsSchema>;
export type UserInfoConfig = z.infer<typeof userInfoSchema>;

/** Cross-field rules of one oauth2 provider; `path` is where it sits in the whole config. */
export function checkOAuth2Provider(
  provider: OAuth2ProviderConfig,
  path: (string | number)[],
  name: string,
  ctx: z.RefinementCtx,
  options: { production: boolean },
): void {
  if (!provider.clientSecret) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'clientSecret'],
      message: `required (KEYWARDEN_AUTH__PROVIDERS__${name.toUpperCase()}__CLIENT_SECRET)`,
    });
  }
  if (options.production) {
    const urls: Array<[(string | number)[], string | undefined]> = [
      [['authorizationEndpoint'], provider.authorizationEndpoint],
      [['tokenEndpoint'], provider.tokenEndpoint],
      [['userInfo', 'url'], provider.userInfo.url],
      ...Object.entries(provider.userInfo.extraCalls).map(([call, url]): [(string | number)[], string] => [
        ['userInfo', 'extraCalls', call],
        url,
      ]),
    ];
    for (const [where, url] of urls) {
      if (url && new URL(url).protocol !== 'https:') {
        ctx.addIssue({ code: 'custom', path: [...path, ...where], message: 'must be https in production' });
      }
    }
  }
}
