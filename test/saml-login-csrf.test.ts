import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'supertest';
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
 * Login CSRF / session swapping: an attacker starts a SAML login himself, gets a genuine
 * response for his own account, and makes a victim's browser post it to the ACS. The response
 * answers a real AuthnRequest, so InResponseTo alone does not stop it; the binding cookie set
 * at login start does. Two instances share one redis-server throughout, as in production.
 */

const BINDING = '__Host-keywarden-saml';
const SESSION = '__Host-keywarden';
const TTL_MS = 600_000;

/** A Set-Cookie line as name, value and lower-cased attribute → value ('' for flags). */
function parseSetCookie(line: string) {
  const [pair = '', ...rest] = line.split(';').map((part) => part.trim());
  const separator = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const attribute of rest) {
    const at = attribute.indexOf('=');
    attributes.set(
      (at < 0 ? attribute : attribute.slice(0, at)).toLowerCase(),
      at < 0 ? '' : attribute.slice(at + 1),
    );
  }
  return { name: pair.slice(0, separator), value: pair.slice(separator + 1), attributes };
}

function setCookieLines(response: Response): string[] {
  return ([] as string[]).concat(response.headers['set-cookie'] ?? []);
}

function assertNoSession(response: Response): void {
  const issued = setCookieLines(response).find(
    (line) => line.startsWith(`${SESSION}=`) && !/Expires=Thu, 01 Jan 1970/.test(line),
  );
  assert.equal(issued, undefined, 'no session cookie may be issued');
}

