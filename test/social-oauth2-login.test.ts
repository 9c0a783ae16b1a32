import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { UserIndex } from '../src/identity/user-index.ts';
import type { RedisStore } from '../src/store/redis/redis-store.ts';
import {
  COOKIE,
  keywardenWith,
  PUBLIC_URL,
  redisStoreAt,
  SESSION_SECRET,
} from './fixtures/oidc/keywarden-oidc.ts';
import { buildTestApp, type TestApp } from './support/app.ts';
import { BrowserSession } from './support/browser-session.ts';
import { type RedisServer, startRedis } from './support/redis-server.ts';
import { socialLogin } from './support/social/browser-login.ts';
import { type FacebookStandin, facebookEndpoints, startFacebook } from './support/social/facebook.ts';
import { type GithubStandin, githubEndpoints, startGithub } from './support/social/github.ts';

/**
 * Browser sign-in with plain OAuth 2.0 providers configured by preset (GitHub, Facebook), driven
 * over HTTP against stand-ins that answer the providers' documented shapes, with the session in
 * a real Redis: the round trip, the claim mapping (verified email, organisations, numeric ids),
 * and the hostile cases — a user without an id, a refused code, a rate-limited or slow API, a
 * bad or replayed state, an open redirect.
 */

const GITHUB_CLIENT = 'Iv1.keywarden0test';
const GITHUB_SECRET = 'github-client-secret-0123456789abcdef';
const FACEBOOK_APP = '1001';
const FACEBOOK_SECRET = 'facebook-app-secret-0123456789abcdef';

let redis: RedisServer;
let store: RedisStore;
let github: GithubStandin;
let facebook: FacebookStandin;
let kw: TestApp;

function assertProblem(
  response: { status: number; body: { code?: string }; headers: Record<string, unknown> },
  status: number,
  code: string,
) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.code, code);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
}

async function assertSignedOut(browser: BrowserSession) {
  assertProblem(await browser.get('/auth/session'), 401, 'unauthenticated');
}

function auditEvents(event: string): Array<Record<string, unknown>> {
  return kw.logs.records().filter((record) => record.event === event);
}

function providers(): Record<string, unknown> {
  return {
    // What a deployment writes is the first two or three lines; the rest points the presets at the stand-ins.
    github: {
      preset: 'github',
      clientId: GITHUB_CLIENT,
      clientSecret: GITHUB_SECRET,
      ...githubEndpoints(github.url),
      httpTimeoutMs: 1_000,
    },
    facebook: {
      preset: 'facebook',
      clientId: FACEBOOK_APP,
      clientSecret: FACEBOOK_SECRET,
      ...facebookEndpoints(facebook.graph),
      httpTimeoutMs: 1_000,
    },
  };
}

before(async () => {
  redis = await startRedis();
  store = await redisStoreAt(redis.url);
  [github, facebook] = await Promise.all([
    startGithub({
      apps: { [GITHUB_CLIENT]: GITHUB_SECRET },
      redirectUri: `${PUBLIC_URL}/auth/callback/github`,
    }),
    startFacebook({
      apps: { [FACEBOOK_APP]: FACEBOOK_SECRET },
      redirectUri: `${PUBLIC_URL}/auth/callback/facebook`,
    }),
  ]);
  github.addUser({
    id: 101,
    login: 'octocat',
    name: 'Mona Octocat',
    email: 'mona-public@example.test',
    emails: [
      { email: 'mona@example.test', primary: true, verified: true },
      { email: 'mona-old@example.test', primary: false, verified: true },
    ],
    orgs: ['acme', 'widgets'],
  });
  github.addUser({
    id: 202,
    login: 'unverified',
    name: 'Una Verified',
    // The public profile address is whatever the user typed; the primary one is not verified yet.
    email: 'victim@corp.example',
    emails: [
      { email: 'victim@corp.example', primary: true, verified: false },
      { email: 'una@example.test', primary: false, verified: true },
    ],
    orgs: [],
  });
  facebook.addUser({ key: 'fran', id: '10150123', name: 'Fran Book', email: 'fran@example.test' });
  kw = await keywardenWith(providers(), store);
});

after(async () => {
  kw?.logs.assertNoneContain([
    GITHUB_SECRET,
    FACEBOOK_SECRET,
    ...(github?.issued ?? []),
    ...(facebook?.issued ?? []),
  ]);
  await store?.close();
  await Promise.all([github?.close(), facebook?.close(), redis?.stop()]);
});

