import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { redisStoreAt } from './fixtures/oidc/keywarden-oidc.ts';
import { csrfTokenIn, type PortalStack, startPortalStack } from './fixtures/portal/stack.ts';
import { launchBrowser, screenshotOnFailure } from './support/browser.ts';
import { BrowserSession } from './support/browser-session.ts';
import { loginThroughIdp } from './support/oidc-provider.ts';
import { type RedisServer, startRedis } from './support/redis-server.ts';

/**
 * The portal's new pages in a real browser (Chromium) under the portal's strict CSP: every
 * signed-in user's "Your sessions" (their browsers and CLI sign-ins, each ended with a button),
 * and the admin page, where an admin finds a user and cuts them off. Forms carry the portal's
 * synchronizer token; without it nothing happens. State lives in a real Redis.
 */

let stack: PortalStack;
let redis: RedisServer;
let browser: Browser;
const secrets: string[] = [];

async function personPage(): Promise<{ context: BrowserContext; page: Page; cspViolations: string[] }> {
  const context = await browser.newContext({ userAgent: 'Mozilla/5.0 (X11; Linux) Chromium-under-test' });
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
  });
  return { context, page, cspViolations };
}

async function signIn(page: Page, username: string): Promise<void> {
  await page.goto(`${stack.url}/portal`);
  await page.getByRole('link', { name: 'Sign in with Corp SSO' }).click();
  await page.waitForURL((url) => url.origin === stack.idp.issuer);
  await page.locator('input[name="login"]').fill(username);
  await Promise.all([
    page.waitForURL(`${stack.url}/portal`),
    page.locator('input[name="login"]').press('Enter'),
  ]);
}

/** Another device of the same person: a session made outside the browser under test. */
async function otherDevice(username: string): Promise<BrowserSession> {
  const device = new BrowserSession(stack.url, { userAgent: 'Other-Device/1.0' });
  const { callback } = await loginThroughIdp(device, '/auth/login/corp?returnTo=/portal', username);
  assert.equal(callback?.status, 303);
  secrets.push(device.cookie('__Host-keywarden')!);
  return device;
}

/** A CLI sign-in for a signed-in device, through the device grant. */
async function cliSignIn(device: BrowserSession): Promise<string> {
  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'keywarden-cli/test' },
    body: new URLSearchParams({ client_id: 'keywarden-cli', ...fields }).toString(),
  });
  const started = (await (await fetch(`${stack.url}/auth/device/authorize`, form({}))).json()) as {
    device_code: string;
    user_code: string;
  };
  const confirm = await device.get(`/portal/device?user_code=${started.user_code}`).expect(200);
  await device
    .post('/portal/device')
    .type('form')
    .set('Origin', stack.url)
    .send({ _csrf: csrfTokenIn(confirm.text), user_code: started.user_code, decision: 'approve' })
    .expect(200);
  const token = (await (
    await fetch(
      `${stack.url}/auth/device/token`,
      form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: started.device_code }),
    )
  ).json()) as { access_token: string };
  secrets.push(started.device_code, token.access_token);
  return token.access_token;
}

