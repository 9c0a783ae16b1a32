import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RedisStore } from '../src/store/redis/redis-store.ts';
import {
  COOKIE,
  clientFor,
  keywardenWith,
  oidcProvider,
  PUBLIC_URL,
  redisStoreAt,
  SPA_ORIGIN,
} from './fixtures/oidc/keywarden-oidc.ts';
import type { TestApp } from './support/app.ts';
import { BrowserSession } from './support/browser-session.ts';
import { loginThroughIdp, startOidcProvider, type TestIdp } from './support/oidc-provider.ts';
import { type RedisServer, startRedis } from './support/redis-server.ts';

/**
 * OIDC sign-in against real oidc-provider instances on loopback (two IdPs at once) with the
 * session in a real Redis: the round trip, and every hostile case of SECURITY.md's "OIDC login".
 */

let redis: RedisServer;
let store: RedisStore;
let idpA: TestIdp;
let idpB: TestIdp;
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

before(async () => {
  redis = await startRedis();
  store = await redisStoreAt(redis.url);
  [idpA, idpB] = await Promise.all([
    startOidcProvider({ clients: [clientFor('a')] }),
    startOidcProvider({ clients: [clientFor('b')] }),
  ]);
  kw = await keywardenWith(
    {
      a: oidcProvider('a', idpA.issuer, {
        displayName: 'Corp A',
        scopes: ['openid', 'profile', 'email', 'groups'],
        claims: { groups: 'groups' },
      }),
      b: oidcProvider('b', idpB.issuer),
    },
    store,
  );
});

after(async () => {
  await store?.close();
  await Promise.all([idpA?.stop(), idpB?.stop(), redis?.stop()]);
});

