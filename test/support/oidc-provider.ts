import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import Provider, { type OidcContext } from 'oidc-provider';
import type { Response } from 'supertest';
import type { BrowserSession } from './browser-session.ts';

/**
 * A REAL OpenID provider (the `oidc-provider` package) on 127.0.0.1 for tests, and a helper
 * that signs a test browser in through it with plain HTTP — no HTML parsing, no browser.
 *
 * API
 *   const idp = await startOidcProvider({ clients: [{ clientId, clientSecret, redirectUris }] });
 *     idp.issuer                    http://127.0.0.1:<port> (exact `iss`)
 *     idp.setAccount(user, claims)  claims for a username (defaults: sub=user, name, email, groups)
 *     idp.signLogoutToken(payload, {kid?, alg?, key?, typ?})  a back-channel logout token signed with
 *                                   the IdP's key (or `key`), for hostile-token tests
 *     idp.requests                  {discovery, authorization, token, jwks} counters
 *     idp.stop() / idp.start()      take it down and bring it back on the same port
 *   Options: `accessTokenTtlSeconds` (default 3600); per client `refreshTokens: true` adds the
 *   refresh_token grant (ask with scope offline_access and prompt=consent: the consent step is
 *   granted automatically), `tokenEndpointAuthMethod` + `jwks` for private_key_jwt,
 *   `backchannelLogoutUri`, `postLogoutRedirectUris`.
 *   Any username signs in; consent is implied; PKCE is required by the IdP; back-channel
 *   logout, RP-initiated logout and token revocation (`/token/revocation`) are enabled; `sid`
 *   is in ID tokens.
 *
 *   await logoutAtIdp(browser, idp)   the user signs out at the IdP; it sends back-channel logout
 *                                     tokens to clients registered with a backchannelLogoutUri
 *
 *   await loginThroughIdp(browser, '/auth/login/corp?returnTo=/app', 'alice')
 *     → { authorizationUrl, callbackPath, callback }  where `callback` is keywarden's answer to
 *       the callback (303 to returnTo when all went well) and the browser now holds the
 *       signed-in session cookie. `{ callback: false }` stops before calling keywarden's
 *       callback, so a test can tamper with or replay `callbackPath` itself.
 *
 * The browser is a test/support/browser-session.ts BrowserSession; the IdP's own cookies
 * are kept in `browser.idpJar`, so a second login of the same browser is SSO at the IdP.
 */

export interface TestIdpClient {
  clientId: string;
  clientSecret?: string;
  redirectUris: string[];
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /** Public keys of the client, for private_key_jwt. */
  jwks?: { keys: JWK[] };
  backchannelLogoutUri?: string;
  postLogoutRedirectUris?: string[];
  /** Add `refresh_token` to the client's grant types (asked with offline_access + prompt=consent). */
  refreshTokens?: boolean;
}