describe('SAML responses are bound to the browser that started the login', () => {
  let redis: RedisServer;
  let idp: SamlIdp;
  let stores: RedisStore[];
  let first: TestApp;
  let second: TestApp;
  /** Every binding cookie value handed out in this file: none may reach a log line. */
  const bindingValues: string[] = [];

  before(async () => {
    redis = await startRedis();
    idp = await startSamlIdp();
    stores = [0, 1].map(
      () => new RedisStore(redisSchema.parse({ url: redis.url, commandTimeoutMs: 300, reconnectMaxMs: 200 })),
    );
    await Promise.all(stores.map((store) => store.connect()));
    const overrides = samlAppOverrides({
      corp: samlProviderFor(idp, { requestTtlMs: TTL_MS }),
      portal: samlProviderFor(idp, { allowUnsolicited: true }),
    });
    first = await buildTestApp({ overrides, store: stores[0]! });
    second = await buildTestApp({ overrides, store: stores[1]! });
    const browser = new BrowserSession(first.app);
    for (const name of ['corp', 'portal']) {
      idp.trustServiceProvider((await browser.get(`/auth/saml/${name}/metadata`).expect(200)).text);
    }
  });

  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await idp.close();
    await redis.stop();
  });

  /** Starts a login in `browser` at `app` and lets the IdP answer it for `nameId`. */
  async function startLogin(
    browser: BrowserSession,
    nameId: string,
    provider = 'corp',
  ): Promise<{ start: Response; posted: PostedSamlResponse }> {
    const start = await browser.get(`/auth/login/${provider}?returnTo=/app`).expect(303);
    const value = browser.cookie(BINDING);
    assert.ok(value, 'the login sets the binding cookie');
    bindingValues.push(value);
    return { start, posted: await idp.login(start.headers.location!, { nameId }) };
  }

  function acs(browser: BrowserSession, posted: PostedSamlResponse, provider = 'corp') {
    return browser.post(`/auth/saml/${provider}/acs`).type('form').send(formBody(posted));
  }

  function auditOf(app: TestApp, response: Response): Record<string, unknown> | undefined {
    const requestId = (response.body as { requestId?: string }).requestId;
    return app.logs.records().find((record) => record.audit === true && record.requestId === requestId);
  }

  async function assertRefusedAsCsrf(app: TestApp, victim: BrowserSession, response: Response) {
    assert.equal(response.status, 401);
    assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(response.body.code, 'saml_rejected');
    assertNoSession(response);
    const audit = auditOf(app, response);
    assert.equal(audit?.event, 'login.failed');
    assert.equal(audit?.reason, 'browser_binding_mismatch');
    assert.equal(audit?.provider, 'corp');
    await victim.get('/auth/session').expect(401);
  }

  it('sets SameSite=None; Secure; HttpOnly; Path=/, no Domain, Max-Age = the request TTL, a 256-bit value', async () => {
    const browser = new BrowserSession(first.app);
    const { start, posted } = await startLogin(browser, 'attribute-check');
    const lines = setCookieLines(start).filter((line) => line.startsWith(`${BINDING}=`));
    assert.equal(lines.length, 1);
    const cookie = parseSetCookie(lines[0]!);
    assert.equal(cookie.name, BINDING);
    assert.match(cookie.value, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    assert.deepEqual(
      [...cookie.attributes.keys()].sort(),
      ['expires', 'httponly', 'max-age', 'path', 'samesite', 'secure'],
      `exact attribute set (no Domain): ${lines[0]}`,
    );
    assert.equal(cookie.attributes.get('samesite'), 'None');
    assert.equal(cookie.attributes.get('path'), '/');
    assert.equal(cookie.attributes.get('max-age'), String(TTL_MS / 1000));
    const expires = Date.parse(cookie.attributes.get('expires')!);
    assert.ok(Math.abs(expires - (Date.now() + TTL_MS)) < 5_000, 'Expires agrees with Max-Age');

    // The store keeps only a digest of the value, next to the request id.
    const stored = await first.store.get(`saml:req:corp:${posted.requestId}`);
    assert.ok(stored);
    assert.ok(!stored.includes(cookie.value), 'the raw binding value is not stored');
    assert.match(stored, /"browser":"[A-Za-z0-9_-]{43}"/);
  });

  it('the genuine round trip signs in, then clears the binding cookie', async () => {
    const browser = new BrowserSession(first.app);
    const { posted } = await startLogin(browser, 'genuine-user');
    const response = await acs(browser, posted);
    assert.equal(response.status, 303, JSON.stringify(response.body));
    assert.equal(response.headers.location, '/app');
    const cleared = setCookieLines(response).find((line) => line.startsWith(`${BINDING}=`));
    assert.ok(cleared, 'the binding cookie is expired');
    const attributes = parseSetCookie(cleared).attributes;
    assert.equal(attributes.get('expires'), 'Thu, 01 Jan 1970 00:00:00 GMT');
    // A __Host- cookie is only replaced (here: deleted) by a Set-Cookie that is itself Secure with Path=/.
    assert.ok(attributes.has('secure'));
    assert.equal(attributes.get('path'), '/');
    assert.equal(attributes.get('samesite'), 'None');
    assert.equal(browser.cookie(BINDING), undefined);
    assert.equal((await browser.get('/auth/session').expect(200)).body.subject, 'genuine-user');
  });

  it("refuses the attacker's response posted from a victim browser that has no binding cookie", async () => {
    const attacker = new BrowserSession(first.app);
    const { posted } = await startLogin(attacker, 'attacker');
    const victim = new BrowserSession(first.app);
    const response = await acs(victim, posted);
    await assertRefusedAsCsrf(first, victim, response);
  });

  it('refuses it from a victim browser with a login of its own in progress, whose login still completes', async () => {
    const attacker = new BrowserSession(first.app);
    const { posted: attackers } = await startLogin(attacker, 'attacker');
    const victim = new BrowserSession(first.app);
    const { posted: victims } = await startLogin(victim, 'victim');

    const response = await acs(victim, attackers);
    await assertRefusedAsCsrf(first, victim, response);
    // The refused post neither cleared the victim's cookie nor spent the victim's request.
    assert.ok(victim.cookie(BINDING));
    await acs(victim, victims).expect(303);
    assert.equal((await victim.get('/auth/session').expect(200)).body.subject, 'victim');
  });

  it('refuses a binding cookie the browser did not get from this login (planted or guessed)', async () => {
    const attacker = new BrowserSession(first.app);
    const { posted } = await startLogin(attacker, 'attacker');
    const victim = new BrowserSession(first.app);
    victim.setCookie(BINDING, 'A'.repeat(43));
    await assertRefusedAsCsrf(first, victim, await acs(victim, posted));
  });

  it('a second instance sharing Redis accepts the bound response and refuses the swapped one', async () => {
    const browser = new BrowserSession(first.app);
    const { posted } = await startLogin(browser, 'roaming-user');
    const accepted = await acs(browser.withApp(second.app), posted);
    assert.equal(accepted.status, 303, JSON.stringify(accepted.body));
    await browser.withApp(second.app).get('/auth/session').expect(200);

    const attacker = new BrowserSession(first.app);
    const { posted: attackers } = await startLogin(attacker, 'attacker');
    const victim = new BrowserSession(second.app);
    await startLogin(victim, 'victim');
    await assertRefusedAsCsrf(second, victim, await acs(victim, attackers));
  });

  it('a provider that allows unsolicited responses still binds the solicited ones', async () => {
    const attacker = new BrowserSession(first.app);
    const { posted } = await startLogin(attacker, 'attacker', 'portal');
    const victim = new BrowserSession(first.app);
    const response = await acs(victim, posted, 'portal');
    assert.equal(response.status, 401);
    assert.equal(auditOf(first, response)?.reason, 'browser_binding_mismatch');
    assertNoSession(response);

    // The known gap, and why allowUnsolicited is off by default: an IdP-initiated response
    // answers no request, so there is nothing to bind and any browser may post it.
    const unsolicited = await idp.unsolicited({
      sp: `${first.config.server.publicUrl}/auth/saml/portal/metadata`,
    });
    await acs(new BrowserSession(first.app), unsolicited, 'portal').expect(303);
  });

  it('with insecure development cookies: no __Host- prefix, no Secure, SameSite=Lax, and the binding still holds', async () => {
    const dev = await buildTestApp({
      overrides: {
        ...samlAppOverrides({ corp: samlProviderFor(idp) }),
        session: { secret: 'saml-test-session-secret-0123456789abcdef', insecureDevCookies: true },
      },
    });
    const browser = new BrowserSession(dev.app, { forwardedProto: undefined });
    const start = await browser.get('/auth/login/corp?returnTo=/app').expect(303);
    const line = setCookieLines(start).find((header) => header.startsWith('keywarden-saml='));
    assert.ok(line, `binding cookie set: ${setCookieLines(start).join(' | ')}`);
    const cookie = parseSetCookie(line);
    bindingValues.push(cookie.value);
    assert.deepEqual([...cookie.attributes.keys()].sort(), [
      'expires',
      'httponly',
      'max-age',
      'path',
      'samesite',
    ]);
    assert.equal(cookie.attributes.get('samesite'), 'Lax');

    const posted = await idp.login(start.headers.location!, { nameId: 'dev-user' });
    const stranger = new BrowserSession(dev.app, { forwardedProto: undefined });
    const refused = await stranger.post('/auth/saml/corp/acs').type('form').send(formBody(posted));
    assert.equal(refused.status, 401);
    assert.equal(auditOf(dev, refused)?.reason, 'browser_binding_mismatch');
    await browser.post('/auth/saml/corp/acs').type('form').send(formBody(posted)).expect(303);
    dev.logs.assertNoneContain([cookie.value]);
  });

  it('no binding cookie value reaches any log line', () => {
    assert.ok(bindingValues.length >= 8);
    for (const app of [first, second]) app.logs.assertNoneContain(bindingValues);
  });
});
