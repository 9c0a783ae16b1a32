import {
  type CryptoKey,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose';
import {
  pkceMatches,
  randomValue,
  type StandinAnswer,
  type StandinRequest,
  startStandinServer,
} from './standin-server.ts';

/**
 * Sign in with Apple's authorization server on loopback (its REST API for the web), answering
 * as Apple documents it:
 *
 *  - `/.well-known/openid-configuration`, `/auth/keys` (JWKS, RS256);
 *  - `GET /auth/authorize` refuses a request for the `name` or `email` scope unless
 *    `response_mode=form_post`; it shows a sign-in page, and `POST /auth/authorize/confirm` answers
 *    a page that auto-submits a form POST to the redirect URI — cross-site — with `code`, `state`
 *    and, on the first authorization of that user for that client only, `user` (JSON with the
 *    name and email). A cancel posts `error=user_cancelled_authorize`;
 *  - `POST /auth/token` wants `client_secret` to be an ES256 JWT signed with the team's key:
 *    header `kid` = key id, `iss` = team id, `sub` = client id, `aud` =
 *    `https://appleid.apple.com`, valid now, `exp` at most 15,777,000 s after `iat`; else
 *    `{"error":"invalid_client"}`. It checks PKCE and answers an ID token with `nonce`,
 *    `email`, and `email_verified` as the string "true".
 *
 * The stand-in's issuer is its own URL (keywarden is configured with `issuer` overriding the
 * preset's), while the client secret's audience stays Apple's.
 */

export const APPLE_AUDIENCE = 'https://appleid.apple.com';
const MAX_SECRET_LIFETIME_SECONDS = 15_777_000;

export interface AppleUser {
  /** The account name typed on the sign-in page. */
  account: string;
  sub: string;
  email: string;
  firstName: string;
  lastName: string;
}

export interface AppleStandin {
  readonly issuer: string;
  readonly requests: Record<'authorize' | 'token' | 'keys', number>;
  /** The claims of every client secret the token endpoint accepted, in order. */
  readonly clientSecrets: Array<{ iat: number; exp: number; jwt: string }>;
  /** Why the last token request was refused, if it was. */
  lastTokenError: string | undefined;
  addUser(user: AppleUser): void;
  /**
   * The form fields Apple's page would post for `account` (what a browser auto-submits), by
   * going through the sign-in page over plain HTTP; for tests that post the callback themselves.
   */
  authorize(authorizationUrl: string, account: string): Promise<Record<string, string>>;
  close(): Promise<void>;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function postingPage(action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return `<!doctype html><html><body><form method="post" action="${escapeHtml(action)}">${inputs}<noscript><button>Continue</button></noscript></form><script>document.forms[0].submit()</script></body></html>`;
}

export async function startApple(options: {
  /** The Services ID keywarden uses as client id. */
  clientId: string;
  redirectUri: string;
  teamId: string;
  keyId: string;
  /** The public half of the team's signing key (Apple keeps it after you create the key). */
  teamPublicKey: CryptoKey;
}): Promise<AppleStandin> {
  const users = new Map<string, AppleUser>();
  const authorized = new Set<string>();
  const codes = new Map<
    string,
    { user: AppleUser; nonce?: string; challenge?: string; redirectUri: string }
  >();
  const requests = { authorize: 0, token: 0, keys: 0 };
  const clientSecrets: AppleStandin['clientSecrets'] = [];
  const kid = randomValue('apple-', 6);
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  let issuer = '';

  function authorizeRequestProblem(q: URLSearchParams): string | undefined {
    if (q.get('client_id') !== options.clientId) return 'invalid_client';
    if (q.get('redirect_uri') !== options.redirectUri) return 'invalid_request: redirect_uri';
    if (q.get('response_type') !== 'code') return 'unsupported_response_type';
    const scopes = (q.get('scope') ?? '').split(' ');
    if ((scopes.includes('name') || scopes.includes('email')) && q.get('response_mode') !== 'form_post') {
      return 'invalid_request: response_mode must be form_post when name or email scope is requested';
    }
    return undefined;
  }

  function signInPage(req: StandinRequest): StandinAnswer {
    requests.authorize += 1;
    const problem = authorizeRequestProblem(req.query);
    if (problem) return { status: 400, body: `<h1>${escapeHtml(problem)}</h1>` };
    const hidden = [...req.query]
      .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
      .join('');
    return {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: `<!doctype html><html><body><h1>Sign in with Apple ID</h1><form method="post" action="/auth/authorize/confirm">${hidden}<label>Apple ID <input name="account"></label><button name="decision" value="continue">Continue</button><button name="decision" value="cancel">Cancel</button></form></body></html>`,
    };
  }

  /** The fields Apple posts back for a sign-in decision. */
  function callbackFields(form: URLSearchParams): { fields: Record<string, string>; problem?: string } {
    const problem = authorizeRequestProblem(form);
    if (problem) return { fields: {}, problem };
    const state = form.get('state');
    const fields: Record<string, string> = state ? { state } : {};
    const user = users.get(form.get('account') ?? '');
    if (form.get('decision') === 'cancel' || !user)
      return { fields: { ...fields, error: 'user_cancelled_authorize' } };
    const code = randomValue('c', 32);
    const challenge = form.get('code_challenge') ?? undefined;
    const nonce = form.get('nonce') ?? undefined;
    codes.set(code, {
      user,
      redirectUri: options.redirectUri,
      ...(nonce !== undefined ? { nonce } : {}),
      ...(challenge !== undefined ? { challenge } : {}),
    });
    fields.code = code;
    const firstTime = !authorized.has(user.sub);
    authorized.add(user.sub);
    if (firstTime && form.get('scope')?.split(' ').includes('name')) {
      fields.user = JSON.stringify({
        name: { firstName: user.firstName, lastName: user.lastName },
        email: user.email,
      });
    }
    return { fields };
  }

  async function clientSecretProblem(secret: string | null): Promise<string | undefined> {
    if (!secret) return 'no client_secret';
    try {
      const header = decodeProtectedHeader(secret);
      if (header.kid !== options.keyId) return 'unknown kid';
      const { payload } = await jwtVerify(secret, options.teamPublicKey, {
        algorithms: ['ES256'],
        issuer: options.teamId,
        audience: APPLE_AUDIENCE,
        subject: options.clientId,
        requiredClaims: ['iat', 'exp'],
      });
      if ((payload.exp ?? 0) - (payload.iat ?? 0) > MAX_SECRET_LIFETIME_SECONDS)
        return 'lifetime over six months';
      clientSecrets.push({ iat: payload.iat ?? 0, exp: payload.exp ?? 0, jwt: secret });
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }

  async function token(req: StandinRequest): Promise<StandinAnswer> {
    requests.token += 1;
    const form = req.form;
    if (form.get('client_id') !== options.clientId) return { status: 400, body: { error: 'invalid_client' } };
    const secretProblem = await clientSecretProblem(form.get('client_secret'));
    if (secretProblem) {
      standin.lastTokenError = secretProblem;
      return { status: 400, body: { error: 'invalid_client' } };
    }
    if (form.get('grant_type') !== 'authorization_code')
      return { status: 400, body: { error: 'unsupported_grant_type' } };
    const code = form.get('code') ?? '';
    const grant = codes.get(code);
    codes.delete(code);
    if (
      !grant ||
      form.get('redirect_uri') !== grant.redirectUri ||
      !(await pkceMatches(form.get('code_verifier'), grant.challenge))
    ) {
      standin.lastTokenError = 'invalid_grant';
      return {
        status: 400,
        body: { error: 'invalid_grant', error_description: 'The code has expired or has been revoked.' },
      };
    }
    standin.lastTokenError = undefined;
    const now = Math.floor(Date.now() / 1000);
    const idToken = await new SignJWT({
      nonce: grant.nonce,
      nonce_supported: true,
      email: grant.user.email,
      email_verified: 'true',
      is_private_email: 'false',
      auth_time: now,
      real_user_status: 2,
    })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(issuer)
      .setAudience(options.clientId)
      .setSubject(grant.user.sub)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(privateKey);
    return {
      status: 200,
      body: {
        access_token: randomValue('a', 24),
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: randomValue('r', 24),
        id_token: idToken,
      },
    };
  }

  const server = await startStandinServer(async (req) => {
    const route = `${req.method} ${req.path}`;
    if (route === 'GET /.well-known/openid-configuration') {
      return {
        status: 200,
        body: {
          issuer,
          authorization_endpoint: `${issuer}/auth/authorize`,
          token_endpoint: `${issuer}/auth/token`,
          revocation_endpoint: `${issuer}/auth/revoke`,
          jwks_uri: `${issuer}/auth/keys`,
          response_types_supported: ['code', 'code id_token'],
          response_modes_supported: ['query', 'fragment', 'form_post'],
          subject_types_supported: ['pairwise'],
          id_token_signing_alg_values_supported: ['RS256'],
          scopes_supported: ['openid', 'email', 'name'],
          token_endpoint_auth_methods_supported: ['client_secret_post'],
          claims_supported: [
            'aud',
            'email',
            'email_verified',
            'exp',
            'iat',
            'is_private_email',
            'iss',
            'nonce',
            'nonce_supported',
            'real_user_status',
            'sub',
            'transfer_sub',
          ],
        },
      };
    }
    if (route === 'GET /auth/keys') {
      requests.keys += 1;
      return { status: 200, body: { keys: [publicJwk] } };
    }
    if (route === 'GET /auth/authorize') return signInPage(req);
    if (route === 'POST /auth/authorize/confirm') {
      const { fields, problem } = callbackFields(req.form);
      if (problem) return { status: 400, body: `<h1>${escapeHtml(problem)}</h1>` };
      return {
        status: 200,
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: postingPage(options.redirectUri, fields),
      };
    }
    if (route === 'POST /auth/token') return token(req);
    return { status: 404, body: { error: 'not_found' } };
  });
  issuer = server.url;

  const standin: AppleStandin = {
    issuer,
    requests,
    clientSecrets,
    lastTokenError: undefined,
    addUser(user) {
      users.set(user.account, user);
    },
    async authorize(authorizationUrl, account) {
      const query = new URL(authorizationUrl).searchParams;
      const page = await fetch(authorizationUrl);
      if (page.status !== 200)
        throw new Error(`Apple's sign-in page answered ${page.status}: ${await page.text()}`);
      const form = new URLSearchParams(query);
      form.set('account', account);
      form.set('decision', 'continue');
      const { fields, problem } = callbackFields(form);
      if (problem) throw new Error(problem);
      return fields;
    },
    close: () => server.close(),
  };
  return standin;
}
