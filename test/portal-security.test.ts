import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'supertest';
import { csrfTokenIn, type PortalStack, startPortalStack } from './fixtures/portal/stack.ts';
import { BrowserSession } from './support/browser-session.ts';
import { loginThroughIdp } from './support/oidc-provider.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';

/**
 * The portal's and the device grant's hostile cases, over real HTTP with a signed-in
 * session: CSRF (missing, wrong, another session's, cross-origin, wrong media type), roles
 * the user lacks, the federation endpoint down, and every RFC 8628 error — pending, slow
 * down, denied, expired, redeemed twice, unknown client — plus user-code guessing and CLI
 * tokens that are unknown or revoked. Nothing may be issued and nothing secret logged.
 */

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let stack: PortalStack;
const secrets: string[] = [];

async function signedIn(username: string): Promise<{ browser: BrowserSession; csrf: string }> {
  const browser = new BrowserSession(stack.url);
  const { callback } = await loginThroughIdp(browser, '/auth/login/corp?returnTo=/portal', username);
  assert.equal(callback?.status, 303);
  secrets.push(browser.cookie('__Host-keywarden')!, browser.sessionId()!);
  const home = await browser.get('/portal').expect(200);
  const csrf = csrfTokenIn(home.text);
  secrets.push(csrf);
  return { browser, csrf };
}

function assertPage(response: Response, status: number, heading: RegExp | string): void {
  assert.equal(response.status, status, response.text.slice(0, 500));
  assert.match(String(response.headers['content-type']), /^text\/html/);
  assert.equal(response.headers['cache-control'], 'no-store');
  assert.match(String(response.headers['content-security-policy']), /^default-src 'none'; script-src 'self'/);
  const h1 = /<h1>([^<]*)<\/h1>/.exec(response.text)?.[1] ?? '';
  if (typeof heading === 'string') assert.equal(h1, heading);
  else assert.match(h1, heading);
}

async function authorize(
  fields: Record<string, string> = { client_id: 'keywarden-cli' },
  userAgent = 'keywarden-cli/test',
): Promise<{ device_code: string; user_code: string; verification_uri_complete: string }> {
  const response = await new BrowserSession(stack.url)
    .post('/auth/device/authorize')
    .type('form')
    .set('User-Agent', userAgent)
    .send(fields);
  assert.equal(response.status, 200, response.text);
  assertMatchesOpenApi(response, { method: 'post', path: '/auth/device/authorize' });
  secrets.push(response.body.device_code);
  return response.body;
}