describe('OIDC sign-in round trip', () => {
  it('signs in, shows who the user is, logs out, and the old cookie no longer works', async () => {
    const browser = new BrowserSession(kw.app);
    const { callback, callbackPath } = await loginThroughIdp(
      browser,
      '/auth/login/a?returnTo=/app/page%3Fx%3D1',
      'alice',
    );
    assert.equal(callback?.status, 303);
    assert.equal(callback?.headers.location, '/app/page?x=1');
    assert.equal(callback?.headers['cache-control'], 'no-store');

    const me = await browser.get('/auth/session').expect(200);
    assert.equal(me.body.provider, 'a');
    assert.equal(me.body.subject, 'alice');
    assert.equal(me.body.kind, 'user');
    assert.equal(me.body.name, 'User alice');
    assert.equal(me.body.email, 'alice@example.test');
    assert.equal(me.body.authMethod, 'session');
    assert.deepEqual(me.body.allowedRoles, []);
    assert.ok(Date.parse(me.body.expiresAt) > Date.now());
    // Nothing token-like reaches the browser.
    assert.doesNotMatch(JSON.stringify(me.body), /eyJ/);

    const sessionId = browser.sessionId()!;
    const record = JSON.parse((await store.get(`sess:${sessionId}`))!);
    assert.equal(record.auth.principal.subject, 'alice');
    assert.deepEqual(record.auth.principal.claims.groups, ['staff']);
    assert.match(record.auth.idp.idToken, /^eyJ/); // kept server-side only

    const oldCookie = browser.cookie(COOKIE)!;
    const out = await browser.post('/auth/logout').set('X-CSRF', '1').expect(200);
    assert.ok(out.body.logoutUrl.startsWith(`${idpA.issuer}/session/end?`), out.body.logoutUrl);
    assert.equal(new URL(out.body.logoutUrl).searchParams.get('client_id'), 'kw-a');
    assert.equal(new URL(out.body.logoutUrl).searchParams.has('id_token_hint'), false);
    assert.match(String(out.headers['set-cookie']), /__Host-keywarden=;.*Expires=Thu, 01 Jan 1970/);
    assert.equal(await store.get(`sess:${sessionId}`), null);

    await assertSignedOut(browser);
    browser.setCookie(COOKIE, oldCookie);
    await assertSignedOut(browser);

    const code = new URL(callbackPath, PUBLIC_URL).searchParams.get('code')!;
    const state = new URL(callbackPath, PUBLIC_URL).searchParams.get('state')!;
    kw.logs.assertNoneContain([
      code,
      state,
      oldCookie,
      decodeURIComponent(oldCookie),
      sessionId,
      record.auth.idp.idToken,
    ]);
  });

  it('sends code + PKCE S256 + state + nonce with the exact redirect URI, fresh for every login', async () => {
    const urls = await Promise.all(
      [1, 2].map(async () => {
        const response = await new BrowserSession(kw.app).get('/auth/login/a').expect(303);
        return new URL(response.headers.location!);
      }),
    );
    for (const url of urls) {
      assert.equal(url.origin + url.pathname, `${idpA.issuer}/auth`);
      const params = url.searchParams;
      assert.equal(params.get('response_type'), 'code');
      assert.equal(params.get('code_challenge_method'), 'S256');
      assert.match(params.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
      assert.match(params.get('state')!, /^[A-Za-z0-9_-]{43}$/);
      assert.match(params.get('nonce')!, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(params.get('redirect_uri'), `${PUBLIC_URL}/auth/callback/a`);
      assert.equal(params.get('client_id'), 'kw-a');
      assert.equal(params.get('scope'), 'openid profile email groups');
    }
    const [first, second] = urls.map((url) => url.searchParams);
    for (const name of ['state', 'nonce', 'code_challenge'])
      assert.notEqual(first!.get(name), second!.get(name));
  });

  it('serves two IdPs at once, each with its own client', async () => {
    const alice = new BrowserSession(kw.app);
    const bob = new BrowserSession(kw.app);
    await loginThroughIdp(alice, '/auth/login/a', 'alice');
    const { authorizationUrl } = await loginThroughIdp(bob, '/auth/login/b', 'bob');
    assert.equal(authorizationUrl.origin, idpB.issuer);
    assert.equal(authorizationUrl.searchParams.get('client_id'), 'kw-b');
    assert.equal((await alice.get('/auth/session').expect(200)).body.provider, 'a');
    const bobSession = await bob.get('/auth/session').expect(200);
    assert.equal(bobSession.body.provider, 'b');
    assert.equal(bobSession.body.subject, 'bob');
  });

  it('authenticates to the token endpoint with private_key_jwt', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const idpK = await startOidcProvider({
      clients: [
        {
          ...clientFor('k'),
          clientSecret: undefined,
          tokenEndpointAuthMethod: 'private_key_jwt',
          jwks: {
            keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'kw-key-1', alg: 'RS256', use: 'sig' }],
          },
        },
      ],
    });
    try {
      const app = await keywardenWith(
        {
          k: {
            kind: 'oidc',
            issuer: idpK.issuer,
            clientId: 'kw-k',
            clientAuthMethod: 'private_key_jwt',
            privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
            privateKeyId: 'kw-key-1',
          },
        },
        store,
      );
      const browser = new BrowserSession(app.app);
      const { callback } = await loginThroughIdp(browser, '/auth/login/k', 'kim');
      assert.equal(callback?.status, 303, JSON.stringify(callback?.body));
      assert.equal((await browser.get('/auth/session').expect(200)).body.subject, 'kim');
    } finally {
      await idpK.stop();
    }
  });

  it('keeps the IdP session alive with the refresh token, and ends when the IdP refuses it', async () => {
    const idpR = await startOidcProvider({
      clients: [{ ...clientFor('r'), refreshTokens: true }],
      accessTokenTtlSeconds: 1,
    });
    try {
      const app = await keywardenWith(
        {
          r: oidcProvider('r', idpR.issuer, {
            scopes: ['openid', 'profile', 'offline_access'],
            authParams: { prompt: 'consent' },
            refreshTokens: true,
          }),
        },
        store,
      );
      const browser = new BrowserSession(app.app);
      const { callback } = await loginThroughIdp(browser, '/auth/login/r', 'rory');
      assert.equal(callback?.status, 303, JSON.stringify(callback?.body));
      const key = `sess:${browser.sessionId()}`;
      const before = JSON.parse((await store.get(key))!).auth.idp;
      assert.ok(before.refreshToken, 'a refresh token is kept server-side');

      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const tokenCalls = idpR.requests.token;
      await browser.get('/auth/session').expect(200);
      assert.equal(idpR.requests.token, tokenCalls + 1, 'the expired access token was refreshed');
      const after = JSON.parse((await store.get(key))!).auth.idp;
      assert.ok(after.accessTokenExpiresAt > before.accessTokenExpiresAt);
      kw.logs.assertNoneContain([before.refreshToken, after.refreshToken]);

      // The IdP revokes the refresh token (an admin, a password change...): the next refresh
      // fails and the keywarden session ends with it.
      const client = clientFor('r');
      const revoked = await fetch(`${idpR.issuer}/token/revocation`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token: after.refreshToken, token_type_hint: 'refresh_token' }).toString(),
      });
      assert.equal(revoked.status, 200);
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      assertProblem(await browser.get('/auth/session'), 401, 'unauthenticated');
      assert.equal(await store.get(key), null);
    } finally {
      await idpR.stop();
    }
  });

  it('answers 404 for an unknown provider and 400 when the request did not come over HTTPS', async () => {
    assertProblem(await new BrowserSession(kw.app).get('/auth/login/nope'), 404, 'unknown_provider');
    const plain = new BrowserSession(kw.app, { forwardedProto: undefined });
    const response = await plain.get('/auth/login/a');
    assertProblem(response, 400, 'https_required');
    assert.equal(response.headers['set-cookie'], undefined);
  });
});

