import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Response } from 'supertest';
import { buildTestApp, type TestApp } from './support/app.ts';
import { BrowserSession } from './support/browser-session.ts';
import {
  formBody,
  type PostedSamlResponse,
  type SamlIdp,
  type SamlResponseOptions,
  samlAppOverrides,
  samlProviderFor,
  startSamlIdp,
} from './support/saml-idp.ts';

/**
 * Every hostile SAMLResponse from test/fixtures/saml/invalid/ is produced by the real IdP for a
 * real AuthnRequest (then bent as the fixture says) and must be refused with the generic
 * problem, the exact audit reason, and no session.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const INVALID_DIR = path.join(here, 'fixtures', 'saml', 'invalid');

interface InvalidFixture {
  scenario: string;
  response: SamlResponseOptions;
  tamper?: string;
  expect: { status: number; code: string; reason: string };
}

const ASSERTION = /<saml:Assertion[\s\S]*<\/saml:Assertion>/;

function encode(xml: string): string {
  return Buffer.from(xml, 'utf8').toString('base64');
}

/** An unsigned copy of the signed assertion, for another user and with its own ID. */
function forgedAssertion(signed: string): string {
  return signed
    .replace(/<ds:Signature[\s\S]*?<\/ds:Signature>/, '')
    .replace(/ID="[^"]+"/, 'ID="_forged-assertion"')
    .replace(/>employee-42<\/saml:NameID>/, '>admin</saml:NameID>');
}

const TAMPERS: Record<string, (posted: PostedSamlResponse) => string> = {
  'inject-unsigned-assertion': ({ xml }) => {
    const signed = ASSERTION.exec(xml)![0];
    return encode(xml.replace(signed, forgedAssertion(signed) + signed));
  },
  'move-signed-assertion-into-extensions': ({ xml }) => {
    const signed = ASSERTION.exec(xml)![0];
    const withoutSigned = xml.replace(signed, forgedAssertion(signed));
    return encode(
      withoutSigned.replace('</saml:Issuer>', `</saml:Issuer><samlp:Extensions>${signed}</samlp:Extensions>`),
    );
  },
  'drop-assertion': ({ xml }) => encode(xml.replace(ASSERTION, '')),
  'drop-status': ({ xml }) => {
    const withoutStatus = xml.replace(/<samlp:Status>[\s\S]*?<\/samlp:Status>/, '');
    assert.notEqual(withoutStatus, xml, 'the response had a Status to drop');
    return encode(withoutStatus);
  },
  'change-nameid': ({ xml }) => encode(xml.replace('>employee-42</saml:NameID>', '>admin</saml:NameID>')),
  'not-base64': () => '%%% this is not base64 %%%',
  'not-a-response': () =>
    encode(
      `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0" IssueInstant="${new Date().toISOString()}"/>`,
    ),
  'prepend-doctype': ({ xml }) => encode(`<!DOCTYPE lolz [<!ENTITY lol "lol">]>${xml}`),
};

function auditFor(app: TestApp, response: Response): Record<string, unknown> | undefined {
  const requestId = (response.body as { requestId?: string }).requestId;
  return app.logs.records().find((record) => record.audit === true && record.requestId === requestId);
}

function assertNoSession(response: Response): void {
  const cookies = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  assert.equal(
    cookies.find((line) => line.startsWith('__Host-keywarden=') && !/Expires=Thu, 01 Jan 1970/.test(line)),
    undefined,
    'no session cookie may be issued',
  );
}