function poll(deviceCode: string, clientId = 'keywarden-cli'): Promise<Response> {
  return new BrowserSession(stack.url)
    .post('/auth/device/token')
    .type('form')
    .send({ grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: clientId })
    .then((response) => {
      assertMatchesOpenApi(response, { method: 'post', path: '/auth/device/token' });
      return response;
    });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function decide(
  browser: BrowserSession,
  userCode: string,
  decision: 'approve' | 'deny',
): Promise<Response> {
  const confirm = await browser.get(`/portal/device?user_code=${encodeURIComponent(userCode)}`);
  assertPage(confirm, 200, 'Approve a device sign-in');
  return browser
    .post('/portal/device')
    .type('form')
    .set('Origin', stack.url)
    .send({ _csrf: csrfTokenIn(confirm.text), user_code: userCode, decision });
}

describe('portal and device grant: hostile cases', () => {
  before(async () => {
    stack = await startPortalStack({
      overrides: { portal: { device: { userCodeAttempts: { points: 20, windowSeconds: 300 } } } },
    });
  });
  after(async () => {
    stack?.logs.assertNoneContain(secrets.filter(Boolean));
    await stack?.close();
  });

  describe('portal forms', () => {
    it('refuses a form post without, with a wrong, or with another session’s token (403), and issues nothing', async () => {
      const alice = await signedIn('alice');
      const bob = await signedIn('bob');
      const vends = stack.aws.credentials.size;
      const attempts: Array<[string, Record<string, string>]> = [
        ['no token', { role: 'admin' }],
        ['wrong token', { role: 'admin', _csrf: 'x'.repeat(43) }],
        ['empty token', { role: 'admin', _csrf: '' }],
        ['another session’s token', { role: 'admin', _csrf: bob.csrf }],
      ];
      for (const [label, form] of attempts) {
        for (const path of ['/portal/credentials', '/portal/console']) {
          const response = await alice.browser.post(path).type('form').send(form);
          assertPage(response, 403, 'Not allowed');
          assert.match(response.text, /did not come from this site/, label);
          assertMatchesOpenApi(response, { method: 'post', path });
        }
      }
      assert.equal(stack.aws.credentials.size, vends);
      assert.equal(stack.federation.requests.getSigninToken, 0);
      assert.ok(stack.logs.records().some((record) => record.event === 'csrf.rejected'));
    });

    it('refuses the right token from another origin or a cross-site fetch, and anything but a form', async () => {
      const { browser, csrf } = await signedIn('alice');
      const crossOrigin = await browser
        .post('/portal/credentials')
        .type('form')
        .set('Origin', 'https://evil.example')
        .send({ _csrf: csrf, role: 'admin' });
      assertPage(crossOrigin, 403, 'Not allowed');
      const opaqueOrigin = await browser
        .post('/portal/credentials')
        .type('form')
        .set('Origin', 'null')
        .send({ _csrf: csrf, role: 'admin' });
      assertPage(opaqueOrigin, 403, 'Not allowed');
      const crossSite = await browser
        .post('/portal/credentials')
        .type('form')
        .set('Sec-Fetch-Site', 'cross-site')
        .send({ _csrf: csrf, role: 'admin' });
      assertPage(crossSite, 403, 'Not allowed');
      const textPlain = await browser
        .post('/portal/credentials')
        .set('Content-Type', 'text/plain')
        .send(`_csrf=${csrf}&role=admin`);
      assertPage(textPlain, 415, 'That request was not valid');
      const json = await browser
        .post('/portal/credentials')
        .set('X-CSRF', '1')
        .send({ _csrf: csrf, role: 'admin' });
      assertPage(json, 415, 'That request was not valid');
      assertMatchesOpenApi(json, { method: 'post', path: '/portal/credentials' });
    });

    it('answers a signed-out post with a sign-in page (401), and a role the user lacks with 403', async () => {
      const anonymous = await new BrowserSession(stack.url)
        .post('/portal/credentials')
        .type('form')
        .send({ role: 'admin' });
      assertPage(anonymous, 401, 'Please sign in');
      assert.match(anonymous.text, /<a href="\/portal">Sign in<\/a>/);
      assertMatchesOpenApi(anonymous, { method: 'post', path: '/portal/credentials' });

      const { browser, csrf } = await signedIn('alice');
      const vends = stack.aws.credentials.size;
      const notHers = await browser
        .post('/portal/credentials')
        .type('form')
        .send({ _csrf: csrf, role: 'auditor' });
      assertPage(notHers, 403, 'Not allowed');
      const unknown = await browser
        .post('/portal/credentials')
        .type('form')
        .send({ _csrf: csrf, role: 'no such role!' });
      assertPage(unknown, 400, 'That request was not valid');
      const tooLong = await browser
        .post('/portal/credentials')
        .type('form')
        .send({ _csrf: csrf, role: 'reader', durationSeconds: '7200' });
      assertPage(tooLong, 400, 'That request was not valid');
      assert.equal(stack.aws.credentials.size, vends, 'nothing was vended');
      const denied = stack.logs.records().filter((record) => record.event === 'credentials.denied');
      assert.ok(denied.some((record) => record.reason === 'role_not_allowed' && record.channel === 'portal'));
    });

    it('issues credentials on a valid post, as a no-store page, with an audit record', async () => {
      const { browser, csrf } = await signedIn('alice');
      const response = await browser
        .post('/portal/credentials')
        .type('form')
        .send({ _csrf: csrf, role: 'reader' });
      assertPage(response, 200, 'Credentials for Read-only');
      assertMatchesOpenApi(response, { method: 'post', path: '/portal/credentials' });
      // Quotes are escaped in the HTML source (the browser shows them as ').
      const secret = /AWS_SECRET_ACCESS_KEY=&#39;([^&]+)&#39;/.exec(response.text)?.[1];
      const token = /AWS_SESSION_TOKEN=&#39;([^&]+)&#39;/.exec(response.text)?.[1];
      assert.ok(secret && token);
      secrets.push(secret, token);
      const record = stack.logs.records().findLast((entry) => entry.event === 'credentials.issued');
      assert.equal(record?.channel, 'portal');
      assert.equal(record?.role, 'reader');
      assert.equal(record?.subject, 'alice');
      // The API keeps its own CSP; the portal's applies to portal pages only.
      const api = await browser.get('/auth/session').expect(200);
      assert.doesNotMatch(String(api.headers['content-security-policy']), /default-src 'none'/);
    });

    it('answers 503 with Retry-After when the federation endpoint fails, and sends the browser nowhere', async () => {
      const { browser, csrf } = await signedIn('alice');
      stack.federation.failNext(1);
      const response = await browser
        .post('/portal/console')
        .type('form')
        .send({ _csrf: csrf, role: 'admin' });
      assertPage(response, 503, 'Temporarily unavailable');
      assert.equal(response.headers['retry-after'], '5');
      assert.equal(response.headers.location, undefined);
      assertMatchesOpenApi(response, { method: 'post', path: '/portal/console' });

      const ok = await browser.post('/portal/console').type('form').send({ _csrf: csrf, role: 'admin' });
      assert.equal(ok.status, 303);
      const target = new URL(String(ok.headers.location));
      assert.equal(`${target.origin}${target.pathname}`, stack.federation.url);
      const signinToken = target.searchParams.get('SigninToken')!;
      secrets.push(signinToken);
      assert.ok(stack.federation.tokens.has(signinToken));
      assert.ok(stack.logs.records().some((record) => record.event === 'portal.console_signin'));
    });

    it('signs out only with the form token; afterwards the session is gone', async () => {
      const { browser, csrf } = await signedIn('alice');
      const forged = await browser.post('/portal/logout').type('form').send({});
      assertPage(forged, 403, 'Not allowed');
      await browser.get('/auth/session').expect(200);
      const out = await browser.post('/portal/logout').type('form').send({ _csrf: csrf });
      assertPage(out, 200, 'Signed out');
      assertMatchesOpenApi(out, { method: 'post', path: '/portal/logout' });
      await browser.get('/auth/session').expect(401);
      const again = await browser
        .post('/portal/credentials')
        .type('form')
        .send({ _csrf: csrf, role: 'admin' });
      assertPage(again, 401, 'Please sign in');
    });
  });

  describe('device authorization grant', () => {
    it('refuses unknown clients, other grant types and non-form bodies with OAuth errors', async () => {
      const anyone = new BrowserSession(stack.url);
      const unknown = await anyone.post('/auth/device/authorize').type('form').send({ client_id: 'evil' });
      assert.equal(unknown.status, 401);
      assert.equal(unknown.body.error, 'invalid_client');
      assertMatchesOpenApi(unknown, { method: 'post', path: '/auth/device/authorize' });
      const json = await anyone.post('/auth/device/authorize').send({ client_id: 'keywarden-cli' });
      assert.equal(json.status, 400);
      assert.equal(json.body.error, 'invalid_request');
      const grant = await anyone
        .post('/auth/device/token')
        .type('form')
        .send({ grant_type: 'password', client_id: 'keywarden-cli', device_code: 'x' });
      assert.equal(grant.body.error, 'unsupported_grant_type');
      assert.equal((await poll('not-a-device-code')).body.error, 'invalid_grant');
      const { device_code } = await authorize();
      assert.equal((await poll(device_code, 'other-client')).status, 401, 'a code is bound to its client');
    });

    it('answers authorization_pending, then slow_down when polled too fast', async () => {
      const { device_code, user_code } = await authorize();
      assert.match(user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
      const first = await poll(device_code);
      assert.equal(first.status, 400);
      assert.equal(first.body.error, 'authorization_pending');
      assert.equal(first.headers['cache-control'], 'no-store');
      const second = await poll(device_code);
      assert.equal(second.body.error, 'slow_down');
      assert.match(second.body.error_description, /every 6 seconds/);
    });

    it('will not approve without the form token, and a denial answers access_denied once', async () => {
      const { browser } = await signedIn('alice');
      const { device_code, user_code } = await authorize();
      const forged = await browser
        .post('/portal/device')
        .type('form')
        .send({ user_code, decision: 'approve' });
      assertPage(forged, 403, 'Not allowed');
      assertMatchesOpenApi(forged, { method: 'post', path: '/portal/device' });
      assert.equal((await poll(device_code)).body.error, 'authorization_pending');

      const denied = await decide(browser, user_code, 'deny');
      assertPage(denied, 200, 'Device denied');
      await sleep(1_000);
      assert.equal((await poll(device_code)).body.error, 'access_denied');
      assert.equal((await poll(device_code)).body.error, 'invalid_grant');
      assert.ok(stack.logs.records().some((record) => record.event === 'device.denied'));
    });

    it('answers expired_token for a code past its lifetime, and will not approve it', async () => {
      const { browser } = await signedIn('alice');
      const { device_code, user_code } = await authorize();
      const key = `device:code:${createHash('sha256').update(device_code).digest('base64url')}`;
      const record = JSON.parse((await stack.store.get(key))!);
      await stack.store.set(key, JSON.stringify({ ...record, expiresAt: Date.now() - 1 }), { ttlMs: 60_000 });
      const page = await browser.get(`/portal/device?user_code=${user_code}`);
      assertPage(page, 404, 'Approve a device sign-in');
      assert.match(page.text, /not valid, was already used, or has expired/);
      assertMatchesOpenApi(page, { method: 'get', path: '/portal/device' });
      assert.equal((await poll(device_code)).body.error, 'expired_token');
    });

    it('redeems an approved code exactly once, for a token bound to the approving user', async () => {
      const { browser } = await signedIn('alice');
      const hostileAgent = '<script>alert(1)</script>';
      const { device_code, user_code } = await authorize({ client_id: 'keywarden-cli' }, hostileAgent);
      const confirm = await browser.get(
        `/portal/device?user_code=${user_code.toLowerCase().replace('-', ' ')}`,
      );
      assertPage(confirm, 200, 'Approve a device sign-in');
      assert.ok(confirm.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the user agent is escaped');
      assert.ok(!confirm.text.includes(hostileAgent));
      assertMatchesOpenApi(confirm, { method: 'get', path: '/portal/device' });
      const approved = await decide(browser, user_code, 'approve');
      assertPage(approved, 200, 'Device approved');
      assertMatchesOpenApi(approved, { method: 'post', path: '/portal/device' });
      const twice = await decide(browser, user_code, 'approve').catch((error: Error) => error);
      assert.ok(twice instanceof Error, 'the user code is single use (no confirmation page the second time)');

      await sleep(1_000);
      const granted = await poll(device_code);
      assert.equal(granted.status, 200, granted.text);
      assert.equal(granted.body.token_type, 'Bearer');
      const token = granted.body.access_token as string;
      secrets.push(token);
      assert.equal((await poll(device_code)).body.error, 'invalid_grant', 'a device code is redeemed once');

      const cli = new BrowserSession(stack.url);
      const me = await cli.get('/auth/session').set('Authorization', `Bearer ${token}`).expect(200);
      assert.equal(me.body.subject, 'alice');
      assert.equal(me.body.authMethod, 'bearer');
      assert.deepEqual(me.body.allowedRoles, ['admin', 'reader']);
      const credentials = await cli
        .get('/credentials?format=credential-process&role=admin')
        .set('Authorization', `Bearer ${token}`);
      assert.equal(credentials.status, 200, credentials.text);
      assert.equal(credentials.body.Version, 1);
      secrets.push(credentials.body.SecretAccessKey, credentials.body.SessionToken);

      const revoked = await cli
        .post('/auth/device/revoke')
        .type('form')
        .send({ client_id: 'keywarden-cli', token });
      assert.equal(revoked.status, 200);
      assertMatchesOpenApi(revoked, { method: 'post', path: '/auth/device/revoke' });
      const after = await cli
        .get('/credentials?format=credential-process')
        .set('Authorization', `Bearer ${token}`);
      assert.equal(after.status, 401);
      assert.equal(after.body.code, 'invalid_token');
    });

    it('signs the CLI out on every device from the portal', async () => {
      const { browser, csrf } = await signedIn('alice');
      const SIGN_OUT_BUTTON = />Sign the CLI out on all your devices<\/button>/;
      // Offered only to a user whose CLI is signed in somewhere (earlier tests' sign-ins ended first).
      await browser.post('/portal/cli/sign-out').type('form').send({ _csrf: csrf }).expect(200);
      assert.doesNotMatch((await browser.get('/portal').expect(200)).text, SIGN_OUT_BUTTON);
      const tokens: string[] = [];
      for (let device = 0; device < 2; device += 1) {
        const { device_code, user_code } = await authorize();
        assertPage(await decide(browser, user_code, 'approve'), 200, 'Device approved');
        await sleep(1_000);
        const granted = await poll(device_code);
        assert.equal(granted.status, 200, granted.text);
        tokens.push(granted.body.access_token);
        secrets.push(granted.body.access_token);
      }
      assert.match((await browser.get('/portal').expect(200)).text, SIGN_OUT_BUTTON);
      const forged = await browser.post('/portal/cli/sign-out').type('form').send({});
      assertPage(forged, 403, 'Not allowed');
      const out = await browser.post('/portal/cli/sign-out').type('form').send({ _csrf: csrf });
      assertPage(out, 200, 'CLI signed out');
      assert.match(out.text, /2 CLI sign-ins were revoked/);
      assertMatchesOpenApi(out, { method: 'post', path: '/portal/cli/sign-out' });
      for (const token of tokens) {
        await new BrowserSession(stack.url)
          .get('/auth/session')
          .set('Authorization', `Bearer ${token}`)
          .expect(401);
      }
      await browser.get('/auth/session').expect(200);
      assert.doesNotMatch((await browser.get('/portal').expect(200)).text, SIGN_OUT_BUTTON);
    });

    it('does not let a bad CLI token fall through to the session cookie or the JWT bearer check', async () => {
      const { browser } = await signedIn('alice');
      const forged = `kwcli_${'A'.repeat(43)}`;
      const response = await browser.get('/auth/session').set('Authorization', `Bearer ${forged}`);
      assert.equal(response.status, 401);
      assert.equal(response.body.code, 'invalid_token');
      assert.match(String(response.headers['www-authenticate']), /error="invalid_token"/);
      assert.ok(stack.logs.records().some((record) => record.event === 'token.rejected'));
    });

    it('limits user-code guessing per user and per IP (429), even for the right code afterwards', async () => {
      const { browser } = await signedIn('carol');
      const { user_code } = await authorize();
      let refused: Response | undefined;
      let guesses = 0;
      for (; guesses < 21 && !refused; guesses += 1) {
        const guess = await browser.get(`/portal/device?user_code=BBBB-${'BCDF'[guesses % 4]!.repeat(4)}`);
        if (guess.status === 429) refused = guess;
        else assertPage(guess, 404, 'Approve a device sign-in');
      }
      assert.ok(refused, 'guessing was cut off');
      assert.ok(guesses <= 21);
      assertPage(refused, 429, 'Too many requests');
      assert.match(String(refused.headers['retry-after']), /^\d+$/);
      assertMatchesOpenApi(refused, { method: 'get', path: '/portal/device' });
      const right = await browser.get(`/portal/device?user_code=${user_code}`);
      assert.equal(right.status, 429);
      assert.ok(stack.logs.records().some((record) => record.reason === 'device_user_code'));
    });
  });
});