describe('GitHub sign-in (preset github)', () => {
  it('signs in: state + PKCE S256 to the exact redirect URI, client_secret_post, then github:<id> with the verified email and orgs', async () => {
    github.signedIn = 'octocat';
    const browser = new BrowserSession(kw.app);
    const login = await socialLogin(browser, '/auth/login/github?returnTo=/app/page%3Fx%3D1');
    assert.equal(login.callback?.status, 303, JSON.stringify(login.callback?.body));
    assert.equal(login.callback?.headers.location, '/app/page?x=1');
    assert.equal(login.callback?.headers['cache-control'], 'no-store');

    const params = login.authorizationUrl.searchParams;
    assert.equal(
      login.authorizationUrl.origin + login.authorizationUrl.pathname,
      `${github.url}/login/oauth/authorize`,
    );
    assert.equal(params.get('client_id'), GITHUB_CLIENT);
    assert.equal(params.get('redirect_uri'), `${PUBLIC_URL}/auth/callback/github`);
    assert.equal(params.get('response_type'), 'code');
    assert.equal(params.get('scope'), 'read:user user:email');
    assert.match(params.get('state')!, /^[A-Za-z0-9_-]{43}$/);
    assert.match(params.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(params.get('code_challenge_method'), 'S256');
    assert.equal(params.has('nonce'), false, 'plain OAuth 2.0 has no nonce');

    const tokenRequest = github.lastTokenRequest!;
    assert.match(tokenRequest.accept, /application\/json/, 'GitHub answers JSON only when asked');
    assert.equal(tokenRequest.params.get('client_secret'), GITHUB_SECRET, 'client_secret_post');
    assert.match(tokenRequest.params.get('code_verifier')!, /^[A-Za-z0-9_-]{43}$/);

    const me = await browser.get('/auth/session').expect(200);
    assert.equal(me.body.provider, 'github');
    assert.equal(me.body.subject, '101', 'the numeric GitHub id, as text');
    assert.equal(me.body.name, 'Mona Octocat');
    assert.equal(
      me.body.email,
      'mona@example.test',
      'the verified primary address, not the public profile one',
    );
    assert.doesNotMatch(JSON.stringify(me.body), /gho_/);

    const record = JSON.parse((await store.get(`sess:${browser.sessionId()}`))!);
    assert.deepEqual(record.auth.principal.claims.orgs, ['acme', 'widgets']);
    assert.equal(record.auth.principal.claims.login, 'octocat');
    assert.equal(record.auth.principal.claims.groups, undefined, 'orgs are not groups');
    assert.doesNotMatch(JSON.stringify(record), /gho_/, 'the access token is not kept');

    const succeeded = auditEvents('login.succeeded').filter((event) => event.provider === 'github');
    assert.ok(succeeded.some((event) => event.subject === '101'));
    const code = new URL(login.callbackPath!, PUBLIC_URL).searchParams.get('code')!;
    kw.logs.assertNoneContain([code, params.get('state')!, browser.cookie(COOKIE)!]);
  });

  it('never takes an unverified address as the email claim', async () => {
    github.signedIn = 'unverified';
    const browser = new BrowserSession(kw.app);
    const { callback } = await socialLogin(browser, '/auth/login/github');
    assert.equal(callback?.status, 303);
    const me = await browser.get('/auth/session').expect(200);
    assert.equal(me.body.subject, '202');
    assert.equal(
      me.body.email,
      undefined,
      'the primary address is unverified; another verified one is not primary',
    );
  });

  it('maps an id sent as a number and the same id sent as a string to one identity', async () => {
    github.signedIn = 'octocat';
    const asNumber = new BrowserSession(kw.app);
    await socialLogin(asNumber, '/auth/login/github');
    github.idAsString = true;
    try {
      const asString = new BrowserSession(kw.app);
      const { callback } = await socialLogin(asString, '/auth/login/github');
      assert.equal(callback?.status, 303);
      const [first, second] = await Promise.all([
        asNumber.get('/auth/session'),
        asString.get('/auth/session'),
      ]);
      assert.equal(first.body.subject, '101');
      assert.equal(second.body.subject, '101');
      // Both sessions are indexed under the one subject (what back-channel revocation uses).
      const indexed = await new UserIndex(store).members({ provider: 'github', subject: '101' }, 'sessions');
      assert.ok(indexed.includes(asNumber.sessionId()!) && indexed.includes(asString.sessionId()!));
    } finally {
      github.idAsString = false;
    }
  });

  it('signs nobody in when the user document has no id', async () => {
    github.signedIn = 'octocat';
    github.omitId = true;
    try {
      const browser = new BrowserSession(kw.app);
      const { callback } = await socialLogin(browser, '/auth/login/github');
      assertProblem(callback!, 401, 'login_failed');
      await assertSignedOut(browser);
      assert.equal(auditEvents('login.failed').at(-1)?.reason, 'subject_claim_missing');
    } finally {
      github.omitId = false;
    }
  });

  it('answers a code GitHub refuses (HTTP 200 with bad_verification_code) with 401 login_failed', async () => {
    github.signedIn = 'octocat';
    const browser = new BrowserSession(kw.app);
    const { callbackPath } = await socialLogin(browser, '/auth/login/github', { callback: false });
    const tampered = new URL(callbackPath!, PUBLIC_URL);
    tampered.searchParams.set('code', 'not-a-code-github-issued');
    assertProblem(await browser.get(tampered.pathname + tampered.search), 401, 'login_failed');
    await assertSignedOut(browser);
    assert.equal(auditEvents('login.failed').at(-1)?.reason, 'token_rejected');
    const logged = kw.logs.records().filter((line) => line.msg === 'OAuth 2.0 callback rejected');
    assert.match(String(logged.at(-1)?.reason), /bad_verification_code/);
  });

  it('answers a rate-limited API with 503 and Retry-After, never 401', async () => {
    github.signedIn = 'octocat';
    const browser = new BrowserSession(kw.app);
    const { callbackPath } = await socialLogin(browser, '/auth/login/github', { callback: false });
    github.rateLimited = true;
    try {
      const response = await browser.get(callbackPath!);
      assertProblem(response, 503, 'service_unavailable');
      assert.ok(Number(response.headers['retry-after']) >= 1);
      await assertSignedOut(browser);
    } finally {
      github.rateLimited = false;
    }
  });

  it('answers a provider that is too slow or down with 503 within the timeout', async () => {
    github.signedIn = 'octocat';
    for (const outage of ['slow', 'down'] as const) {
      const browser = new BrowserSession(kw.app);
      const { callbackPath } = await socialLogin(browser, '/auth/login/github', { callback: false });
      github.server.slowMs = 5_000;
      github.server.outage = outage;
      try {
        const response = await browser.get(callbackPath!);
        assertProblem(response, 503, 'service_unavailable');
        assert.ok(response.headers['retry-after']);
        await assertSignedOut(browser);
      } finally {
        github.server.outage = 'none';
      }
    }
    assert.equal(auditEvents('login.failed').at(-1)?.reason, 'idp_unavailable');
  });

  it('answers the user refusing access with a generic 401 and no session', async () => {
    github.signedIn = 'octocat';
    github.denyNext = true;
    const browser = new BrowserSession(kw.app);
    const { callback } = await socialLogin(browser, '/auth/login/github');
    assertProblem(callback!, 401, 'login_failed');
    assert.doesNotMatch(JSON.stringify(callback?.body), /denied your application/);
    await assertSignedOut(browser);
    assert.equal(auditEvents('login.failed').at(-1)?.reason, 'idp_error:access_denied');
  });

  it('refuses a missing, unknown or replayed state, and a state of another provider (mix-up)', async () => {
    github.signedIn = 'octocat';
    facebook.signedIn = 'fran';
    const browser = new BrowserSession(kw.app);
    const { callbackPath } = await socialLogin(browser, '/auth/login/github', { callback: false });
    const url = new URL(callbackPath!, PUBLIC_URL);
    const withoutState = new URL(url);
    withoutState.searchParams.delete('state');
    assertProblem(await browser.get(withoutState.pathname + withoutState.search), 400, 'invalid_login_state');
    const unknown = new URL(url);
    unknown.searchParams.set('state', 'x'.repeat(43));
    assertProblem(await browser.get(unknown.pathname + unknown.search), 400, 'invalid_login_state');

    assert.equal((await browser.get(callbackPath!)).status, 303);
    assertProblem(await browser.get(callbackPath!), 400, 'invalid_login_state');

    // A Facebook transaction's answer delivered to GitHub's callback.
    const other = new BrowserSession(kw.app);
    const { callbackPath: facebookCallback } = await socialLogin(other, '/auth/login/facebook', {
      callback: false,
    });
    const mixedUp = new URL(facebookCallback!, PUBLIC_URL);
    assertProblem(await other.get(`/auth/callback/github${mixedUp.search}`), 400, 'invalid_login_state');
    await assertSignedOut(other);
    assert.ok(auditEvents('login.failed').some((event) => event.reason === 'state_for_other_provider'));
  });

  it('sends an off-site returnTo to the landing page', async () => {
    github.signedIn = 'octocat';
    for (const target of [
      '//evil.example',
      '/\\evil.example',
      'https://evil.example/x',
      'javascript:alert(1)',
    ]) {
      const browser = new BrowserSession(kw.app);
      const { callback } = await socialLogin(
        browser,
        `/auth/login/github?returnTo=${encodeURIComponent(target)}`,
      );
      assert.equal(callback?.headers.location, '/home', target);
    }
  });

  it('replaces the pre-login session id at sign-in and deletes its record', async () => {
    github.signedIn = 'octocat';
    const browser = new BrowserSession(kw.app);
    const { callbackPath } = await socialLogin(browser, '/auth/login/github', { callback: false });
    const before = browser.sessionId()!;
    assert.ok(await store.get(`sess:${before}`), 'the transaction lives in the pre-login session');
    assert.equal((await browser.get(callbackPath!)).status, 303);
    assert.notEqual(browser.sessionId(), before);
    assert.equal(await store.get(`sess:${before}`), null);
  });
});

describe('Facebook sign-in (preset facebook)', () => {
  it('signs in with PKCE and appsecret_proof; the string id is the subject; the #_=_ fragment is harmless', async () => {
    facebook.signedIn = 'fran';
    const browser = new BrowserSession(kw.app);
    const login = await socialLogin(browser, '/auth/login/facebook?returnTo=/app');
    assert.match(login.providerAnswer.headers.get('location')!, /#_=_$/);
    assert.equal(login.callback?.status, 303, JSON.stringify(login.callback?.body));
    assert.equal(login.callback?.headers.location, '/app');
    assert.equal(login.authorizationUrl.searchParams.get('scope'), 'public_profile email');
    assert.equal(login.authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
    const me = await browser.get('/auth/session').expect(200);
    assert.equal(me.body.provider, 'facebook');
    assert.equal(me.body.subject, '10150123');
    assert.equal(me.body.name, 'Fran Book');
    assert.equal(me.body.email, 'fran@example.test');
    assert.equal(
      facebook.requireAppSecretProof,
      true,
      'the app demands appsecret_proof, and /me accepted ours',
    );
  });

  it('answers a refused token exchange (Graph error object, not RFC 6749) with 401, not 503', async () => {
    facebook.signedIn = 'fran';
    const browser = new BrowserSession(kw.app);
    const { callbackPath } = await socialLogin(browser, '/auth/login/facebook', { callback: false });
    const tampered = new URL(callbackPath!, PUBLIC_URL);
    tampered.searchParams.set('code', 'AQnot-a-facebook-code');
    assertProblem(await browser.get(tampered.pathname + tampered.search), 401, 'login_failed');
  });

  it('answers a throttled Graph API (error code 4) with 503', async () => {
    facebook.signedIn = 'fran';
    const browser = new BrowserSession(kw.app);
    const { callbackPath } = await socialLogin(browser, '/auth/login/facebook', { callback: false });
    facebook.rateLimited = true;
    try {
      assertProblem(await browser.get(callbackPath!), 503, 'service_unavailable');
    } finally {
      facebook.rateLimited = false;
    }
  });
});

describe('social providers in the portal and the auth rate limit', () => {
  it('shows a sign-in button per provider with its display name', async () => {
    const page = await request(kw.app).get('/portal').set('X-Forwarded-Proto', 'https');
    assert.equal(page.status, 200);
    assert.match(page.text, /<a href="\/auth\/login\/github\?returnTo=[^"]*">Sign in with GitHub<\/a>/);
    assert.match(page.text, /<a href="\/auth\/login\/facebook\?returnTo=[^"]*">Sign in with Facebook<\/a>/);
  });

  it('limits logins and callbacks in the auth group', async () => {
    const limited = await buildTestApp({
      store,
      overrides: {
        server: { publicUrl: PUBLIC_URL, trustProxyHops: 1 },
        session: { secret: SESSION_SECRET },
        rateLimit: { groups: { auth: { perIp: { points: 2, windowSeconds: 60 } } } },
        auth: { providers: providers() },
      },
    });
    github.signedIn = 'octocat';
    const browser = new BrowserSession(limited.app);
    const { callbackPath } = await socialLogin(browser, '/auth/login/github', { callback: false });
    assert.equal((await browser.get(callbackPath!)).status, 303);
    assertProblem(await browser.get(callbackPath!), 429, 'rate_limited');
  });
});
