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
  // GitHub's `id` is a JSON number, other APIs send ids as strings: both are the same subject.
  subject: documentPath
    .default('id')
    .describe(
      'Where the user\'s stable id is (a string, or a whole number: `12345` and `"12345"` are one subject).',
    ),
  name: documentPath.default('name').describe('Where the display name is.'),
  email: documentPath.default('email').describe('Where the email address is.'),
  // A role rule or scope template must never act on an address the provider did not verify.
  emailVerified: documentPath
    .optional()
    .describe('When set, `email` is kept only if this field is `true` (or the string "true").'),
  groups: documentPath.optional().describe('Where the groups are: a string or list of strings.'),
  extra: z
    .record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/), documentPath)
    .default({})
    .describe('More claims: claim name → document path (strings, numbers or lists of them).'),
});

/** Headers keywarden sets itself on a user-endpoint call; configuring them would break or leak the call. */
const RESERVED_HEADERS = new Set(['authorization', 'cookie', 'host', 'content-length']);

/** The provider's user endpoint, and further calls whose answers join the document. */
export const userInfoSchema = z.strictObject({
  url: httpUrl.describe(
    'The user endpoint: a GET with `Authorization: Bearer <access token>` that answers the user document (a JSON object).',
  ),
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]+$/), z.string())
    .default({})
    .refine((headers) => Object.keys(headers).every((name) => !RESERVED_HEADERS.has(name.toLowerCase())), {
      message: `may not set ${[...RESERVED_HEADERS].join(', ')}`,
    })
    .describe(
      'Extra request headers (GitHub wants `Accept: application/vnd.github+json`); not Authorization, Cookie, Host or Content-Length.',
    ),
  extraCalls: z
    .record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/), httpUrl)
    .default({})
    .describe(
      'More GET calls with the same token, name → URL; each answer joins the document under its name (GitHub: `emails`, `orgs`). Any of them failing fails the sign-in.',
    ),
  appSecretProof: z
    .boolean()
    .default(false)
    .describe(
      'Send Facebook\'s `appsecret_proof` (HMAC-SHA256 of the token with the app secret) on every call, as apps with "Require App Secret" demand.',
    ),
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
  })
  .describe(
    'Extra authorization request parameters (`prompt`, `acr_values`, `domain_hint`…). The protocol ones (`state`, `nonce`, `redirect_uri`, PKCE…) cannot be set.',
  );

/** RFC 6749 §3.3 scope-token characters. */
export const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/);

export const oauth2ProviderSchema = z
  .strictObject({
    kind: z
      .literal('oauth2')
      .describe('A plain OAuth 2.0 provider: no ID token, the user is read from its user endpoint.'),
    displayName: z
      .string()
      .min(1)
      .optional()
      .describe('Shown on sign-in choices ("Sign in with GitHub"); defaults to the provider name.'),
    authorizationEndpoint: httpUrl.describe('Where the browser is sent to sign in (https in production).'),
    tokenEndpoint: httpUrl.describe('Where the code is exchanged (https in production).'),
    issuer: httpUrl.optional().meta({
      description: 'Checked against an RFC 9207 `iss` response parameter when the provider sends one.',
      defaultText: "the authorization endpoint's origin",
    }),
    clientId: z.string().min(1).describe("keywarden's client id at the provider."),
    clientSecret: z.string().min(1).optional().describe('The client secret; required.'),
    clientAuthMethod: z
      .enum(['client_secret_basic', 'client_secret_post'])
      .default('client_secret_basic')
      .describe('How keywarden authenticates at the token endpoint.'),
    scopes: z.array(scopeToken).default([]).describe('Requested scopes (space-separated on the wire).'),
    pkce: z
      .boolean()
      .default(true)
      .describe(
        'PKCE S256 on every sign-in; turn off only for a provider that refuses the parameters. `state` is always sent.',
      ),
    authParams: authParamsSchema,
    userInfo: userInfoSchema,
    claims: documentClaimsSchema.prefault({}),
    httpTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(5_000)
      .describe('Timeout of every call to the provider (token, user endpoint, extra calls).'),
  })
  .describe(
    'A plain OAuth 2.0 provider (GitHub, Facebook, X, Amazon…): after the code exchange the user endpoint (and extra calls) make a JSON document, and `claims` says where each field is in it. See [social-sign-in.md](social-sign-in.md).',
  );

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