describe('OIDC callback hostile cases', () => {
  it('refuses a missing or wrong state with 400 and creates no session', async () => {
    const browser = new BrowserSession(kw.app);
    const { callbackPath } = await loginThroughIdp(browser, '/auth/login/a', 'mallory', { callback: false });
    const url = new URL(callbackPath, PUBLIC_URL);

    const noState = new URL(url);
    noState.searchParams.delete('state');
    assertProblem(await browser.get(noState.pathname + noState.search), 400, 'invalid_login_state');

    const wrongState = new URL(url);
    wrongState.searchParams.set('state', 'x'.repeat(43));
    assertProblem(await browser.get(wrongState.pathname + wrongState.search), 400, 'invalid_login_state');
    await assertSignedOut(browser);

    // The right state in another browser (not bound to it) is refused too.
    const other = new BrowserSession(kw.app);
    assertProblem(await other.get(callbackPath), 400, 'invalid_login_state');
    await assertSignedOut(other);
  });

  it('refuses a replayed callback, from the same or another browser', async () => {
    const browser = new BrowserSession(kw.app);
    const { callbackPath, callback } = await loginThroughIdp(browser, '/auth/login/a', 'carol');
    assert.equal(callback?.status, 303);
    const sessionBefore = browser.sessionId();
    assertProblem(await browser.get(callbackPath), 400, 'invalid_login_state');
    // The legitimate session is untouched by the replay attempt.
    assert.equal(browser.sessionId(), sessionBefore);
    assert.equal((await browser.get('/auth/session').expect(200)).body.subject, 'carol');

    const attacker = new BrowserSession(kw.app);
    assertProblem(await attacker.get(callbackPath), 400, 'invalid_login_state');
    await assertSignedOut(attacker);
  });

  it('refuses the callback of one IdP delivered to the other (mix-up)', async () => {
    const browser = new BrowserSession(kw.app);
    // The same browser has started a login at both IdPs.
    await browser.get('/auth/login/a').expect(303);
    const { callbackPath } = await loginThroughIdp(browser, '/auth/login/b', 'dave', { callback: false });
    assert.ok(callbackPath.startsWith('/auth/callback/b?'));
    const mixedUp = callbackPath.replace('/auth/callback/b?', '/auth/callback/a?');
    assertProblem(await browser.get(mixedUp), 400, 'invalid_login_state');
    await assertSignedOut(browser);
  });

  it('refuses a callback that arrives after the sign-in timed out (auth.loginTimeoutMs)', async () => {
    const quick = await keywardenWith({ a: oidcProvider('a', idpA.issuer) }, store, {
      auth: { loginTimeoutMs: 300 },
    });
    const browser = new BrowserSession(quick.app);
    const { callbackPath } = await loginThroughIdp(browser, '/auth/login/a', 'tess', { callback: false });
    await new Promise((resolve) => setTimeout(resolve, 400));
    assertProblem(await browser.get(callbackPath), 400, 'invalid_login_state');
    await assertSignedOut(browser);
  });

  it('refuses an ID token whose nonce is not the one of this transaction', async () => {
    const browser = new BrowserSession(kw.app);
    const { callbackPath } = await loginThroughIdp(browser, '/auth/login/a', 'erin', { callback: false });
    const state = new URL(callbackPath, PUBLIC_URL).searchParams.get('state')!;
    // Swap the nonce the server expects, as if the IdP had issued a token for another transaction.
    const key = `sess:${browser.sessionId()}`;
    const stored = JSON.parse((await store.get(key))!);
    stored.pendingLogins[state].nonce = 'a-different-nonce-than-the-id-token-carries';
    await store.set(key, JSON.stringify(stored), { ttlMs: 60_000 });

    assertProblem(await browser.get(callbackPath), 401, 'login_failed');
    await assertSignedOut(browser);
    const rejected = kw.logs.records().filter((line) => line.msg === 'OIDC callback rejected');
    assert.ok(rejected.some((line) => /nonce/.test(String(line.reason))));
  });

  it('refuses a code redeemed with another PKCE verifier', async () => {
    const browser = new BrowserSession(kw.app);
    const { callbackPath } = await loginThroughIdp(browser, '/auth/login/a', 'frank', { callback: false });
    const state = new URL(callbackPath, PUBLIC_URL).searchParams.get('state')!;
    const key = `sess:${browser.sessionId()}`;
    const stored = JSON.parse((await store.get(key))!);
    stored.pendingLogins[state].codeVerifier = 'v'.repeat(43);
    await store.set(key, JSON.stringify(stored), { ttlMs: 60_000 });
    assertProblem(await browser.get(callbackPath), 401, 'login_failed');
    await assertSignedOut(browser);
  });

  it('answers error=access_denied with a generic problem and no session', async () => {
    const browser = new BrowserSession(kw.app);
    const start = await browser.get('/auth/login/a').expect(303);
    const state = new URL(start.headers.location!).searchParams.get('state')!;
    const response = await browser.get(
      `/auth/callback/a?error=access_denied&error_description=${encodeURIComponent('<script>x</script> user said no')}&state=${state}&iss=${encodeURIComponent(idpA.issuer)}`,
    );
    assertProblem(response, 401, 'login_failed');
    assert.equal(response.body.detail, 'Sign-in was not completed.');
    assert.doesNotMatch(JSON.stringify(response.body), /script|user said no/);
    await assertSignedOut(browser);
  });

  it('shows a browser that comes back with error=access_denied a generic page, with nothing the IdP wrote', async () => {
    const browser = new BrowserSession(kw.app);
    const start = await browser.get('/auth/login/a').expect(303);
    const state = new URL(start.headers.location!).searchParams.get('state')!;
    const page = await browser
      .get(
        `/auth/callback/a?error=access_denied&error_description=${encodeURIComponent('<script>x</script> user said no')}&state=${state}&iss=${encodeURIComponent(idpA.issuer)}`,
      )
      .set('Sec-Fetch-Mode', 'navigate')
      .set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8');
    assert.equal(page.status, 401);
    assert.match(page.headers['content-type'] ?? '', /^text\/html/);
    assert.match(page.text, /Sign-in was not completed\./);
    assert.doesNotMatch(page.text, /script|user said no/);
    await assertSignedOut(browser);
  });

  it('never redirects off-site after sign-in, whatever returnTo says', async () => {
    const cases: Array<[string, string]> = [
      ['//evil.example', '/home'],
      ['/\\evil.example', '/home'],
      ['https://evil.example/x', '/home'],
      ['javascript:alert(1)', '/home'],
      ['/ok\r\nSet-Cookie: planted=1', '/home'],
      [`${SPA_ORIGIN}/after-login?tab=2`, `${SPA_ORIGIN}/after-login?tab=2`],
    ];
    for (const [returnTo, expected] of cases) {
      const browser = new BrowserSession(kw.app);
      const { callback } = await loginThroughIdp(
        browser,
        `/auth/login/a?returnTo=${encodeURIComponent(returnTo)}`,
        'gina',
      );
      assert.equal(callback?.status, 303);
      assert.equal(callback?.headers.location, expected, returnTo);
      assert.equal(String(callback?.headers['set-cookie']).includes('planted'), false);
    }
  });
});

describe('IdP availability', () => {
  it('starts without the IdP, answers 503 with Retry-After while it is down, and recovers by itself', async () => {
    const idpC = await startOidcProvider({ clients: [clientFor('c')] });
    await idpC.stop();
    const app = await keywardenWith({ c: oidcProvider('c', idpC.issuer) }, store);
    const browser = new BrowserSession(app.app);
    const down = await browser.get('/auth/login/c');
    assertProblem(down, 503, 'service_unavailable');
    assert.ok(Number(down.headers['retry-after']) >= 1);
    assert.equal(down.headers['set-cookie'], undefined);
    // Within the backoff the IdP is not asked again.
    assertProblem(await browser.get('/auth/login/c'), 503, 'service_unavailable');
    assert.equal(idpC.requests.discovery, 0);

    await idpC.start();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const { callback } = await loginThroughIdp(browser, '/auth/login/c', 'henry');
    assert.equal(callback?.status, 303);
    assert.equal((await browser.get('/auth/session').expect(200)).body.provider, 'c');
    await idpC.stop();
  });
});