describe('SAML responses that must be refused', () => {
  let idp: SamlIdp;
  let app: TestApp;
  /** Every message posted in this file; none may show up in any log line. */
  const sentMessages: string[] = [];

  before(async () => {
    idp = await startSamlIdp();
    app = await buildTestApp({ overrides: samlAppOverrides({ corp: samlProviderFor(idp) }) });
    const metadata = await new BrowserSession(app.app).get('/auth/saml/corp/metadata').expect(200);
    idp.trustServiceProvider(metadata.text);
  });

  after(async () => {
    await idp.close();
  });

  async function signIn(
    browser: BrowserSession,
    options: SamlResponseOptions = {},
  ): Promise<PostedSamlResponse> {
    const start = await browser.get('/auth/login/corp?returnTo=/app').expect(303);
    return idp.login(start.headers.location!, options);
  }

  const fixtures = readdirSync(INVALID_DIR).filter((file) => file.endsWith('.json'));
  assert.ok(fixtures.length >= 15, 'the invalid fixtures are present');

  for (const file of fixtures) {
    const fixture = JSON.parse(readFileSync(path.join(INVALID_DIR, file), 'utf8')) as InvalidFixture;
    it(`${file.replace(/\.json$/, '')}: ${fixture.scenario}`, async () => {
      const browser = new BrowserSession(app.app);
      const posted = await signIn(browser, fixture.response);
      const samlResponse = fixture.tamper ? TAMPERS[fixture.tamper]!(posted) : posted.SAMLResponse;
      sentMessages.push(samlResponse);
      const response = await browser
        .post('/auth/saml/corp/acs')
        .type('form')
        .send(formBody({ SAMLResponse: samlResponse, RelayState: '/app' }));

      assert.equal(response.status, fixture.expect.status);
      assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(response.body.code, fixture.expect.code);
      assertNoSession(response);
      const audit = auditFor(app, response);
      assert.equal(audit?.event, 'login.failed');
      assert.equal(audit?.reason, fixture.expect.reason);
      assert.equal(audit?.provider, 'corp');
      await browser.get('/auth/session').expect(401);
    });
  }

  it('a replay of an accepted response is refused, and reported as a replay', async () => {
    const browser = new BrowserSession(app.app);
    const posted = await signIn(browser);
    await browser.post('/auth/saml/corp/acs').type('form').send(formBody(posted)).expect(303);

    const attacker = new BrowserSession(app.app);
    const replay = await attacker.post('/auth/saml/corp/acs').type('form').send(formBody(posted));
    assert.equal(replay.status, 401);
    assert.equal(replay.body.code, 'saml_rejected');
    assertNoSession(replay);
    const audit = auditFor(app, replay);
    assert.equal(audit?.event, 'saml.replay_rejected');
    assert.equal(audit?.reason, 'replay');
  });

  it('a replay with a fresh Response ID around the same signed assertion is refused too', async () => {
    const browser = new BrowserSession(app.app);
    const posted = await signIn(browser);
    await browser.post('/auth/saml/corp/acs').type('form').send(formBody(posted)).expect(303);
    const reissued = encode(
      posted.xml.replace(/^(<samlp:Response[^>]*?) ID="[^"]+"/, '$1 ID="_fresh-response-id"'),
    );
    const replay = await new BrowserSession(app.app)
      .post('/auth/saml/corp/acs')
      .type('form')
      .send(formBody({ SAMLResponse: reissued }));
    assert.equal(replay.status, 401);
    assert.equal(auditFor(app, replay)?.reason, 'replay');
  });

  it('a response for an AuthnRequest that failed once cannot be retried (the request id is spent)', async () => {
    const browser = new BrowserSession(app.app);
    const start = await browser.get('/auth/login/corp').expect(303);
    const bad = await idp.login(start.headers.location!, { audience: 'https://other-sp.example/metadata' });
    await browser.post('/auth/saml/corp/acs').type('form').send(formBody(bad)).expect(401);
    // The IdP answering the same request again, correctly this time, is no longer expected.
    const retry = await idp.login(start.headers.location!, {});
    const response = await browser.post('/auth/saml/corp/acs').type('form').send(formBody(retry));
    assert.equal(response.status, 401);
    assert.equal(auditFor(app, response)?.reason, 'in_response_to_unknown');
  });

  it('an oversize SAMLResponse is refused with 413 before any XML work', async () => {
    const started = Date.now();
    const response = await new BrowserSession(app.app)
      .post('/auth/saml/corp/acs')
      .type('form')
      .send(formBody({ SAMLResponse: 'A'.repeat(300 * 1024) }));
    assert.equal(response.status, 413);
    assert.equal(response.body.code, 'payload_too_large');
    assert.ok(Date.now() - started < 2_000, 'refused quickly');
  });

  it('a missing SAMLResponse and a JSON body are refused', async () => {
    const empty = await new BrowserSession(app.app)
      .post('/auth/saml/corp/acs')
      .type('form')
      .send('RelayState=/x');
    assert.equal(empty.status, 401);
    assert.equal(auditFor(app, empty)?.reason, 'malformed');
    // A genuine, unused response, but sent as JSON rather than the POST binding's form.
    const posted = await signIn(new BrowserSession(app.app));
    const json = await new BrowserSession(app.app)
      .post('/auth/saml/corp/acs')
      .send({ SAMLResponse: posted.SAMLResponse });
    assert.equal(json.status, 401);
    assert.equal(auditFor(app, json)?.reason, 'malformed');
  });

  it('no SAMLResponse, assertion or signature value reaches the logs, accepted or refused', async () => {
    const browser = new BrowserSession(app.app);
    const posted = await signIn(browser);
    await browser.post('/auth/saml/corp/acs').type('form').send(formBody(posted)).expect(303);
    const signatureValue = /<ds:SignatureValue>([^<]+)<\/ds:SignatureValue>/.exec(posted.xml)![1]!;
    assert.ok(sentMessages.length >= 15);
    app.logs.assertNoneContain([
      posted.SAMLResponse,
      signatureValue.slice(0, 60),
      ...sentMessages.map((message) => message.slice(0, 120)),
    ]);
  });
});

describe('SAML ACS rate limit', () => {
  it('counts ACS posts in the auth group, like OIDC callbacks: a flood of forged responses gets 429', async () => {
    const idp = await startSamlIdp();
    try {
      const limited = await buildTestApp({
        overrides: {
          ...samlAppOverrides({ corp: samlProviderFor(idp) }),
          rateLimit: { groups: { auth: { perIp: { points: 3, windowSeconds: 60 } } } },
        },
      });
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const response = await new BrowserSession(limited.app)
          .post('/auth/saml/corp/acs')
          .type('form')
          .send(formBody({ SAMLResponse: encode('<forged/>') }));
        statuses.push(response.status);
      }
      assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    } finally {
      await idp.close();
    }
  });
});
