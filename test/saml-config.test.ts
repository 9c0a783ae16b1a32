import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { samlKey } from './support/saml-idp.ts';
import { testConfig } from './support/test-config.ts';

const idpCertificate = samlKey('idp-a').cert;
const base = {
  kind: 'saml',
  idpEntityId: 'https://idp.example/metadata',
  ssoUrl: 'https://idp.example/sso',
  idpCertificates: [idpCertificate],
};

function problemsOf(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail('expected a configuration error');
}

function withProvider(provider: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  return testConfig({ auth: { providers: { corp: provider } } }, env);
}

describe('SAML provider configuration', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kw-saml-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads with safe defaults', () => {
    const provider = withProvider(base).auth.providers.corp;
    assert.equal(provider?.kind, 'saml');
    if (provider?.kind !== 'saml') return;
    assert.equal(provider.wantAssertionsSigned, true);
    assert.equal(provider.allowUnsolicited, false);
    assert.equal(provider.signatureAlgorithm, 'sha256');
    assert.equal(provider.acceptedClockSkewMs, 60_000);
    assert.equal(provider.nameIdFormat, 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent');
    assert.ok(
      provider.attributes.groups.includes('http://schemas.microsoft.com/ws/2008/06/identity/claims/groups'),
    );
    assert.ok(
      provider.attributes.email.includes(
        'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
      ),
    );
  });

  it("offers no SHA-1 for keywarden's own signatures", () => {
    assert.match(
      problemsOf(() => withProvider({ ...base, signatureAlgorithm: 'sha1' })).join('\n'),
      /auth\.providers\.corp\.signatureAlgorithm/,
    );
  });

  it('reports every cross-field problem at once', () => {
    const crossField = problemsOf(() =>
      withProvider({
        ...base,
        idpCertificates: undefined,
        wantAssertionsSigned: false,
        spPrivateKey: samlKey('sp-signing').key,
        decryptionCertificate: samlKey('sp-encryption').cert,
      }),
    ).join('\n');
    assert.match(
      crossField,
      /auth\.providers\.corp\.idpCertificates: set idpCertificates or idpMetadataFile/,
    );
    assert.match(crossField, /auth\.providers\.corp\.wantAssertionsSigned: at least one/);
    assert.match(
      crossField,
      /auth\.providers\.corp\.spCertificate: spPrivateKey and spCertificate go together/,
    );
    assert.match(crossField, /auth\.providers\.corp\.decryptionCertificate: decryptionPrivateKey and/);
    assert.doesNotMatch(crossField, /BEGIN PRIVATE KEY/);
  });

  it('refuses a certificate that is not one and both certificate sources at once', () => {
    assert.match(
      problemsOf(() => withProvider({ ...base, idpCertificates: ['not a certificate'] })).join('\n'),
      /idpCertificates\.0: expected a PEM certificate/,
    );
    assert.match(
      problemsOf(() => withProvider({ ...base, idpMetadataFile: '/etc/idp.xml' })).join('\n'),
      /idpMetadataFile: set either idpCertificates or idpMetadataFile, not both/,
    );
  });

  it('reads the SP private keys from *_FILE variables', () => {
    const keyFile = path.join(dir, 'sp.key');
    writeFileSync(keyFile, samlKey('sp-signing').key);
    const provider = withProvider(
      { ...base, spCertificate: samlKey('sp-signing').cert },
      { KEYWARDEN_AUTH__PROVIDERS__CORP__SP_PRIVATE_KEY_FILE: keyFile },
    ).auth.providers.corp;
    assert.ok(provider?.kind === 'saml' && provider.spPrivateKey?.includes('BEGIN PRIVATE KEY'));
  });

  it('refuses private keys in config files and plain-HTTP IdP URLs in production', () => {
    const file = path.join(dir, 'production.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        auth: {
          providers: {
            corp: {
              ...base,
              ssoUrl: 'http://idp.example/sso',
              sloUrl: 'http://idp.example/slo',
              decryptionPrivateKey: samlKey('sp-encryption').key,
              decryptionCertificate: samlKey('sp-encryption').cert,
            },
          },
        },
      }),
    );
    const problems = problemsOf(() =>
      loadConfig({
        env: {
          NODE_ENV: 'production',
          KEYWARDEN_CONFIG: file,
          REDIS_URL: 'redis://127.0.0.1:6379',
          KEYWARDEN_SESSION__SECRET: 'a-session-secret-of-at-least-32-characters',
        },
      }),
    ).join('\n');
    assert.match(
      problems,
      /auth\.providers\.corp\.decryptionPrivateKey: a secret must come from the environment/,
    );
    assert.match(problems, /auth\.providers\.corp\.ssoUrl: must be https in production/);
    assert.match(problems, /auth\.providers\.corp\.sloUrl: must be https in production/);
    assert.doesNotMatch(problems, /BEGIN PRIVATE KEY/);
  });
});
