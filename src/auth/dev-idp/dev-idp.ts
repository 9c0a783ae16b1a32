import { generateKeyPairSync, randomBytes } from 'node:crypto';
import express, { type Router } from 'express';
import Provider, { type OidcContext } from 'oidc-provider';
import type { Logger } from 'pino';
import { DEV_IDP_PATH } from '../../config/auth-schema.ts';
import type { Config } from '../../config/schema.ts';

export { DEV_IDP_PATH };

/**
 * The one development user who is an administrator: config/development.yaml's `admin.groups`
 * names this group, and only the user `admin` carries it.
 */
export const DEV_ADMIN_USER = 'admin';
export const DEV_ADMIN_GROUP = 'keywarden-admins';

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function loginPage(uid: string, clientId: string): string {
  const action = `${DEV_IDP_PATH}/interaction/${encodeURIComponent(uid)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>keywarden development sign-in</title></head>
<body style="font-family: sans-serif; max-width: 28rem; margin: 4rem auto">
<h1>Development sign-in</h1>
<p>This identity provider is for local development only and accepts <strong>any</strong> username.
Signing in to <code>${escapeHtml(clientId)}</code>. The user <code>${DEV_ADMIN_USER}</code> is an
administrator (group <code>${DEV_ADMIN_GROUP}</code>); every other user is not.</p>
<form method="post" action="${escapeHtml(action)}">
<label>Username <input name="login" autofocus required pattern="[A-Za-z0-9._@\\-]{1,64}"></label>
<button type="submit">Sign in</button>
</form></body></html>`;
}

/**
 * The login page's Content-Security-Policy. Browsers apply `form-action` to every redirect
 * that follows the form's POST, and that chain ends where the sign-in returns to: keywarden's
 * own pages (publicUrl) or an SPA on a `cors.origins` origin (`returnTo`). helmet's default
 * `form-action 'self'` would stop a sign-in from an SPA on another port at the last hop.
 */
function loginPagePolicy(config: Readonly<Config>): string {
  const formTargets = new Set(["'self'", new URL(config.server.publicUrl).origin, ...config.cors.origins]);
  return [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    `form-action ${[...formTargets].join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/**
 * A real OIDC provider (the `oidc-provider` package) inside keywarden, so that a fresh
 * `npm start` has a working sign-in: any username is accepted and consent is implied.
 * keywarden reaches it over HTTP like any other IdP (the `dev` provider's issuer is
 * `<publicUrl>/dev-idp`), which is why OIDC discovery is lazy: it runs after listen.
 * Refused in production by the config check; this function refuses too, in case.
 */
export function createDevIdp(deps: { config: Readonly<Config>; logger: Logger }): Router {
  const { config, logger } = deps;
  if (config.env === 'production') throw new Error('the development IdP cannot run in production');
  const providerName = config.auth.devIdp.provider;
  const client = config.auth.providers[providerName];
  if (client?.kind !== 'oidc')
    throw new Error(`auth.devIdp.provider ${providerName} is not an oidc provider`);
  const { publicUrl } = config.server;
  const issuer = `${publicUrl}${DEV_IDP_PATH}`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.clientId,
        client_secret: client.clientSecret ?? randomBytes(16).toString('hex'),
        token_endpoint_auth_method:
          client.clientAuthMethod === 'private_key_jwt' ? 'client_secret_basic' : client.clientAuthMethod,
        redirect_uris: [`${publicUrl}/auth/callback/${providerName}`],
        post_logout_redirect_uris: [client.postLogoutRedirectUri ?? `${publicUrl}${config.auth.landingPath}`],
        backchannel_logout_uri: `${publicUrl}/auth/backchannel-logout/${providerName}`,
        backchannel_logout_session_required: true,
      },
    ],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'dev-idp', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'], groups: ['groups'] },
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    pkce: { required: () => true },
    // oidc-provider refuses outgoing calls to loopback (SSRF protection); its back-channel
    // logout calls here go to keywarden on 127.0.0.1/localhost by design.
    fetch: (url: string, options: RequestInit & { dispatcher?: unknown }) => {
      const { dispatcher: _ssrfGuard, ...rest } = options;
      return globalThis.fetch(url, rest);
    },
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `${DEV_IDP_PATH}/interaction/${interaction.uid}`,
    },
    findAccount: (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: () => ({
        sub,
        name: sub,
        email: `${sub}@dev.keywarden.invalid`,
        email_verified: true,
        groups: sub === DEV_ADMIN_USER ? ['developers', DEV_ADMIN_GROUP] : ['developers'],
      }),
    }),
    // Consent is implied: the development user has nothing to protect.
    loadExistingGrant: async (ctx: OidcContext) => {
      const { client: rp, session, result } = ctx.oidc;
      if (!rp || !session?.accountId) return undefined;
      const grantId = result?.consent?.grantId ?? session.grantIdFor(rp.clientId);
      if (grantId) {
        const existing = await ctx.oidc.provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: rp.clientId, accountId: session.accountId });
      grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
      grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
      await grant.save();
      return grant;
    },
  });
  provider.proxy = config.server.trustProxyHops > 0;
  logger.warn(
    { issuer },
    'development IdP enabled: any username can sign in (never use this outside local development)',
  );

  const loginPolicy = loginPagePolicy(config);
  const router = express.Router();
  router.get('/interaction/:uid', async (req, res) => {
    const details = await provider.interactionDetails(req, res);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Security-Policy', loginPolicy);
    res.type('html').send(loginPage(details.uid, client.clientId));
  });
  router.post(
    '/interaction/:uid',
    express.urlencoded({ extended: false, limit: '4kb' }),
    async (req, res) => {
      await provider.interactionDetails(req, res);
      const body = req.body as Record<string, unknown> | undefined;
      const login = typeof body?.login === 'string' ? body.login.trim() : '';
      if (!/^[A-Za-z0-9._@-]{1,64}$/.test(login)) {
        res.status(400).type('text').send('Enter a username (letters, digits, . _ @ -).');
        return;
      }
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: login } },
        { mergeWithLastSubmission: false },
      );
    },
  );
  router.use(provider.callback());
  return router;
}
