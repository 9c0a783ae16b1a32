import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as samlify from 'samlify';
import { CliTokens } from '../src/auth/device/cli-tokens.ts';
import { parseDomFromString, xpath } from '../src/auth/saml/saml-xml.ts';
import { SESSION_KEY_PREFIX } from '../src/auth/session/session-middleware.ts';
import { buildTestApp, type TestApp } from './support/app.ts';
import { BrowserSession } from './support/browser-session.ts';
import {
  formBody,
  NAMEID_PERSISTENT,
  SAML_PUBLIC_URL,
  type SamlIdp,
  type SamlResponseOptions,
  samlAppOverrides,
  samlKey,
  samlProviderFor,
  startSamlIdp,
} from './support/saml-idp.ts';

/**
 * SP-initiated SAML sign-in against a real IdP (samlify on loopback): metadata, signed
 * AuthnRequests, attribute mapping for Entra/ADFS/Shibboleth, two IdPs, certificate rotation
 * (config list and metadata file), encrypted assertions, RelayState, unsolicited responses,
 * and single logout in both directions.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const VALID_DIR = path.join(here, 'fixtures', 'saml', 'valid');
const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';

interface ValidFixture {
  scenario: string;
  response: SamlResponseOptions;
  expect: { subject: string; claims: Record<string, string | string[]> };
}

function certBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');
}

function entityOf(name: string): string {
  return `${SAML_PUBLIC_URL}/auth/saml/${name}/metadata`;
}

describe('SAML sign-in against a real IdP', () => {
  let idpA: SamlIdp;
  let idpB: SamlIdp;
  let app: TestApp;
  let metadataDir: string;
  let metadataFile: string;

  before(async () => {
    idpA = await startSamlIdp({ name: 'idp-a', key: 'idp-a' });
    idpB = await startSamlIdp({ name: 'idp-b', key: 'idp-b' });
    metadataDir = mkdtempSync(path.join(tmpdir(), 'kw-saml-'));
    metadataFile = path.join(metadataDir, 'idp-a-metadata.xml');
    writeFileSync(metadataFile, idpA.metadata());
    app = await buildTestApp({
      overrides: samlAppOverrides({
        corp: samlProviderFor(idpA, {
          displayName: 'Contoso SSO',
          spPrivateKey: samlKey('sp-signing').key,
          spCertificate: samlKey('sp-signing').cert,
          decryptionPrivateKey: samlKey('sp-encryption').key,
          decryptionCertificate: samlKey('sp-encryption').cert,
        }),
        partner: samlProviderFor(idpB),
        rotating: samlProviderFor(idpA, {
          idpCertificates: [samlKey('idp-a').cert, samlKey('idp-a-next').cert],
        }),
        fromfile: samlProviderFor(idpA, { idpCertificates: undefined, idpMetadataFile: metadataFile }),
        portal: samlProviderFor(idpA, { allowUnsolicited: true }),
      }),
    });
    const browser = new BrowserSession(app.app);
    for (const name of ['corp', 'rotating', 'fromfile', 'portal']) {
      idpA.trustServiceProvider((await browser.get(`/auth/saml/${name}/metadata`).expect(200)).text);
    }
    const partnerMetadata = (await browser.get('/auth/saml/partner/metadata').expect(200)).text;
    idpB.trustServiceProvider(partnerMetadata);
    // idp-b also knows corp, so it can answer corp's AuthnRequests in the cross-IdP cases.
    idpB.trustServiceProvider((await browser.get('/auth/saml/corp/metadata').expect(200)).text);
  });

  after(async () => {
    await Promise.all([idpA.close(), idpB.close()]);
    rmSync(metadataDir, { recursive: true, force: true });
  });

  async function login(
    browser: BrowserSession,
    provider: string,
    idp: SamlIdp,
    options: SamlResponseOptions = {},
    returnTo = '/app',
  ) {
    const start = await browser
      .get(`/auth/login/${provider}?returnTo=${encodeURIComponent(returnTo)}`)
      .expect(303);
    // Delivered to `idp` whichever IdP the provider names (the cross-IdP cases need that).
    const posted = await idp.login(`${idp.ssoUrl}${new URL(start.headers.location!).search}`, options);
    const response = await browser.post(new URL(posted.action).pathname).type('form').send(formBody(posted));
    return { start, posted, response };
  }

  async function sessionRecord(browser: BrowserSession) {
    const raw = await app.store.get(SESSION_KEY_PREFIX + browser.sessionId());
    assert.ok(raw, 'a session record exists');
    return (JSON.parse(raw) as { auth: { principal: { provider: string; subject: string; claims: object } } })
      .auth;
  }

  function lastAudit(event: string): Record<string, unknown> | undefined {
    return app.logs
      .records()
      .filter((record) => record.audit === true && record.event === event)
      .at(-1);
  }

  describe('SP metadata', () => {
    it('is SAML 2.0 SP metadata in schema order with entity id, ACS, SLO, NameID format and both certificates', async () => {
      // Checked structurally (no metadata XSD ships with the installed validators): every
      // element and attribute the schema requires, the SPSSODescriptor child order it
      // prescribes, and the values an IdP administrator imports.
      const response = await new BrowserSession(app.app).get('/auth/saml/corp/metadata').expect(200);
      assert.match(response.headers['content-type']!, /^application\/samlmetadata\+xml/);
      const document = await parseDomFromString(response.text);
      const root = document.documentElement!;
      assert.equal(root.localName, 'EntityDescriptor');
      assert.equal(root.namespaceURI, MD);
      assert.equal(root.getAttribute('entityID'), entityOf('corp'));

      const descriptors = xpath.selectElements(document, `/*/*[namespace-uri()='${MD}']`);
      assert.deepEqual(
        descriptors.map((element) => element.localName),
        ['SPSSODescriptor'],
      );
      const sp = descriptors[0]!;
      assert.ok(
        sp
          .getAttribute('protocolSupportEnumeration')!
          .split(' ')
          .includes('urn:oasis:names:tc:SAML:2.0:protocol'),
      );
      assert.equal(sp.getAttribute('AuthnRequestsSigned'), 'true');
      assert.equal(sp.getAttribute('WantAssertionsSigned'), 'true');

      // md:SPSSODescriptor content model: KeyDescriptor*, ..., SingleLogoutService*, ..., NameIDFormat*,
      // AssertionConsumerService+, AttributeConsumingService*.
      const order = ['KeyDescriptor', 'SingleLogoutService', 'NameIDFormat', 'AssertionConsumerService'];
      const children = xpath.selectElements(sp, './*').map((element) => element.localName!);
      assert.ok(
        children.every((name) => order.includes(name)),
        `unexpected children: ${children.join(', ')}`,
      );
      const ranks = children.map((name) => order.indexOf(name));
      assert.deepEqual(
        ranks,
        [...ranks].sort((a, b) => a - b),
        `children out of schema order: ${children.join(', ')}`,
      );

      const keys = Object.fromEntries(
        xpath
          .selectElements(sp, './*[local-name()="KeyDescriptor"]')
          .map((descriptor) => [
            descriptor.getAttribute('use'),
            xpath
              .selectElements(
                descriptor,
                `.//*[local-name()='X509Certificate' and namespace-uri()='${DS}']`,
              )[0]
              ?.textContent?.replace(/\s+/g, ''),
          ]),
      );
      assert.deepEqual(keys, {
        signing: certBody(samlKey('sp-signing').cert),
        encryption: certBody(samlKey('sp-encryption').cert),
      });

      const slo = xpath
        .selectElements(sp, './*[local-name()="SingleLogoutService"]')
        .map((element) => [element.getAttribute('Binding'), element.getAttribute('Location')]);
      assert.deepEqual(slo, [
        ['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', `${SAML_PUBLIC_URL}/auth/saml/corp/slo`],
        ['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', `${SAML_PUBLIC_URL}/auth/saml/corp/slo`],
      ]);
      assert.deepEqual(
        xpath.selectElements(sp, './*[local-name()="NameIDFormat"]').map((element) => element.textContent),
        [NAMEID_PERSISTENT],
      );
      const acs = xpath.selectElements(sp, './*[local-name()="AssertionConsumerService"]');
      assert.equal(acs.length, 1);
      assert.equal(acs[0]!.getAttribute('Binding'), 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
      assert.equal(acs[0]!.getAttribute('Location'), `${SAML_PUBLIC_URL}/auth/saml/corp/acs`);
      assert.match(acs[0]!.getAttribute('index') ?? '', /^\d+$/);

      // A second, independent consumer reads the same endpoints.
      const parsed = samlify.ServiceProvider({ metadata: response.text });
      assert.equal(parsed.entityMeta.getEntityID(), entityOf('corp'));
      assert.equal(
        parsed.entityMeta.getAssertionConsumerService(samlify.Constants.wording.binding.post),
        `${SAML_PUBLIC_URL}/auth/saml/corp/acs`,
      );
    });

    it('has no key descriptors and unsigned requests when no SP keys are configured', async () => {
      const response = await new BrowserSession(app.app).get('/auth/saml/partner/metadata').expect(200);
      assert.doesNotMatch(response.text, /KeyDescriptor/);
      assert.match(response.text, /AuthnRequestsSigned="false"/);
      assert.match(response.text, new RegExp(`entityID="${entityOf('partner')}"`));
    });
  });

  describe('SP-initiated round trip', () => {
    const fixtures = readdirSync(VALID_DIR).filter((file) => file.endsWith('.json'));

    for (const file of fixtures) {
      const fixture = JSON.parse(readFileSync(path.join(VALID_DIR, file), 'utf8')) as ValidFixture;
      it(`${file.replace(/\.json$/, '')}: ${fixture.scenario}`, async () => {
        const browser = new BrowserSession(app.app);
        const { response } = await login(browser, 'corp', idpA, fixture.response);
        assert.equal(response.status, 303, JSON.stringify(response.body));
        assert.equal(response.headers.location, '/app');

        const cookie = browser.setCookies['__Host-keywarden']!;
        assert.match(cookie, /; Path=\//);
        assert.match(cookie, /; HttpOnly/);
        assert.match(cookie, /; Secure/);
        assert.match(cookie, /; SameSite=Lax/);
        assert.doesNotMatch(cookie, /Domain=/i);

        const who = await browser.get('/auth/session').expect(200);
        assert.equal(who.body.provider, 'corp');
        assert.equal(who.body.subject, fixture.expect.subject);
        assert.equal(who.body.authMethod, 'session');
        assert.equal(who.body.email, fixture.expect.claims.email);
        assert.equal(who.body.name, fixture.expect.claims.name);

        const record = await sessionRecord(browser);
        assert.deepEqual(record.principal, {
          provider: 'corp',
          subject: fixture.expect.subject,
          kind: 'user',
          claims: fixture.expect.claims,
        });
        assert.equal(lastAudit('login.succeeded')?.subject, fixture.expect.subject);
      });
    }

    it('sends a signed, schema-valid AuthnRequest naming the ACS and asking for a persistent NameID', async () => {
      const browser = new BrowserSession(app.app);
      const { start, response } = await login(browser, 'corp', idpA);
      assert.equal(response.status, 303);
      const location = new URL(start.headers.location!);
      assert.equal(`${location.origin}${location.pathname}`, idpA.ssoUrl);
      assert.equal(location.searchParams.get('RelayState'), '/app');
      assert.equal(location.searchParams.get('SigAlg'), 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
      // The IdP validated it against the SAML protocol XSD and verified its signature with
      // the certificate from keywarden's metadata before answering.
      const request = idpA.requests.at(-1)!;
      assert.equal(request.signed, true);
      assert.match(
        request.xml,
        new RegExp(`AssertionConsumerServiceURL="${SAML_PUBLIC_URL}/auth/saml/corp/acs"`),
      );
      assert.match(request.xml, new RegExp(`Format="${NAMEID_PERSISTENT}"`));
      assert.doesNotMatch(request.xml, /RequestedAuthnContext/);
      assert.equal(await app.store.get(`saml:req:corp:${request.id}`), null, 'the request id is spent');
    });

    it('rotates the session id at every sign-in and deletes the previous record', async () => {
      const browser = new BrowserSession(app.app);
      await login(browser, 'corp', idpA, { nameId: 'rotation-user' });
      const first = browser.sessionId()!;
      await login(browser, 'corp', idpA, { nameId: 'rotation-user' });
      const second = browser.sessionId()!;
      assert.notEqual(second, first);
      assert.equal(await app.store.get(SESSION_KEY_PREFIX + first), null);
      await browser.get('/auth/session').expect(200);
    });

    it('sends the browser to the local landing page for RelayState values that leave the site', async () => {
      for (const relayState of [
        'https://evil.example/x',
        '//evil.example',
        '/\\evil.example',
        'javascript:alert(1)',
      ]) {
        const browser = new BrowserSession(app.app);
        const { response } = await login(browser, 'corp', idpA, { relayState });
        assert.equal(response.status, 303);
        assert.equal(response.headers.location, '/', `RelayState ${relayState}`);
      }
    });
  });

  describe('two IdPs', () => {
    it('signs in through each, with principals namespaced by provider', async () => {
      const a = new BrowserSession(app.app);
      const b = new BrowserSession(app.app);
      assert.equal((await login(a, 'corp', idpA, { nameId: 'same-id' })).response.status, 303);
      assert.equal((await login(b, 'partner', idpB, { nameId: 'same-id' })).response.status, 303);
      assert.equal((await a.get('/auth/session').expect(200)).body.provider, 'corp');
      assert.equal((await b.get('/auth/session').expect(200)).body.provider, 'partner');
    });

    it("refuses the other IdP's response at an ACS, even when it claims to be the right IdP", async () => {
      const browser = new BrowserSession(app.app);
      const honest = await login(browser, 'corp', idpB);
      assert.equal(honest.response.status, 401);
      assert.equal(lastAudit('login.failed')?.reason, 'issuer_mismatch');

      const forged = await login(browser, 'corp', idpB, { issuer: idpA.entityId });
      assert.equal(forged.response.status, 401);
      assert.equal(lastAudit('login.failed')?.reason, 'signature_invalid');
    });
  });

  describe('IdP certificate rotation', () => {
    it('accepts the old and the new certificate while both are configured, and no other', async () => {
      for (const signWith of ['idp-a', 'idp-a-next'] as const) {
        const { response } = await login(new BrowserSession(app.app), 'rotating', idpA, { signWith });
        assert.equal(response.status, 303, `signed with ${signWith}`);
      }
      const { response } = await login(new BrowserSession(app.app), 'corp', idpA, { signWith: 'idp-a-next' });
      assert.equal(response.status, 401, 'corp lists only the old certificate');
      assert.equal(lastAudit('login.failed')?.reason, 'signature_invalid');
    });

    it('reads certificates from the IdP metadata file and picks up a rotated file', async () => {
      assert.equal((await login(new BrowserSession(app.app), 'fromfile', idpA)).response.status, 303);
      const rotated = await login(new BrowserSession(app.app), 'fromfile', idpA, { signWith: 'idp-a-next' });
      assert.equal(rotated.response.status, 401, 'the new key is not trusted before the file says so');

      idpA.useKey('idp-a-next');
      try {
        writeFileSync(metadataFile, idpA.metadata());
        const later = new Date(Date.now() + 5_000);
        utimesSync(metadataFile, later, later);
        assert.equal((await login(new BrowserSession(app.app), 'fromfile', idpA)).response.status, 303);
      } finally {
        idpA.useKey('idp-a');
      }
    });
  });

  it('accepts an encrypted assertion when a decryption key is configured', async () => {
    const browser = new BrowserSession(app.app);
    const { posted, response } = await login(browser, 'corp', idpA, {
      encrypt: true,
      attributes: { email: 'enc@contoso.example' },
    });
    assert.match(posted.xml, /EncryptedAssertion/);
    assert.doesNotMatch(posted.xml, /enc@contoso\.example/);
    assert.equal(response.status, 303);
    assert.equal((await browser.get('/auth/session').expect(200)).body.email, 'enc@contoso.example');
  });

  describe('unsolicited (IdP-initiated) responses', () => {
    it('are accepted only by a provider that allows them, once, with RelayState checked', async () => {
      const posted = await idpA.unsolicited({ sp: entityOf('portal'), relayState: '/dashboard' });
      const browser = new BrowserSession(app.app);
      const accepted = await browser.post('/auth/saml/portal/acs').type('form').send(formBody(posted));
      assert.equal(accepted.status, 303);
      assert.equal(accepted.headers.location, '/dashboard');
      await browser.get('/auth/session').expect(200);

      // Without an AuthnRequest to spend, the assertion id is the only thing stopping a replay.
      const replay = await new BrowserSession(app.app)
        .post('/auth/saml/portal/acs')
        .type('form')
        .send(formBody(posted));
      assert.equal(replay.status, 401);
      assert.equal(lastAudit('saml.replay_rejected')?.reason, 'replay');

      const elsewhere = await idpA.unsolicited({ sp: entityOf('corp') });
      const refused = await new BrowserSession(app.app)
        .post('/auth/saml/corp/acs')
        .type('form')
        .send(formBody(elsewhere));
      assert.equal(refused.status, 401);
      assert.equal(lastAudit('login.failed')?.reason, 'in_response_to_missing');
    });
  });

  describe('single logout', () => {
    it('SP-initiated: logout answers a signed LogoutRequest URL and the IdP answer lands the browser', async () => {
      const browser = new BrowserSession(app.app);
      await login(browser, 'corp', idpA, { nameId: 'leaving-user', sessionIndex: '_idp-session-1' });
      const logout = await browser.post('/auth/logout').set('X-CSRF', '1').expect(200);
      const logoutUrl = new URL(logout.body.logoutUrl);
      assert.equal(`${logoutUrl.origin}${logoutUrl.pathname}`, idpA.sloUrl);
      assert.ok(logoutUrl.searchParams.get('Signature'), 'the LogoutRequest is signed');

      const answer = await idpA.answerLogout(logout.body.logoutUrl);
      assert.equal(answer.nameId, 'leaving-user');
      assert.equal(answer.sessionIndex, '_idp-session-1');
      const back = new URL(answer.responseUrl);
      assert.equal(back.pathname, '/auth/saml/corp/slo');
      const landed = await browser.get(`${back.pathname}${back.search}`);
      assert.equal(landed.status, 303, JSON.stringify(landed.body));
      assert.equal(landed.headers.location, '/');
      await browser.get('/auth/session').expect(401);
    });

    it('IdP-initiated: a signed LogoutRequest ends that user’s sessions only and is answered with a LogoutResponse', async () => {
      const leaving = new BrowserSession(app.app);
      const staying = new BrowserSession(app.app);
      await login(leaving, 'corp', idpA, { nameId: 'idp-logout-user' });
      await login(staying, 'corp', idpA, { nameId: 'other-user' });
      // A CLI token from this user's portal sign-in ends with the IdP logout as well.
      const cliTokens = new CliTokens(app.store, 3600);
      const cli = await cliTokens.issue(
        { provider: 'corp', subject: 'idp-logout-user', kind: 'user', claims: {} },
        'keywarden-cli',
      );

      const url = new URL(idpA.logoutRequestUrl({ nameId: 'idp-logout-user', sp: entityOf('corp') }));
      const frontChannel = new BrowserSession(app.app);
      const answered = await frontChannel.get(`${url.pathname}${url.search}`);
      assert.equal(answered.status, 303, JSON.stringify(answered.body));
      const response = new URL(answered.headers.location!);
      assert.equal(`${response.origin}${response.pathname}`, idpA.sloUrl);
      assert.ok(response.searchParams.get('SAMLResponse'));
      await leaving.get('/auth/session').expect(401);
      await staying.get('/auth/session').expect(200);
      assert.equal(lastAudit('session.revoked')?.subject, 'idp-logout-user');
      assert.equal(await cliTokens.resolve(cli.token), undefined, 'the CLI token was revoked');

      const replay = await frontChannel.get(`${url.pathname}${url.search}`);
      assert.equal(replay.status, 401);
      // The request log keeps the path, never the message or its signature.
      app.logs.assertNoneContain([url.searchParams.get('SAMLRequest')!, url.searchParams.get('Signature')!]);
    });

    it('IdP-initiated with a SessionIndex ends only the session it names', async () => {
      const first = new BrowserSession(app.app);
      const second = new BrowserSession(app.app);
      await login(first, 'corp', idpA, { nameId: 'two-devices', sessionIndex: '_device-1' });
      await login(second, 'corp', idpA, { nameId: 'two-devices', sessionIndex: '_device-2' });
      const url = new URL(
        idpA.logoutRequestUrl({ nameId: 'two-devices', sessionIndex: '_device-1', sp: entityOf('corp') }),
      );
      await new BrowserSession(app.app).get(`${url.pathname}${url.search}`).expect(303);
      await first.get('/auth/session').expect(401);
      await second.get('/auth/session').expect(200);
    });

    it('IdP-initiated over the HTTP-POST binding: signed ends the session, unsigned or SHA-1 does not', async () => {
      const browser = new BrowserSession(app.app);
      await login(browser, 'corp', idpA, { nameId: 'post-binding-user' });
      for (const [options, reason] of [
        [{ signed: false }, 'signature_invalid'],
        [{ sha1: true }, 'weak_algorithm'],
      ] as const) {
        const form = idpA.logoutRequestForm({
          nameId: 'post-binding-user',
          sp: entityOf('corp'),
          ...options,
        });
        const refused = await new BrowserSession(app.app)
          .post(new URL(form.action).pathname)
          .type('form')
          .send(new URLSearchParams({ SAMLRequest: form.SAMLRequest }).toString());
        assert.equal(refused.status, 401);
        assert.equal(lastAudit('logout')?.reason, reason);
      }
      await browser.get('/auth/session').expect(200);

      const form = idpA.logoutRequestForm({ nameId: 'post-binding-user', sp: entityOf('corp') });
      assert.equal(form.action, `${SAML_PUBLIC_URL}/auth/saml/corp/slo`);
      const answered = await new BrowserSession(app.app)
        .post('/auth/saml/corp/slo')
        .type('form')
        .send(new URLSearchParams({ SAMLRequest: form.SAMLRequest }).toString());
      assert.equal(answered.status, 303, JSON.stringify(answered.body));
      assert.ok(new URL(answered.headers.location!).searchParams.get('SAMLResponse'));
      await browser.get('/auth/session').expect(401);
    });

    it('refuses unsigned and SHA-1-signed LogoutRequests and keeps the session', async () => {
      const browser = new BrowserSession(app.app);
      await login(browser, 'corp', idpA, { nameId: 'guarded-user' });
      const cases = [
        { signed: false, reason: 'signature_invalid' },
        { signed: true, sha1: true, reason: 'weak_algorithm' },
      ];
      for (const { reason, ...options } of cases) {
        const url = new URL(
          idpA.logoutRequestUrl({ nameId: 'guarded-user', sp: entityOf('corp'), ...options }),
        );
        const response = await new BrowserSession(app.app).get(`${url.pathname}${url.search}`);
        assert.equal(response.status, 401);
        assert.equal(response.body.code, 'saml_rejected');
        assert.equal(lastAudit('logout')?.reason, reason);
      }
      await browser.get('/auth/session').expect(200);
    });
  });
});
