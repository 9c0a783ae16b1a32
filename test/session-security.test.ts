import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import request from 'supertest';
import { CliTokens } from '../src/auth/device/cli-tokens.ts';
import type { RedisStore } from '../src/store/redis/redis-store.ts';
import { StoreUnavailableError } from '../src/store/types.ts';
import {
  COOKIE,
  clientFor,
  keywardenWith,
  oidcProvider,
  PUBLIC_URL,
  redisStoreAt,
} from './fixtures/oidc/keywarden-oidc.ts';
import type { TestApp } from './support/app.ts';
import { BrowserSession } from './support/browser-session.ts';
import { startJwksIssuer } from './support/jwks-issuer.ts';
import { loginThroughIdp, logoutAtIdp, startOidcProvider, type TestIdp } from './support/oidc-provider.ts';
import { freePort, type RedisServer, startRedis } from './support/redis-server.ts';

/**
 * The browser session and its defences (SECURITY.md "Sessions and CSRF", back-channel
 * logout, Redis failures), with sessions in a real Redis shared by two app instances.
 */

let redis: RedisServer;
let store: RedisStore;
let idp: TestIdp;
let kw: TestApp;
/** A second keywarden instance sharing the Redis and the session secret. */
let kw2: TestApp;

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const providers = () => ({ a: oidcProvider('a', idp.issuer) });

function assertProblem(
  response: { status: number; body: { code?: string }; headers: Record<string, unknown> },
  status: number,
  code: string,
) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.code, code);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

before(async () => {
  redis = await startRedis();
  store = await redisStoreAt(redis.url);
  idp = await startOidcProvider({ clients: [clientFor('a', { backchannel: true })] });
  kw = await keywardenWith(providers(), store);
  kw2 = await keywardenWith(providers(), store);
});

after(async () => {
  await store?.close();
  await Promise.all([idp?.stop(), redis?.stop()]);
});

describe('session cookie', () => {
  it('is __Host-, Secure, HttpOnly, SameSite=Lax, Path=/, without Domain, before and after sign-in', async () => {
    const browser = new BrowserSession(kw.app);
    await browser.get('/auth/login/a').expect(303);
    const preLogin = browser.setCookies[COOKIE]!;
    await loginThroughIdp(browser, '/auth/login/a', 'alice');
    const signedIn = browser.setCookies[COOKIE]!;
    for (const line of [preLogin, signedIn]) {
      const [pair, ...attributes] = line.split('; ');
      assert.match(pair!, /^__Host-keywarden=s%3A[A-Za-z0-9_-]{32}\.[A-Za-z0-9%]+$/);
      const names = attributes.map((attribute) => attribute.split('=')[0]!.toLowerCase()).sort();
      assert.deepEqual(names, ['expires', 'httponly', 'path', 'samesite', 'secure']);
      assert.ok(attributes.includes('Path=/'));
      assert.ok(attributes.includes('SameSite=Lax'));
    }
  });

  it('is renewed on use (idle timeout) and ends at the idle and absolute timeouts', async () => {
    const short = await keywardenWith(providers(), store, {
      session: { idleTimeoutMs: 1_500, absoluteTimeoutMs: 3_000 },
    });
    const idle = new BrowserSession(short.app);
    await loginThroughIdp(idle, '/auth/login/a', 'ivy');
    await sleep(900);
    await idle.get('/auth/session').expect(200); // renews the idle window
    await sleep(900);
    await idle.get('/auth/session').expect(200);
    await sleep(1_700);
    assertProblem(await idle.get('/auth/session'), 401, 'unauthenticated');

    const busy = new BrowserSession(short.app);
    await loginThroughIdp(busy, '/auth/login/a', 'jack');
    const started = Date.now();
    while (Date.now() - started < 2_600) {
      await busy.get('/auth/session').expect(200);
      await sleep(600);
    }
    await sleep(Math.max(0, 3_100 - (Date.now() - started)));
    assertProblem(await busy.get('/auth/session'), 401, 'unauthenticated');
  });
});

