/**
 * The documented endpoints, scopes and claim mappings of the big social sign-in providers, as
 * data. `preset: github` under `auth.providers.<name>` starts from the table below; whatever the
 * entry sets itself wins (objects merge, lists are replaced), and the result is validated by the
 * same schema as a hand-written entry. No provider has a code path of its own: a preset is only
 * a shorter way to write configuration.
 *
 * Sources: GitHub "Authorizing OAuth apps" and REST API (users, emails, orgs); Facebook Login
 * "Manually build a login flow" and Graph API (/me, debug_token); X API v2 OAuth 2.0 with PKCE
 * and /2/users/me; Login with Amazon (authorization, token, /user/profile); Sign in with Apple
 * REST API; Google and Microsoft identity platform OpenID Connect.
 */

type PresetTable = Readonly<Record<string, unknown>>;

const FACEBOOK_GRAPH = 'https://graph.facebook.com/v23.0';
const GITHUB_API = 'https://api.github.com';

/** GitHub's REST API: the user, their verified addresses and their organisations. */
export const GITHUB_USER_INFO = {
  url: `${GITHUB_API}/user`,
  headers: { Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28' },
  extraCalls: { emails: `${GITHUB_API}/user/emails`, orgs: `${GITHUB_API}/user/orgs` },
} as const;

/**
 * `id` is a JSON number. The email is the primary address only if GitHub has verified it (the
 * profile's public `email` may be any address the user typed). Organisations go to `orgs`, not
 * `groups`: an org name is chosen by whoever creates it, so it must not match group rules meant
 * for a corporate IdP.
 */
export const GITHUB_CLAIMS = {
  subject: 'id',
  name: 'name',
  email: 'emails[primary=true][verified=true].email',
  extra: { login: 'login', orgs: 'orgs[].login' },
} as const;

export const FACEBOOK_USER_INFO = {
  url: `${FACEBOOK_GRAPH}/me?fields=id,name,email`,
  appSecretProof: true,
} as const;

export const FACEBOOK_CLAIMS = { subject: 'id', name: 'name', email: 'email' } as const;

/** Graph API debug_token: checks a user access token with the app access token. */
export const FACEBOOK_DEBUG_TOKEN_URL = `${FACEBOOK_GRAPH}/debug_token`;

/** GitHub's "check a token" (POST, the app's client id and secret as Basic auth): valid *for this app*. */
export const GITHUB_CHECK_TOKEN_URL = `${GITHUB_API}/applications/{clientId}/token`;

export const LOGIN_PRESETS: Readonly<Record<string, PresetTable>> = {
  github: {
    kind: 'oauth2',
    displayName: 'GitHub',
    authorizationEndpoint: 'https://github.com/login/oauth/authorize',
    tokenEndpoint: 'https://github.com/login/oauth/access_token',
    clientAuthMethod: 'client_secret_post',
    scopes: ['read:user', 'user:email'],
    pkce: true,
    userInfo: GITHUB_USER_INFO,
    claims: GITHUB_CLAIMS,
  },
  facebook: {
    kind: 'oauth2',
    displayName: 'Facebook',
    authorizationEndpoint: 'https://www.facebook.com/v23.0/dialog/oauth',
    tokenEndpoint: `${FACEBOOK_GRAPH}/oauth/access_token`,
    clientAuthMethod: 'client_secret_post',
    scopes: ['public_profile', 'email'],
    pkce: true,
    userInfo: FACEBOOK_USER_INFO,
    claims: FACEBOOK_CLAIMS,
  },
  x: {
    kind: 'oauth2',
    displayName: 'X',
    authorizationEndpoint: 'https://x.com/i/oauth2/authorize',
    tokenEndpoint: 'https://api.x.com/2/oauth2/token',
    clientAuthMethod: 'client_secret_basic',
    scopes: ['users.read', 'tweet.read'],
    pkce: true,
    userInfo: { url: 'https://api.x.com/2/users/me' },
    claims: { subject: 'data.id', name: 'data.name', extra: { username: 'data.username' } },
  },
  amazon: {
    kind: 'oauth2',
    displayName: 'Amazon',
    authorizationEndpoint: 'https://www.amazon.com/ap/oa',
    tokenEndpoint: 'https://api.amazon.com/auth/o2/token',
    clientAuthMethod: 'client_secret_post',
    scopes: ['profile'],
    pkce: true,
    userInfo: { url: 'https://api.amazon.com/user/profile' },
    claims: { subject: 'user_id', name: 'name', email: 'email' },
  },
  google: {
    kind: 'oidc',
    displayName: 'Google',
    issuer: 'https://accounts.google.com',
    scopes: ['openid', 'email', 'profile'],
    claims: { emailVerified: 'email_verified' },
  },
  /**
   * Entra ID: the entry names its tenant's issuer (`https://login.microsoftonline.com/<tenant
   * id>/v2.0`). Its `email` claim is not verified by Microsoft; it is kept only with the
   * optional `xms_edov` claim (email domain owner verified) set to true.
   */
  microsoft: {
    kind: 'oidc',
    displayName: 'Microsoft',
    scopes: ['openid', 'profile', 'email'],
    claims: { emailVerified: 'xms_edov' },
  },
  /**
   * Sign in with Apple on the web: the name and email scopes require `form_post`; the client
   * secret is an ES256 JWT the entry's `signedClientSecret` (team id, key id, the key from a
   * secret) makes; the user's name is posted once, on the first sign-in, in the `user` field.
   * Apple sends `email_verified` as a string.
   */
  apple: {
    kind: 'oidc',
    displayName: 'Apple',
    issuer: 'https://appleid.apple.com',
    scopes: ['openid', 'name', 'email'],
    responseMode: 'form_post',
    clientAuthMethod: 'client_secret_post',
    signedClientSecret: { audience: 'https://appleid.apple.com' },
    firstSignInUserField: 'user',
    claims: { emailVerified: 'email_verified' },
  },
};

function isTree(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `base` with `layer` on top: objects merge, anything else (lists included) is replaced. */
function overlay(
  base: Readonly<Record<string, unknown>>,
  layer: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(layer)) {
    const current = out[key];
    out[key] = isTree(current) && isTree(value) ? overlay(current, value) : value;
  }
  return out;
}

/**
 * The defaults of the opaque bearer-token kinds (`bearer.issuers.<name>.kind: facebook | github`),
 * merged under an entry the same way, so that moving one URL (say, a GitHub Enterprise host)
 * keeps the rest of the table.
 */
export const BEARER_KIND_DEFAULTS: Readonly<Record<string, PresetTable>> = {
  facebook: {
    debugTokenUrl: FACEBOOK_DEBUG_TOKEN_URL,
    userInfo: FACEBOOK_USER_INFO,
    claims: FACEBOOK_CLAIMS,
  },
  github: { checkTokenUrl: GITHUB_CHECK_TOKEN_URL, userInfo: GITHUB_USER_INFO, claims: GITHUB_CLAIMS },
};

/** A bearer issuer entry with its kind's defaults underneath (an entry without `kind` is a JWT issuer). */
export function withBearerDefaults(entry: unknown): unknown {
  if (!isTree(entry)) return entry;
  if (entry.kind === undefined) return { ...entry, kind: 'jwt' };
  const kind = entry.kind;
  const table =
    typeof kind === 'string' && Object.hasOwn(BEARER_KIND_DEFAULTS, kind)
      ? BEARER_KIND_DEFAULTS[kind]
      : undefined;
  return table ? overlay(table, entry) : entry;
}

/**
 * A provider entry with its preset applied (and the `preset` key removed), or the entry as it
 * is when it names none. Answers undefined for a preset that does not exist.
 */
export function withPreset(entry: unknown): { entry: unknown; unknownPreset?: string } {
  if (!isTree(entry) || entry.preset === undefined) return { entry };
  const { preset, ...own } = entry;
  const table =
    typeof preset === 'string' && Object.hasOwn(LOGIN_PRESETS, preset) ? LOGIN_PRESETS[preset] : undefined;
  if (!table) return { entry: own, unknownPreset: String(preset) };
  return { entry: overlay(table, own) };
}