describe('the portal pages for sessions and administration', () => {
  before(async () => {
    redis = await startRedis();
    [stack, browser] = await Promise.all([
      startPortalStack({
        store: await redisStoreAt(redis.url),
        overrides: { admin: { enabled: true, groups: ['admins'] } },
      }),
      launchBrowser(),
    ]);
  });
  after(async () => {
    await browser?.close();
    stack?.logs.assertNoneContain(secrets);
    await stack?.close();
    await redis?.stop();
  });

  it('shows every user their own sessions and lets them end one; the other device is signed out', async () => {
    const device = await otherDevice('bob');
    const { context, page, cspViolations } = await personPage();
    await screenshotOnFailure(page, 'sessions-bob', async () => {
      await signIn(page, 'bob');
      assert.equal(await page.getByRole('link', { name: 'Administration' }).count(), 0, 'bob is no admin');
      await page.getByRole('link', { name: 'Your sessions' }).click();
      assert.equal(await page.locator('h1').textContent(), 'Your sessions');
      const rows = page.locator('table[aria-labelledby="browsers"] tbody tr');
      assert.equal(await rows.count(), 2);
      const mine = rows.filter({ hasText: '(this browser)' });
      assert.match((await mine.textContent()) ?? '', /Chromium-under-test/);
      const theirs = rows.filter({ hasText: 'Other-Device/1.0' });
      assert.equal(await theirs.count(), 1);
      await theirs.getByRole('button', { name: /^End/ }).click();
      await page.waitForLoadState('domcontentloaded');
      assert.match((await page.locator('[role="status"]').textContent()) ?? '', /That session has ended/);
      assert.equal(await rows.count(), 1);
      assert.equal((await device.get('/auth/session')).status, 401, 'the other device is signed out');

      // Ending this browser's own session is signing out.
      await page.getByRole('button', { name: /^Sign out here/ }).click();
      await page.waitForLoadState('domcontentloaded');
      assert.equal(await page.locator('h1').textContent(), 'Signed out');
      assert.deepEqual(cspViolations, []);
    });
    await context.close();
  });

  it('refuses the sessions form without the CSRF token, and another user’s session id', async () => {
    const carol = await otherDevice('carol');
    const bob = await otherDevice('bob');
    const page = await bob.get('/portal/sessions').expect(200);
    assert.match(String(page.headers['content-security-policy']), /^default-src 'none'; script-src 'self'/);
    assert.equal(page.headers['cache-control'], 'no-store');
    const carolPage = await carol.get('/portal/sessions').expect(200);
    const carolSession = /name="session" value="([^"]+)"/.exec(carolPage.text)?.[1];
    assert.ok(carolSession);
    const forged = await bob
      .post('/portal/sessions')
      .type('form')
      .set('Origin', stack.url)
      .send({ session: carolSession });
    assert.equal(forged.status, 403);
    assert.match(forged.text, /did not come from this site/);
    const notTheirs = await bob
      .post('/portal/sessions')
      .type('form')
      .set('Origin', stack.url)
      .send({ _csrf: csrfTokenIn(page.text), session: carolSession });
    assert.equal(notTheirs.status, 200);
    assert.match(notTheirs.text, /That session had already ended/);
    assert.equal((await carol.get('/auth/session')).status, 200, "carol's session is untouched");
  });

  it('lists CLI sign-ins with where they came from, and signs one out', async () => {
    const dana = await otherDevice('carol');
    const token = await cliSignIn(dana);
    const page = await dana.get('/portal/sessions').expect(200);
    assert.match(page.text, /keywarden-cli\/test/, 'the client that asked, as its approval page showed it');
    const id = /name="cliToken" value="([^"]+)"/.exec(page.text)?.[1];
    assert.ok(id);
    assert.ok(!page.text.includes(token), 'the token itself is never shown');
    const ended = await dana
      .post('/portal/sessions')
      .type('form')
      .set('Origin', stack.url)
      .send({ _csrf: csrfTokenIn(page.text), cliToken: id })
      .expect(200);
    assert.match(ended.text, /That CLI sign-in has ended/);
    const refused = await fetch(`${stack.url}/credentials`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(refused.status, 401);
  });

  it('lets an admin find a user and cut them off; the user cannot sign in again until lifted', async () => {
    const bobDevice = await otherDevice('bob');
    const { context, page, cspViolations } = await personPage();
    await screenshotOnFailure(page, 'admin-alice', async () => {
      await signIn(page, 'alice');
      await page.getByRole('link', { name: 'Administration' }).click();
      assert.equal(await page.locator('h1').textContent(), 'Administration');
      await page.getByLabel('User').fill('corp:bob');
      await page.getByRole('button', { name: 'Look up' }).click();
      await page.waitForLoadState('domcontentloaded');
      assert.equal(await page.locator('#status').textContent(), 'corp:bob');
      assert.match(
        (await page.locator('table[aria-labelledby="sessions"]').textContent()) ?? '',
        /Other-Device\/1\.0/,
      );
      await page.getByLabel('Reason').fill('INC-42');
      await page.getByRole('button', { name: 'Revoke and suspend' }).click();
      await page.waitForLoadState('domcontentloaded');
      assert.match((await page.locator('[role="status"]').textContent()) ?? '', /^Revoked: \d+ session/);
      assert.match(
        (await page.locator('main').textContent()) ?? '',
        /Suspended until lifted.*Reason: INC-42/s,
      );
      assert.equal((await bobDevice.get('/auth/session')).status, 401);

      const again = new BrowserSession(stack.url);
      const { callback } = await loginThroughIdp(again, '/auth/login/corp?returnTo=/portal', 'bob');
      assert.equal(callback?.status, 403);
      assert.equal(callback?.body.code, 'user_suspended');

      await page.getByRole('button', { name: 'Lift the suspension' }).click();
      await page.waitForLoadState('domcontentloaded');
      assert.match((await page.locator('[role="status"]').textContent()) ?? '', /The suspension is lifted/);
      const back = new BrowserSession(stack.url);
      assert.equal(
        (await loginThroughIdp(back, '/auth/login/corp?returnTo=/portal', 'bob')).callback?.status,
        303,
      );
      assert.deepEqual(cspViolations, []);
    });
    await context.close();
  });

  it('keeps the admin page from non-admins and from forged forms', async () => {
    const carol = await otherDevice('carol');
    const refused = await carol.get('/portal/admin?user=corp:bob');
    assert.equal(refused.status, 403);
    assert.match(refused.text, /<h1>Not allowed<\/h1>/);
    assert.match(String(refused.headers['content-security-policy']), /^default-src 'none'/);
    const signedOut = await request(stack.url).get('/portal/admin').set('X-Forwarded-Proto', 'https');
    assert.equal(signedOut.status, 200);
    assert.match(signedOut.text, /<h1>Sign in<\/h1>/);

    const alice = await otherDevice('alice');
    const page = await alice.get('/portal/admin?user=corp:carol').expect(200);
    const forged = await alice
      .post('/portal/admin')
      .type('form')
      .set('Origin', stack.url)
      .send({ user: 'corp:carol', action: 'revoke' });
    assert.equal(forged.status, 403);
    const crossSite = await alice
      .post('/portal/admin')
      .type('form')
      .set('Origin', 'https://evil.example')
      .send({ _csrf: csrfTokenIn(page.text), user: 'corp:carol', action: 'revoke' });
    assert.equal(crossSite.status, 403);
    const unconfirmed = await alice
      .post('/portal/admin')
      .type('form')
      .set('Origin', stack.url)
      .send({ _csrf: csrfTokenIn(page.text), user: 'corp:carol', action: 'delete-identity' });
    assert.equal(unconfirmed.status, 400);
    assert.match(unconfirmed.text, /Tick the box to confirm the erasure/);
    assert.equal((await carol.get('/auth/session')).status, 200, 'carol was not touched');
  });
});