describe('session fixation and logout', () => {
  it('replaces a session id planted before login, and the planted record is gone from Redis', async () => {
    // The attacker gets a valid pre-login session of their own...
    const attacker = new BrowserSession(kw.app);
    await attacker.get('/auth/login/a').expect(303);
    const planted = attacker.cookie(COOKIE)!;
    const plantedId = attacker.sessionId()!;
    assert.notEqual(await store.get(`sess:${plantedId}`), null);

    // ...and plants it in the victim's browser, who then signs in.
    const victim = new BrowserSession(kw.app);
    victim.setCookie(COOKIE, planted);
    const { callback } = await loginThroughIdp(victim, '/auth/login/a', 'victim');
    assert.equal(callback?.status, 303);
    assert.notEqual(victim.sessionId(), plantedId);
    assert.equal(await store.get(`sess:${plantedId}`), null);
    assert.notEqual(await store.get(`sess:${victim.sessionId()}`), null);

    assertProblem(await attacker.get('/auth/session'), 401, 'unauthenticated');
    assert.equal((await victim.get('/auth/session').expect(200)).body.subject, 'victim');
  });

  it('after logout the old cookie is refused with 401, on every instance', async () => {
    const browser = new BrowserSession(kw.app);
    await loginThroughIdp(browser, '/auth/login/a', 'kate');
    const cookie = browser.cookie(COOKIE)!;
    await browser.withApp(kw2.app).get('/auth/session').expect(200);
    await browser.post('/auth/logout').set('X-CSRF', '1').expect(200);

    const replay = new BrowserSession(kw2.app);
    replay.setCookie(COOKIE, cookie);
    assertProblem(await replay.get('/auth/session'), 401, 'unauthenticated');
    assertProblem(await replay.withApp(kw.app).get('/auth/session'), 401, 'unauthenticated');
  });

  it('refuses a forged or unsigned session cookie', async () => {
    const browser = new BrowserSession(kw.app);
    await loginThroughIdp(browser, '/auth/login/a', 'liam');
    const id = browser.sessionId()!;
    const forged = new BrowserSession(kw.app);
    forged.setCookie(COOKIE, encodeURIComponent(`s:${id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`));
    assertProblem(await forged.get('/auth/session'), 401, 'unauthenticated');
    forged.setCookie(COOKIE, id);
    assertProblem(await forged.get('/auth/session'), 401, 'unauthenticated');
  });
});

describe('CSRF and unauthenticated calls', () => {
  it('refuses logout without the X-CSRF header (403) and keeps the session', async () => {
    const browser = new BrowserSession(kw.app);
    await loginThroughIdp(browser, '/auth/login/a', 'mia');
    assertProblem(await browser.post('/auth/logout'), 403, 'csrf_header_missing');
    assertProblem(await browser.post('/auth/logout').set('X-CSRF', '0'), 403, 'csrf_header_missing');
    await browser.get('/auth/session').expect(200);
  });

  it('refuses a text/plain form POST to logout and keeps the session', async () => {
    const browser = new BrowserSession(kw.app);
    await loginThroughIdp(browser, '/auth/login/a', 'noah');
    const form = await browser.post('/auth/logout').set('Content-Type', 'text/plain').send('{"x":1}');
    assertProblem(form, 403, 'csrf_header_missing');
    const urlencoded = await browser
      .post('/auth/logout')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('a=b');
    assertProblem(urlencoded, 403, 'csrf_header_missing');
    // Even with the header, only JSON (or no body) is accepted.
    const withHeader = await browser
      .post('/auth/logout')
      .set('X-CSRF', '1')
      .set('Content-Type', 'text/plain')
      .send('x');
    assertProblem(withHeader, 415, 'unsupported_media_type');
    await browser.get('/auth/session').expect(200);
  });

  it('answers an unauthenticated XHR with 401 JSON, never a redirect', async () => {
    const response = await request(kw.app)
      .get('/auth/session')
      .set('Accept', 'application/json')
      .set('X-Requested-With', 'XMLHttpRequest');
    assertProblem(response, 401, 'unauthenticated');
    assert.equal(response.headers.location, undefined);
    assert.equal(response.headers['set-cookie'], undefined);
  });
});