export interface TestIdp {
  readonly issuer: string;
  readonly port: number;
  readonly requests: { discovery: number; authorization: number; token: number; jwks: number };
  setAccount(username: string, claims: Record<string, unknown>): void;
  signLogoutToken(
    payload: JWTPayload,
    options?: { kid?: string; alg?: string; key?: CryptoKey; typ?: string | null },
  ): Promise<string>;
  /** The IdP's signing key id. */
  readonly kid: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

export async function startOidcProvider(options: {
  clients: TestIdpClient[];
  port?: number;
  /** Access token lifetime (default one hour), to exercise refresh. */
  accessTokenTtlSeconds?: number;
}): Promise<TestIdp> {
  const accounts = new Map<string, Record<string, unknown>>();
  const requests = { discovery: 0, authorization: 0, token: 0, jwks: 0 };
  const kid = `test-idp-${randomBytes(4).toString('hex')}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };

  // Listen first: the issuer must carry the port.
  const sockets = new Set<Socket>();
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  let server: Server = createServer((req, res) => handler(req, res));
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.on('connection', (socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  await listen(options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    clients: options.clients.map((client) => ({
      client_id: client.clientId,
      ...(client.clientSecret ? { client_secret: client.clientSecret } : {}),
      token_endpoint_auth_method: client.tokenEndpointAuthMethod ?? 'client_secret_basic',
      redirect_uris: client.redirectUris,
      ...(client.jwks ? { jwks: client.jwks } : {}),
      ...(client.backchannelLogoutUri
        ? { backchannel_logout_uri: client.backchannelLogoutUri, backchannel_logout_session_required: true }
        : {}),
      ...(client.postLogoutRedirectUris ? { post_logout_redirect_uris: client.postLogoutRedirectUris } : {}),
      ...(client.refreshTokens ? { grant_types: ['authorization_code', 'refresh_token'] } : {}),
    })),
    ttl: {
      AccessToken: options.accessTokenTtlSeconds ?? 3_600,
      AuthorizationCode: 60,
      IdToken: 3_600,
      Interaction: 600,
      Grant: 86_400,
      Session: 86_400,
      RefreshToken: 86_400,
    },
    jwks: { keys: [privateJwk] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], profile: ['name'], email: ['email'], groups: ['groups'] },
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      revocation: { enabled: true },
    },
    pkce: { required: () => true },
    // oidc-provider refuses outgoing calls to loopback (SSRF protection); its back-channel
    // logout calls here go to keywarden on 127.0.0.1/localhost by design.
    fetch: (url: string, options: RequestInit & { dispatcher?: unknown }) => {
      const { dispatcher: _ssrfGuard, ...rest } = options;
      return globalThis.fetch(url, rest);
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: () => ({
        sub,
        name: `User ${sub}`,
        email: `${sub}@example.test`,
        groups: ['staff'],
        ...accounts.get(sub),
      }),
    }),
    loadExistingGrant: async (ctx: OidcContext) => {
      const { client, session, result } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      if (grantId) {
        const existing = await ctx.oidc.provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
      grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
      await grant.save();
      return grant;
    },
  });
  const oidcCallback = provider.callback();

  handler = (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/.well-known/openid-configuration') requests.discovery += 1;
    else if (path === '/auth') requests.authorization += 1;
    else if (path === '/token') requests.token += 1;
    else if (path === '/jwks') requests.jwks += 1;
    const interaction = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(path);
    if (!interaction) {
      oidcCallback(req, res);
      return;
    }
    (async () => {
      const details = await provider.interactionDetails(req, res);
      if (req.method !== 'POST') {
        res.setHeader('Content-Type', 'text/html');
        res.end(`<form method="post"><input name="login"></form>`);
        return;
      }
      const login = (await readForm(req)).get('login') ?? '';
      if (details.prompt.name === 'consent') {
        // An explicit consent step (prompt=consent, which refresh tokens need) is granted at once.
        const grant = new provider.Grant({
          clientId: String(details.params.client_id),
          accountId: details.session?.accountId ?? '',
        });
        grant.addOIDCScope(String(details.params.scope ?? 'openid'));
        const grantId = await grant.save();
        await provider.interactionFinished(
          req,
          res,
          { consent: { grantId } },
          { mergeWithLastSubmission: true },
        );
        return;
      }
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: login } },
        { mergeWithLastSubmission: false },
      );
    })().catch((error: unknown) => {
      res.statusCode = 400;
      res.end(String((error as Error).message));
    });
  };

  return {
    issuer,
    port,
    requests,
    kid,
    setAccount(username, claims) {
      accounts.set(username, claims);
    },
    async signLogoutToken(payload, signOptions = {}) {
      const header: { alg: string; kid?: string; typ?: string } = {
        alg: signOptions.alg ?? 'RS256',
        kid: signOptions.kid ?? kid,
      };
      if (signOptions.typ !== null) header.typ = signOptions.typ ?? 'logout+jwt';
      return new SignJWT(payload).setProtectedHeader(header).sign(signOptions.key ?? privateKey);
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
    async start() {
      server = createServer((req, res) => handler(req, res));
      await listen(port);
    },
  };
}

export interface IdpLoginResult {
  /** The authorization request keywarden redirected the browser to. */
  authorizationUrl: URL;
  /** Path and query of keywarden's callback, as the IdP redirected the browser to it. */
  callbackPath: string;
  /** keywarden's answer to the callback (absent with `{ callback: false }`). */
  callback?: Response;
}

/** Follows the IdP's redirects with the browser's IdP cookies, posting the login form on the way. */
async function throughIdp(browser: BrowserSession, authorizationUrl: URL, username: string): Promise<URL> {
  let url = authorizationUrl;
  for (let hop = 0; hop < 10; hop += 1) {
    const interaction = /\/interaction\/[A-Za-z0-9_-]+$/.test(url.pathname);
    const response = await fetch(url, {
      method: interaction ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...browser.idpJar].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(interaction ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(interaction ? { body: new URLSearchParams({ login: username }).toString() } : {}),
    });
    browser.store(response.headers.getSetCookie(), browser.idpJar);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      throw new Error(
        `the IdP answered ${response.status} at ${url.pathname}: ${(await response.text()).slice(0, 300)}`,
      );
    }
    const next = new URL(location, url);
    // Back at keywarden: another origin, or (for an IdP mounted inside keywarden) its callback.
    if (next.origin !== authorizationUrl.origin || next.pathname.startsWith('/auth/callback/')) return next;
    url = next;
  }
  throw new Error('too many redirects at the IdP');
}

/**
 * Signs the browser out at the IdP itself (its end-session page, confirmed), as a user
 * leaving another app of the same IdP would. The IdP then sends its back-channel logout
 * tokens to every client of that IdP session that registered a `backchannelLogoutUri`.
 */
export async function logoutAtIdp(browser: BrowserSession, idp: Pick<TestIdp, 'issuer'>): Promise<void> {
  const cookie = () => [...browser.idpJar].map(([name, value]) => `${name}=${value}`).join('; ');
  const page = await fetch(`${idp.issuer}/session/end`, { headers: { cookie: cookie() } });
  browser.store(page.headers.getSetCookie(), browser.idpJar);
  const html = await page.text();
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!xsrf || !action) throw new Error(`no logout form at the IdP (${page.status})`);
  const confirm = await fetch(new URL(action, idp.issuer), {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
  });
  browser.store(confirm.headers.getSetCookie(), browser.idpJar);
  if (confirm.status >= 400) throw new Error(`the IdP refused the logout (${confirm.status})`);
}

/**
 * Starts a login at keywarden (`startUrl`, e.g. `/auth/login/corp?returnTo=/app`), signs in
 * at the IdP as `username` and, unless `{ callback: false }`, delivers the IdP's answer to
 * keywarden's callback with the same browser.
 */
export async function loginThroughIdp(
  browser: BrowserSession,
  startUrl: string,
  username: string,
  options: { callback?: boolean } = {},
): Promise<IdpLoginResult> {
  const start = await browser.get(startUrl);
  if (start.status !== 303 && start.status !== 302) {
    throw new Error(`login start answered ${start.status}: ${JSON.stringify(start.body)}`);
  }
  const authorizationUrl = new URL(String(start.headers.location));
  const back = await throughIdp(browser, authorizationUrl, username);
  const callbackPath = `${back.pathname}${back.search}`;
  if (options.callback === false) return { authorizationUrl, callbackPath };
  const callback = await browser.get(callbackPath);
  return { authorizationUrl, callbackPath, callback };
}
