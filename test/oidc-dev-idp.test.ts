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

before(async () => {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    env: { NODE_ENV: 'development' },
    overrides: {
      server: { publicUrl: baseUrl, port },
      auth: { providers: { dev: { issuer: `${baseUrl}/dev-idp` } } },
      rateLimit: { enabled: false },
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
  });

  it('is refused in production', () => {
    assert.throws(
      () =>
        loadConfig({
          env: { NODE_ENV: 'production', KEYWARDEN_SESSION__SECRET: 'x'.repeat(40) },
          overrides: {
            store: { kind: 'redis', redis: { url: 'redis://127.0.0.1:6379' } },
            auth: {
              devIdp: { enabled: true },
              providers: {
                dev: { kind: 'oidc', issuer: 'https://kw.example/dev-idp', clientId: 'c', clientSecret: 's' },
              },
            },
          },
        }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.some((problem) => problem.startsWith('auth.devIdp.enabled:')),
    );
  });
});
