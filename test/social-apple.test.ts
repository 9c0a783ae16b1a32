import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportPKCS8, generateKeyPair } from 'jose';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { createApp } from '../src/app.ts';
import { createAwsClients } from '../src/aws/clients.ts';
import { createAuditLog } from '../src/observability/audit.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { credentialOverrides } from './fixtures/credentials/config.ts';
import { mergeOverrides } from './fixtures/credentials/harness.ts';
import { type AwsDouble, DEFAULT_SERVICE_CREDENTIALS, startAwsDouble } from './support/aws-double/index.ts';
import { launchBrowser, screenshotOnFailure } from './support/browser.ts';
import { type CapturedLogs, captureLogs } from './support/logs.ts';
import { type AppleStandin, startApple } from './support/social/apple.ts';
import { testConfig } from './support/test-config.ts';

/**
 * Sign in with Apple on the web, end to end: Debian's Chromium at keywarden on
 * http://localhost:<port> (behind a simulated TLS proxy, so cookies are the real `__Host-`
 * Secure ones), Apple's authorization server stand-in on http://127.0.0.1:<port> — another site,
 * so its auto-submitted `form_post` to keywarden's callback is a cross-site POST that carries the
 * SameSite=None binding cookie and not the SameSite=Lax session cookie, as with the real Apple.
 * The client secret is an ES256 JWT made from the team id, key id and a PKCS#8 key, which the
 * stand-in verifies as Apple does. A guest of that browser keeps its identity (AWS test double).
 */

const SERVICES_ID = 'com.example.keywarden.web';
const TEAM_ID = 'TEAM123456';
const KEY_ID = 'KEY7654321';
const SESSION_SECRET = 'apple-test-session-secret-0123456789abcdef';

let aws: AwsDouble;
let apple: AppleStandin;
let browser: Browser;
let logs: CapturedLogs;
const store = new MemoryStore();
let url: string;
let closeServer: () => Promise<void>;
/** The Cookie header of every POST to keywarden's Apple callback, as the server received it. */
const callbackCookies: string[] = [];

