import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { redisSchema } from '../src/config/schema.ts';
import { RedisStore } from '../src/store/redis/redis-store.ts';
import { buildTestApp, type TestApp } from './support/app.ts';
import { BrowserSession } from './support/browser-session.ts';
import { type RedisServer, startRedis } from './support/redis-server.ts';
import {
  formBody,
  type PostedSamlResponse,
  type SamlIdp,
  samlAppOverrides,
  samlProviderFor,
  startSamlIdp,
} from './support/saml-idp.ts';

/**
 * Two keywarden instances sharing one real redis-server, as two pods behind a load balancer
 * without sticky sessions: the AuthnRequest id, the replay memory and the session index must
 * hold across them.
 */
describe('SAML across two instances sharing Redis', () => {
  let redis: RedisServer;
  let idp: SamlIdp;
  let stores: RedisStore[];
  let first: TestApp;
  let second: TestApp;

  before(async () => {
    redis = await startRedis();
    idp = await startSamlIdp();
    stores = [0, 1].map(
      () => new RedisStore(redisSchema.parse({ url: redis.url, commandTimeoutMs: 300, reconnectMaxMs: 200 })),
    );
    await Promise.all(stores.map((store) => store.connect()));
    const overrides = samlAppOverrides({ corp: samlProviderFor(idp) });
    first = await buildTestApp({ overrides, store: stores[0]! });
    second = await buildTestApp({ overrides, store: stores[1]! });
    idp.trustServiceProvider(
      (await new BrowserSession(first.app).get('/auth/saml/corp/metadata').expect(200)).text,
    );
  });

  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await idp.close();
    await redis.stop();
  });

  async function startAt(
    app: TestApp,
    browser: BrowserSession,
    nameId = 'employee-42',
  ): Promise<PostedSamlResponse> {
    const start = await browser.withApp(app.app).get('/auth/login/corp?returnTo=/app').expect(303);
    return idp.login(start.headers.location!, { nameId });
  }

  function auditReason(app: TestApp, requestId: string): unknown {
    return app.logs.records().find((record) => record.audit === true && record.requestId === requestId)
      ?.reason;
  }

  it('an AuthnRequest sent by one instance is answered at the other, and the session works on both', async () => {
    const browser = new BrowserSession(first.app);
    const posted = await startAt(first, browser);
    // The jar sends the binding cookie set by the first instance; the second checks it through Redis.
    assert.ok(browser.cookie('__Host-keywarden-saml'));
    await browser
      .withApp(second.app)
      .post('/auth/saml/corp/acs')
      .type('form')
      .send(formBody(posted))
      .expect(303);
    await browser.withApp(first.app).get('/auth/session').expect(200);
    await browser.withApp(second.app).get('/auth/session').expect(200);
  });

  it('a response accepted by one instance is refused as a replay by the other', async () => {
    const browser = new BrowserSession(first.app);
    const posted = await startAt(first, browser);
    await browser.post('/auth/saml/corp/acs').type('form').send(formBody(posted)).expect(303);

    const replay = await new BrowserSession(second.app)
      .post('/auth/saml/corp/acs')
      .type('form')
      .send(formBody(posted));
    assert.equal(replay.status, 401);
    assert.equal(replay.body.code, 'saml_rejected');
    assert.equal(auditReason(second, replay.body.requestId), 'replay');
  });

  it('the same response raced to both instances signs in exactly once', async () => {
    // Both posts come from the browser that started the login, so both carry its SAML binding
    // cookie (SameSite=None rides the cross-site POST): only the replay guard separates them.
    const browser = new BrowserSession(first.app);
    const posted = await startAt(first, browser);
    assert.ok(browser.cookie('__Host-keywarden-saml'), 'the login set the binding cookie');
    const results = await Promise.all(
      [first, second].map((app) =>
        browser.withApp(app.app).post('/auth/saml/corp/acs').type('form').send(formBody(posted)),
      ),
    );
    assert.deepEqual(results.map((response) => response.status).sort(), [303, 401]);
  });

  it('an IdP-initiated LogoutRequest handled by one instance ends the session another instance created', async () => {
    const browser = new BrowserSession(first.app);
    const posted = await startAt(first, browser, 'leaves-everywhere');
    await browser.post('/auth/saml/corp/acs').type('form').send(formBody(posted)).expect(303);
    await browser.get('/auth/session').expect(200);

    const url = new URL(idp.logoutRequestUrl({ nameId: 'leaves-everywhere' }));
    const answered = await new BrowserSession(second.app).get(`${url.pathname}${url.search}`);
    assert.equal(answered.status, 303, JSON.stringify(answered.body));
    assert.ok(new URL(answered.headers.location!).searchParams.get('SAMLResponse'), 'a LogoutResponse');

    await browser.get('/auth/session').expect(401);
    await browser.withApp(second.app).get('/auth/session').expect(401);
  });

  it('a Redis that stops answering gives 503 with Retry-After at login and at the ACS, never a session', async () => {
    const browser = new BrowserSession(first.app);
    const posted = await startAt(first, browser);
    redis.pause();
    try {
      const start = await new BrowserSession(first.app).get('/auth/login/corp');
      assert.equal(start.status, 503);
      assert.ok(start.headers['retry-after']);
      const acs = await browser.post('/auth/saml/corp/acs').type('form').send(formBody(posted));
      assert.equal(acs.status, 503);
      assert.equal(acs.body.code, 'service_unavailable');
      assert.ok(acs.headers['retry-after']);
      assert.equal(browser.cookie('__Host-keywarden'), undefined);
    } finally {
      redis.resume();
    }
    // Once Redis answers again the same, still unused response is accepted.
    await browser.post('/auth/saml/corp/acs').type('form').send(formBody(posted)).expect(303);
  });
});