describe('who am I', () => {
  it('answers for bearer-authenticated callers too, ignoring a session cookie', async () => {
    const issuer = await startJwksIssuer();
    try {
      const app = await keywardenWith(providers(), store, {
        bearer: {
          issuers: {
            mobile: { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: ['https://api.test'] },
          },
        },
      });
      const browser = new BrowserSession(app.app);
      await loginThroughIdp(browser, '/auth/login/a', 'uma');
      const token = await issuer.sign({
        sub: 'device-user',
        aud: 'https://api.test',
        email: 'd@example.test',
      });
      const me = await browser.get('/auth/session').set('Authorization', `Bearer ${token}`).expect(200);
      assert.equal(me.body.authMethod, 'bearer');
      assert.equal(me.body.provider, 'mobile');
      assert.equal(me.body.subject, 'device-user');
      assert.equal(me.body.kind, 'user');
      // Without the token, the same browser is its session user.
      assert.equal((await browser.get('/auth/session').expect(200)).body.subject, 'uma');
    } finally {
      await issuer.close();
    }
  });
});

describe('OIDC back-channel logout', () => {
  async function logoutToken(
    claims: Record<string, unknown>,
    options: Parameters<TestIdp['signLogoutToken']>[1] = {},
  ) {
    return idp.signLogoutToken(
      {
        iss: idp.issuer,
        aud: 'kw-a',
        iat: Math.floor(Date.now() / 1000),
        jti: randomUUID(),
        events: { [BACKCHANNEL_EVENT]: {} },
        ...claims,
      },
      options,
    );
  }

  async function sidOf(browser: BrowserSession): Promise<string> {
    const record = JSON.parse((await store.get(`sess:${browser.sessionId()}`))!);
    assert.equal(typeof record.auth.idp.sid, 'string', 'the IdP put a sid in the ID token');
    return record.auth.idp.sid;
  }

  it('deletes the session of that sid, held by another instance', async () => {
    const browser = new BrowserSession(kw.app);
    await loginThroughIdp(browser, '/auth/login/a', 'olivia');
    const bystander = new BrowserSession(kw.app);
    await loginThroughIdp(bystander, '/auth/login/a', 'paul');
    const sid = await sidOf(browser);

    const response = await request(kw2.app)
      .post('/auth/backchannel-logout/a')
      .type('form')
      .send({ logout_token: await logoutToken({ sid, sub: 'olivia' }) });
    assert.equal(response.status, 200);
    assert.equal(response.headers['cache-control'], 'no-store');

    assertProblem(await browser.get('/auth/session'), 401, 'unauthenticated');
    assertProblem(await browser.withApp(kw2.app).get('/auth/session'), 401, 'unauthenticated');
    await bystander.get('/auth/session').expect(200);
  });

  it('also revokes the CLI tokens of that user, on every instance', async () => {
    const browser = new BrowserSession(kw.app);
    await loginThroughIdp(browser, '/auth/login/a', 'rita');
    const principal = { provider: 'a', subject: 'rita', kind: 'user' as const, claims: {} };
    const tokens = new CliTokens(store, 3600);
    const { token } = await tokens.issue(principal, 'keywarden-cli');
    const other = await tokens.issue({ ...principal, subject: 'sam' }, 'keywarden-cli');
    const asCli = (cliToken: string) =>
      request(kw2.app).get('/auth/session').set('Authorization', `Bearer ${cliToken}`);
    assert.equal((await asCli(token)).status, 200);

    const response = await request(kw2.app)
      .post('/auth/backchannel-logout/a')
      .type('form')
      .send({ logout_token: await logoutToken({ sid: await sidOf(browser), sub: 'rita' }) });
    assert.equal(response.status, 200);

    assert.equal((await asCli(token)).status, 401, 'the CLI token ended with the IdP login');
    assert.equal(await tokens.resolve(token), undefined);
    assert.equal((await asCli(other.token)).status, 200, "another user's CLI token is untouched");
  });

  it('ends the session when the user signs out at the IdP (a real back-channel call from oidc-provider)', async () => {
    const port = await freePort();
    const idpL = await startOidcProvider({
      clients: [
        { ...clientFor('a'), backchannelLogoutUri: `http://127.0.0.1:${port}/auth/backchannel-logout/a` },
      ],
    });
    const app = await keywardenWith({ a: oidcProvider('a', idpL.issuer) }, store);
    const server = createServer(app.app);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const browser = new BrowserSession(app.app);
      await loginThroughIdp(browser, '/auth/login/a', 'walt');
      await browser.get('/auth/session').expect(200);
      await logoutAtIdp(browser, idpL);
      let status = 200;
      for (let attempt = 0; attempt < 20 && status === 200; attempt += 1) {
        status = (await browser.get('/auth/session')).status;
        if (status === 200) await sleep(100);
      }
      assert.equal(status, 401);
      assert.ok(
        app.logs.records().some((line) => line.event === 'session.revoked' && line.outcome === 'success'),
      );
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await idpL.stop();
    }
  });

  it('deletes every session of a sub when the token has no sid', async () => {
    const laptop = new BrowserSession(kw.app);
    await loginThroughIdp(laptop, '/auth/login/a', 'quinn');
    const phone = new BrowserSession(kw2.app);
    await loginThroughIdp(phone, '/auth/login/a', 'quinn');
    await request(kw.app)
      .post('/auth/backchannel-logout/a')
      .type('form')
      .send({ logout_token: await logoutToken({ sub: 'quinn' }) })
      .expect(200);
    assertProblem(await laptop.get('/auth/session'), 401, 'unauthenticated');
    assertProblem(await phone.get('/auth/session'), 401, 'unauthenticated');
  });

  it('lets the IdP retry a logout token whose revocation failed (503), and then ends the session', async () => {
    // The same Redis, except that the next session-index read fails once, as in a Redis blip
    // between remembering the token's jti and deleting the sessions.
    let failNextIndexRead = false;
    const flaky = new Proxy(store, {
      get(target, property) {
        if (property === 'setMembers' && failNextIndexRead) {
          failNextIndexRead = false;
          return async () => {
            throw new StoreUnavailableError('injected failure');
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const kwFlaky = await keywardenWith(providers(), flaky);
    const browser = new BrowserSession(kwFlaky.app);
    await loginThroughIdp(browser, '/auth/login/a', 'sam');
    const token = await logoutToken({ sid: await sidOf(browser), sub: 'sam' });

    failNextIndexRead = true;
    const failed = await request(kwFlaky.app).post('/auth/backchannel-logout/a').type('form').send({
      logout_token: token,
    });
    assert.equal(failed.status, 503);
    assert.ok(failed.headers['retry-after']);
    await browser.get('/auth/session').expect(200);

    // OIDC Back-Channel Logout 2.8: the IdP may retry after an error; the same token must work.
    await request(kwFlaky.app)
      .post('/auth/backchannel-logout/a')
      .type('form')
      .send({ logout_token: token })
      .expect(200);
    assertProblem(await browser.get('/auth/session'), 401, 'unauthenticated');
    // Once done, the token is spent.
    assertProblem(
      await request(kwFlaky.app)
        .post('/auth/backchannel-logout/a')
        .type('form')
        .send({ logout_token: token }),
      400,
      'invalid_logout_token',
    );
  });

  it('refuses invalid logout tokens with 400 and keeps the session', async () => {
    const browser = new BrowserSession(kw.app);
    await loginThroughIdp(browser, '/auth/login/a', 'rita');
    const sid = await sidOf(browser);
    const { privateKey: strangerKey } = await generateKeyPair('RS256');
    const cases: Record<string, string> = {
      'signed by another key': await logoutToken({ sid }, { key: strangerKey }),
      'wrong issuer': await logoutToken({ sid, iss: 'https://evil.example' }),
      'wrong audience': await logoutToken({ sid, aud: 'someone-else' }),
      'no events member': await logoutToken({ sid, events: { other: {} } }),
      'has a nonce': await logoutToken({ sid, nonce: 'n' }),
      'neither sid nor sub': await logoutToken({}),
      'too old': await logoutToken({ sid, iat: Math.floor(Date.now() / 1000) - 3_600 }),
      'no jti': await logoutToken({ sid, jti: undefined }),
      'HMAC with the client secret': await new SignJWT({
        iss: idp.issuer,
        aud: 'kw-a',
        iat: Math.floor(Date.now() / 1000),
        jti: randomUUID(),
        sid,
        events: { [BACKCHANNEL_EVENT]: {} },
      })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode('secret-of-a-0123456789')),
      'alg none': `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(
        JSON.stringify({
          iss: idp.issuer,
          aud: 'kw-a',
          iat: Math.floor(Date.now() / 1000),
          jti: 'x',
          sid,
          events: { [BACKCHANNEL_EVENT]: {} },
        }),
      ).toString('base64url')}.`,
      garbage: 'not-a-jwt',
    };
    for (const [label, token] of Object.entries(cases)) {
      const response = await request(kw.app)
        .post('/auth/backchannel-logout/a')
        .type('form')
        .send({ logout_token: token });
      assert.equal(response.status, 400, label);
      assert.equal(response.body.code, 'invalid_logout_token', label);
      assert.equal(response.headers['cache-control'], 'no-store', label);
    }
    assertProblem(
      await request(kw.app).post('/auth/backchannel-logout/a').type('form').send({}),
      400,
      'invalid_logout_token',
    );
    await browser.get('/auth/session').expect(200);

    // A token used once is refused the second time (jti replay cache in Redis, so on any instance).
    const once = await logoutToken({ sub: 'nobody-signed-in' });
    await request(kw.app)
      .post('/auth/backchannel-logout/a')
      .type('form')
      .send({ logout_token: once })
      .expect(200);
    assertProblem(
      await request(kw2.app).post('/auth/backchannel-logout/a').type('form').send({ logout_token: once }),
      400,
      'invalid_logout_token',
    );
  });
});

describe('Redis down', () => {
  it('answers 503 during login and never hands out a session; recovers when Redis is back', async () => {
    const ownRedis = await startRedis();
    const ownStore = await redisStoreAt(ownRedis.url);
    try {
      const app = await keywardenWith(providers(), ownStore);
      const browser = new BrowserSession(app.app);
      const { callbackPath } = await loginThroughIdp(browser, '/auth/login/a', 'sam', { callback: false });
      await ownRedis.stop();

      const callback = await browser.get(callbackPath);
      assertProblem(callback, 503, 'service_unavailable');
      assert.ok(callback.headers['retry-after']);
      assert.equal(callback.headers['set-cookie'], undefined);

      const fresh = new BrowserSession(app.app);
      const start = await fresh.get('/auth/login/a');
      assertProblem(start, 503, 'service_unavailable');
      assert.equal(start.headers['set-cookie'], undefined);
      // A request carrying a session cookie is never served as anonymous.
      assertProblem(await browser.get('/auth/session'), 503, 'service_unavailable');

      await ownRedis.start();
      let recovered = false;
      for (let attempt = 0; attempt < 30 && !recovered; attempt += 1) {
        await sleep(200);
        recovered = (await new BrowserSession(app.app).get('/auth/login/a')).status === 303;
      }
      assert.ok(recovered, 'login works again once Redis is back');
      const again = new BrowserSession(app.app);
      const { callback: ok } = await loginThroughIdp(again, '/auth/login/a', 'sam');
      assert.equal(ok?.status, 303);
      await again.get('/auth/session').expect(200);
    } finally {
      await ownStore.close();
      await ownRedis.stop();
    }
  });
});

describe('Redis slow', () => {
  it('answers 503 within the command timeout when Redis stops answering, and recovers', async () => {
    const ownRedis = await startRedis();
    const ownStore = await redisStoreAt(ownRedis.url);
    try {
      const app = await keywardenWith(providers(), ownStore);
      const browser = new BrowserSession(app.app);
      await loginThroughIdp(browser, '/auth/login/a', 'vera');
      ownRedis.pause();
      const started = Date.now();
      assertProblem(await browser.get('/auth/session'), 503, 'service_unavailable');
      assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
      ownRedis.resume();
      await browser.get('/auth/session').expect(200);
    } finally {
      ownRedis.resume();
      await ownStore.close();
      await ownRedis.stop();
    }
  });
});

describe('logs', () => {
  it('never contain a session cookie, code, state or token', async () => {
    const browser = new BrowserSession(kw.app);
    const { callbackPath } = await loginThroughIdp(browser, '/auth/login/a', 'tom');
    const record = JSON.parse((await store.get(`sess:${browser.sessionId()}`))!);
    const params = new URL(callbackPath, PUBLIC_URL).searchParams;
    await browser.post('/auth/logout').set('X-CSRF', '1').expect(200);
    const secrets = [
      browser.setCookies[COOKIE]!,
      params.get('code')!,
      params.get('state')!,
      record.auth.idp.idToken,
      record.auth.idp.sid,
    ];
    kw.logs.assertNoneContain(secrets);
    kw2.logs.assertNoneContain(secrets);
  });
});
