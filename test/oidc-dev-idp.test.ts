import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../src/app.ts';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { BrowserSession } from './support/browser-session.ts';
import { captureLogs } from './support/logs.ts';
import { loginThroughIdp } from './support/oidc-provider.ts';
import { freePort } from './support/redis-server.ts';

/**
 * The newcomer's path: the development config (NODE_ENV=development) mounts the in-process
 * development IdP, and /auth/login/dev → sign in with any username → /auth/session works over
 * plain HTTP on a real listening server (keywarden reaches the IdP over HTTP, after listen).
 */

let server: Server;
let baseUrl: string;
const SPA_ORIGIN = 'http://localhost:5173';

before(async () => {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    env: { NODE_ENV: 'development' },
    overrides: {
      // The development IdP's provider and issuer derive from publicUrl; nothing else is set.
      server: { publicUrl: baseUrl, port },
      rateLimit: { enabled: false },
      localAws: { enabled: false },
      cors: { origins: [SPA_ORIGIN] },
    },
  });
  const logs = captureLogs();
  server = createServer(await createApp({ config, store: new MemoryStore(), logger: logs.logger }));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('development IdP', () => {
  it('signs a newcomer in with any username, over plain HTTP', async () => {
    const browser = new BrowserSession(baseUrl, { forwardedProto: undefined });
    const page = await fetch(`${baseUrl}/dev-idp/.well-known/openid-configuration`);
    assert.equal((await page.json()).issuer, `${baseUrl}/dev-idp`);

    const { callback, authorizationUrl } = await loginThroughIdp(browser, '/auth/login/dev', 'newcomer');
    assert.equal(authorizationUrl.origin + authorizationUrl.pathname, `${baseUrl}/dev-idp/auth`);
    assert.equal(callback?.status, 303);
    assert.equal(callback?.headers.location, '/auth/session');
    assert.match(String(callback?.headers['set-cookie']), /^keywarden=s%3A.*HttpOnly; SameSite=Lax/);

    const me = await browser.get('/auth/session').expect(200);
    assert.equal(me.body.provider, 'dev');
    assert.equal(me.body.subject, 'newcomer');
    assert.equal(me.body.email, 'newcomer@dev.keywarden.invalid');
  });

  it('makes the user named admin, and nobody else, an administrator (embedded defaults only)', async () => {
    const admin = new BrowserSession(baseUrl, { forwardedProto: undefined });
    assert.equal((await loginThroughIdp(admin, '/auth/login/dev', 'admin')).callback?.status, 303);
    const lookup = await admin.get('/admin/users/dev:newcomer').set('X-CSRF', '1');
    assert.equal(lookup.status, 200, JSON.stringify(lookup.body));
    assert.equal(lookup.body.user, 'dev:newcomer');
    const page = await admin.get('/portal/admin');
    assert.equal(page.status, 200);
    assert.match(page.text, /<h1>Administration<\/h1>/);

    const other = new BrowserSession(baseUrl, { forwardedProto: undefined });
    assert.equal((await loginThroughIdp(other, '/auth/login/dev', 'administrator')).callback?.status, 303);
    const refused = await other.get('/admin/users/dev:newcomer').set('X-CSRF', '1');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'admin_required');
    assert.doesNotMatch((await other.get('/portal')).text, /href="\/portal\/admin"/);
  });

  it('shows a login form at the interaction step', async () => {
    const start = await new BrowserSession(baseUrl, { forwardedProto: undefined })
      .get('/auth/login/dev')
      .expect(303);
    const authorize = await fetch(start.headers.location!, { redirect: 'manual' });
    const interaction = new URL(authorize.headers.get('location')!, baseUrl);
    const cookies = authorize.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    const form = await fetch(interaction, { headers: { cookie: cookies } });
    assert.equal(form.status, 200);
    const html = await form.text();
    assert.match(html, /accepts <strong>any<\/strong> username/);
    assert.match(html, /<form method="post" action="\/dev-idp\/interaction\//);
    // Browsers apply form-action to the redirects after the POST, which end at keywarden or at
    // an SPA that asked to come back (returnTo on a cors.origins origin): both must be allowed.
    const policy = form.headers.get('content-security-policy') ?? '';
    const formAction = policy.split(/;\s*/).find((directive) => directive.startsWith('form-action '));
    assert.equal(formAction, `form-action 'self' ${baseUrl} ${SPA_ORIGIN}`);
    assert.match(policy, /default-src 'none'/);
    // The username pattern compiles as browsers now read `pattern` (the RegExp `v` flag).
    const pattern = /pattern="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.ok(new RegExp(`^(?:${pattern})$`, 'v').test('alice.o-neil@example'));
    assert.ok(!new RegExp(`^(?:${pattern})$`, 'v').test('alice smith'));
  });

  it('is refused in production', () => {
    assert.throws(
      () =>
        loadConfig({
          env: { NODE_ENV: 'production', KEYWARDEN_SESSION__SECRET: 'x'.repeat(40) },
          overrides: {
            store: { kind: 'redis', redis: { url: 'redis://127.0.0.1:6379' } },
            auth: { devIdp: { enabled: true } },
          },
        }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.some((problem) => problem.startsWith('auth.devIdp.enabled:')),
    );
  });

  it('takes its issuer from server.publicUrl, which follows the port unless set', () => {
    const byPort = loadConfig({ env: { NODE_ENV: 'development', PORT: '5380' } });
    assert.equal(byPort.server.publicUrl, 'http://localhost:5380');
    assert.equal(byPort.auth.providers.dev?.kind, 'oidc');
    assert.equal(
      byPort.auth.providers.dev?.kind === 'oidc' && byPort.auth.providers.dev.issuer,
      'http://localhost:5380/dev-idp',
    );
    // A port only known after listening (PORT=0): main.ts loads again with the bound port.
    const bound = loadConfig({ env: { NODE_ENV: 'development', PORT: '0' }, listenPort: 43_117 });
    assert.equal(bound.server.publicUrl, 'http://localhost:43117');

    // An explicit publicUrl is kept, and the issuer follows it: no exit 78 for setting it.
    const explicit = loadConfig({
      env: { NODE_ENV: 'development', PORT: '5380', KEYWARDEN_SERVER__PUBLIC_URL: 'http://127.0.0.1:5380' },
    });
    assert.equal(explicit.server.publicUrl, 'http://127.0.0.1:5380');
    const provider = explicit.auth.providers.dev;
    assert.equal(provider?.kind === 'oidc' && provider.issuer, 'http://127.0.0.1:5380/dev-idp');
  });

  it('refuses a provider configured under its name, saying the development IdP provides it', () => {
    assert.throws(
      () =>
        loadConfig({
          env: { NODE_ENV: 'development' },
          overrides: {
            auth: {
              providers: {
                dev: { kind: 'oidc', issuer: 'http://x.example', clientId: 'c', clientSecret: 's' },
              },
            },
          },
        }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.some((problem) =>
          /^auth\.providers\.dev: the development IdP \(auth\.devIdp\) provides this login provider/.test(
            problem,
          ),
        ),
    );
  });

  it('when disabled, takes its provider and the portal button with it', async () => {
    const config = loadConfig({
      env: { NODE_ENV: 'development' },
      overrides: { auth: { devIdp: { enabled: false } }, localAws: { enabled: false } },
    });
    assert.deepEqual(Object.keys(config.auth.providers), []);
    const app = await createApp({ config, store: new MemoryStore(), logger: captureLogs().logger });
    const portal = await new BrowserSession(app, { forwardedProto: undefined }).get('/portal').expect(200);
    assert.doesNotMatch(portal.text, /Development sign-in/);
    assert.doesNotMatch(portal.text, /\/auth\/login\/dev/);
    const login = await new BrowserSession(app, { forwardedProto: undefined }).get('/auth/login/dev');
    assert.equal(login.status, 404);

    // Enabled (the development default), the portal offers it.
    const enabled = await createApp({
      config: loadConfig({ env: { NODE_ENV: 'development' }, overrides: { localAws: { enabled: false } } }),
      store: new MemoryStore(),
      logger: captureLogs().logger,
    });
    const offered = await new BrowserSession(enabled, { forwardedProto: undefined })
      .get('/portal')
      .expect(200);
    assert.match(offered.text, /Sign in with Development sign-in/);
  });
});