before(async () => {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const server = createServer((req, res) => {
    req.headers['x-forwarded-proto'] = 'https'; // the TLS-terminating proxy keywarden expects
    if (req.method === 'POST' && req.url === '/auth/callback/apple')
      callbackCookies.push(req.headers.cookie ?? '');
    handler(req, res);
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://localhost:${(server.address() as AddressInfo).port}`;
  closeServer = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  const teamKey = await generateKeyPair('ES256', { extractable: true });
  [aws, apple, browser] = await Promise.all([
    startAwsDouble(),
    startApple({
      clientId: SERVICES_ID,
      redirectUri: `${url}/auth/callback/apple`,
      teamId: TEAM_ID,
      keyId: KEY_ID,
      teamPublicKey: teamKey.publicKey,
    }),
    launchBrowser(),
  ]);
  apple.addUser({
    account: 'jane@icloud.example',
    sub: '001234.abcdef0123456789.1234',
    email: 'jane.relay@privaterelay.appleid.example',
    firstName: 'Jane',
    lastName: 'Appleseed',
  });
  apple.addUser({
    account: 'mallory@icloud.example',
    sub: '009999.mallory000000000.9999',
    email: 'mallory@privaterelay.appleid.example',
    firstName: 'Mallory',
    lastName: 'Attacker',
  });

  const config = testConfig(
    mergeOverrides(credentialOverrides({ endpoint: aws.url }), {
      server: { publicUrl: url, trustProxyHops: 1 },
      session: { secret: SESSION_SECRET },
      guests: { enabled: true },
      auth: {
        providers: {
          // What a deployment writes: the preset, the Services ID, the team and key ids; the key
          // comes from KEYWARDEN_AUTH__PROVIDERS__APPLE__SIGNED_CLIENT_SECRET__PRIVATE_KEY_FILE.
          apple: {
            preset: 'apple',
            clientId: SERVICES_ID,
            signedClientSecret: {
              teamId: TEAM_ID,
              keyId: KEY_ID,
              privateKey: await exportPKCS8(teamKey.privateKey),
            },
            issuer: apple.issuer, // the stand-in instead of https://appleid.apple.com
          },
        },
      },
    }),
  );
  logs = captureLogs();
  const app = await createApp({
    config,
    store,
    logger: logs.logger,
    metrics: createMetrics({ collectProcessMetrics: false }),
    audit: createAuditLog(logs.logger),
    awsClients: createAwsClients(config.aws, { credentials: DEFAULT_SERVICE_CREDENTIALS }),
  });
  handler = app;
});

after(async () => {
  await browser?.close();
  logs?.assertNoneContain(apple?.clientSecrets.map((secret) => secret.jwt) ?? []);
  await closeServer?.();
  await Promise.all([aws?.close(), apple?.close()]);
});

/** JSON answered by keywarden to a same-origin fetch from the page (as an SPA would call it). */
function fetchJson(page: Page, path: string, init: { method?: string } = {}) {
  return page.evaluate(
    async ({ path, method }) => {
      const response = await fetch(path, { method: method ?? 'GET', headers: { 'X-CSRF': '1' } });
      return { status: response.status, body: await response.json() };
    },
    { path, method: init.method },
  );
}

/** keywarden → Apple's sign-in page → Continue → Apple's form_post back to keywarden → returnTo. */
async function signInWithApple(page: Page, account: string, returnTo = '/auth/session'): Promise<void> {
  await page.goto(`${url}/auth/login/apple?returnTo=${encodeURIComponent(returnTo)}`);
  await page.waitForURL((current) => current.origin === apple.issuer);
  assert.equal(await page.locator('h1').textContent(), 'Sign in with Apple ID');
  await page.getByLabel('Apple ID').fill(account);
  await Promise.all([
    page.waitForURL(`${url}${returnTo}`),
    page.getByRole('button', { name: 'Continue' }).click(),
  ]);
}

describe('Sign in with Apple in Chromium (form_post)', () => {
  it('a guest signs in with Apple: cross-site form_post, name from the first authorization, and the guest identity is kept', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await screenshotOnFailure(page, 'apple-first-sign-in', async () => {
      await page.goto(`${url}/auth/session`);
      const guest = await fetchJson(page, '/identities/guest', { method: 'POST' });
      assert.equal(guest.status, 201, JSON.stringify(guest.body));
      const asGuest = await fetchJson(page, '/credentials');
      assert.equal(asGuest.body.role, 'guest');

      const authorizationRequests = apple.requests.authorize;
      await signInWithApple(page, 'jane@icloud.example');
      assert.equal(apple.requests.authorize, authorizationRequests + 1);

      // Chromium sent the binding cookie (SameSite=None) on Apple's cross-site POST, and not the session cookie.
      const cookieHeader = callbackCookies.at(-1) ?? '';
      assert.match(cookieHeader, /__Host-keywarden-formpost=/);
      assert.doesNotMatch(cookieHeader, /__Host-keywarden=/, 'the SameSite=Lax session cookie stays home');

      const me = JSON.parse((await page.locator('body').textContent()) ?? '{}');
      assert.equal(me.provider, 'apple');
      assert.equal(me.subject, '001234.abcdef0123456789.1234');
      assert.equal(me.name, 'Jane Appleseed', 'the name Apple posts once, in the user field');
      assert.equal(
        me.email,
        'jane.relay@privaterelay.appleid.example',
        'from the ID token, verified ("true")',
      );

      const asUser = await fetchJson(page, '/credentials');
      assert.equal(asUser.status, 200, JSON.stringify(asUser.body));
      assert.equal(
        asUser.body.identityId,
        guest.body.identityId,
        'the signed-in user kept the guest identity',
      );
      assert.equal(
        aws.credentials.get(asUser.body.credentials.accessKeyId)?.authenticationType,
        'authenticated',
      );

      const cookies = await context.cookies(url);
      const session = cookies.find((cookie) => cookie.name === '__Host-keywarden');
      assert.equal(session?.sameSite, 'Lax');
      assert.equal(session?.secure, true);
      assert.equal(
        cookies.find((cookie) => cookie.name === '__Host-keywarden-formpost'),
        undefined,
        'the binding cookie is spent',
      );

      // The client secret Apple got was a valid ES256 JWT of at most six months (the stand-in checked it).
      const secret = apple.clientSecrets.at(-1)!;
      assert.ok(secret.exp - secret.iat <= 15_777_000 && secret.exp > Date.now() / 1000);
    });
    await context.close();
  });

  it('a later sign-in keeps the name, though Apple no longer posts it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await screenshotOnFailure(page, 'apple-second-sign-in', async () => {
      await signInWithApple(page, 'jane@icloud.example');
      const me = JSON.parse((await page.locator('body').textContent()) ?? '{}');
      assert.equal(me.name, 'Jane Appleseed');
      const out = await fetchJson(page, '/auth/logout', { method: 'POST' });
      assert.equal(out.status, 200);
      assert.equal((await fetchJson(page, '/auth/session')).status, 401);
    });
    await context.close();
  });

  it('cancelling at Apple signs nobody in and shows a generic problem', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await screenshotOnFailure(page, 'apple-cancel', async () => {
      await page.goto(`${url}/auth/login/apple`);
      await page.waitForURL((current) => current.origin === apple.issuer);
      const [response] = await Promise.all([
        page.waitForResponse((candidate) => candidate.url() === `${url}/auth/callback/apple`),
        page.getByRole('button', { name: 'Cancel' }).click(),
      ]);
      assert.equal(response.status(), 401);
      // A navigation gets the generic error page, which names the code and nothing Apple said.
      const text = (await page.locator('body').textContent()) ?? '';
      assert.match(text, /login_failed/);
      assert.doesNotMatch(text, /user_cancelled/);
      assert.equal((await fetchJson(page, '/auth/session')).status, 401);
    });
    await context.close();
  });
});

describe('Apple form_post callback, hostile cases (HTTP)', () => {
  /** Starts a sign-in like a browser and returns what Apple would post, plus the browser's binding cookie. */
  async function startedSignIn(
    account: string,
  ): Promise<{ fields: Record<string, string>; binding: string }> {
    const start = await request(url).get('/auth/login/apple').expect(303);
    const setCookie = ([] as string[]).concat(start.headers['set-cookie'] ?? []);
    const binding = setCookie.find((line) => line.startsWith('__Host-keywarden-formpost='))!;
    for (const attribute of ['Path=/', 'HttpOnly', 'Secure', 'SameSite=None']) {
      assert.ok(binding.split('; ').includes(attribute), `${attribute} in ${binding}`);
    }
    const authorizationUrl = new URL(start.headers.location!);
    assert.equal(authorizationUrl.searchParams.get('response_mode'), 'form_post');
    assert.equal(authorizationUrl.searchParams.get('scope'), 'openid name email');
    assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.match(authorizationUrl.searchParams.get('nonce')!, /^[A-Za-z0-9_-]{43}$/);
    return { fields: await apple.authorize(authorizationUrl.href, account), binding: binding.split(';')[0]! };
  }

  /** The session id inside a `__Host-keywarden=s%3A<id>.<signature>` cookie. */
  function sessionIdOf(setCookie: string[] | string | undefined): string {
    const line = ([] as string[])
      .concat(setCookie ?? [])
      .find((candidate) => candidate.startsWith('__Host-keywarden='));
    const value = decodeURIComponent(line!.split(';')[0]!.slice('__Host-keywarden='.length));
    return value.slice(2, value.lastIndexOf('.'));
  }

  it('carries a guest over the cross-site POST and deletes the pre-login session record it could not see', async () => {
    const guest = await request(url).post('/identities/guest').set('X-CSRF', '1');
    assert.equal(guest.status, 201, JSON.stringify(guest.body));
    const guestCookie = ([] as string[])
      .concat(guest.headers['set-cookie'] ?? [])
      .find((line) => line.startsWith('__Host-keywarden='))!;
    const guestSession = sessionIdOf(guestCookie);
    assert.ok(await store.get(`sess:${guestSession}`));

    const start = await request(url)
      .get('/auth/login/apple')
      .set('Cookie', guestCookie.split(';')[0]!)
      .expect(303);
    const binding = ([] as string[])
      .concat(start.headers['set-cookie'] ?? [])
      .find((line) => line.startsWith('__Host-keywarden-formpost='))!;
    const fields = await apple.authorize(start.headers.location!, 'jane@icloud.example');
    // Apple's POST is cross-site: only the SameSite=None binding cookie comes along.
    const callback = await postCallback(fields, binding.split(';')[0]!);
    assert.equal(callback.status, 303, JSON.stringify(callback.body));
    const signedIn = sessionIdOf(callback.headers['set-cookie']);
    assert.notEqual(signedIn, guestSession);
    assert.equal(await store.get(`sess:${guestSession}`), null, 'the pre-login (guest) session is gone');
    const record = JSON.parse((await store.get(`sess:${signedIn}`))!);
    assert.equal(record.auth.principal.provider, 'apple');
    assert.equal(
      record.auth.guestIdentityId,
      guest.body.identityId,
      'the guest identity is carried for linking',
    );
  });

  function postCallback(fields: Record<string, string>, cookie?: string) {
    const test = request(url).post('/auth/callback/apple').type('form').send(fields);
    return cookie ? test.set('Cookie', cookie) : test;
  }

  it('refuses an answer posted by a browser that did not start the sign-in (login CSRF)', async () => {
    const attacker = await startedSignIn('mallory@icloud.example');
    const victim = await startedSignIn('jane@icloud.example');
    // The attacker's own valid answer, auto-posted from the victim's browser (the victim's binding cookie).
    const response = await postCallback(attacker.fields, victim.binding);
    assert.equal(response.status, 400);
    assert.equal(response.body.code, 'invalid_login_state');
    const cookies = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
    assert.ok(!cookies.some((line) => line.startsWith('__Host-keywarden=s')), 'no session is made');
    const failed = logs
      .records()
      .filter((record) => record.event === 'login.failed')
      .at(-1);
    assert.equal(failed?.reason, 'browser_binding_mismatch');
    // And without any binding cookie at all.
    const other = await startedSignIn('mallory@icloud.example');
    assert.equal((await postCallback(other.fields)).status, 400);
  });

  it('accepts an answer once: a replayed POST is refused', async () => {
    const started = await startedSignIn('jane@icloud.example');
    const first = await postCallback(started.fields, started.binding);
    assert.equal(first.status, 303, JSON.stringify(first.body));
    assert.equal((await postCallback(started.fields, started.binding)).status, 400);
  });

  it('never takes the email from the unsigned user field', async () => {
    const started = await startedSignIn('jane@icloud.example');
    const forged = {
      ...started.fields,
      user: JSON.stringify({ name: { firstName: 'Jane', lastName: 'A.' }, email: 'ceo@corp.example' }),
    };
    const signedIn = await postCallback(forged, started.binding);
    assert.equal(signedIn.status, 303);
    const cookie = ([] as string[])
      .concat(signedIn.headers['set-cookie'] ?? [])
      .find((line) => line.startsWith('__Host-keywarden='));
    const me = await request(url).get('/auth/session').set('Cookie', cookie!.split(';')[0]!);
    assert.equal(me.body.email, 'jane.relay@privaterelay.appleid.example');
    assert.equal(me.body.name, 'Jane A.', 'the name is the self-chosen display name of this account only');
  });

  it('refuses a malformed callback: JSON instead of a form, a repeated state, and a GET', async () => {
    const started = await startedSignIn('jane@icloud.example');
    const json = await request(url)
      .post('/auth/callback/apple')
      .set('Cookie', started.binding)
      .send(started.fields);
    assert.equal(json.status, 400);
    const repeated = await request(url)
      .post('/auth/callback/apple')
      .set('Cookie', started.binding)
      .type('form')
      .send(`code=${started.fields.code}&state=${started.fields.state}&state=other`);
    assert.equal(repeated.status, 400);
    const viaGet = await request(url).get(
      `/auth/callback/apple?code=${started.fields.code}&state=${started.fields.state}`,
    );
    assert.equal(viaGet.status, 404, 'a form_post provider has no GET callback');
  });
});
