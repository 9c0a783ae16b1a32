import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader, exportPKCS8, generateKeyPair, jwtVerify } from 'jose';
import { normaliseSubject, principalFromDocument } from '../src/auth/document-claims.ts';
import { parseDocumentPath, readDocument } from '../src/auth/document-path.ts';
import { SignedClientSecret } from '../src/auth/oidc/signed-client-secret.ts';
import { LOGIN_PRESETS } from '../src/auth/provider-presets.ts';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { documentClaimsSchema } from '../src/config/oauth2-schema.ts';
import { testConfig } from './support/test-config.ts';

/**
 * Social sign-in configuration: a few lines per provider through presets, every refusal named
 * by its path, secrets only from the environment in production; and the pieces the presets
 * rest on — document paths, subject normalisation, the claim mapping, Apple's client secret.
 */

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function configDir(yaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kw-social-config-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'default.yaml'), yaml);
  return dir;
}

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.problems];
  }
  assert.fail('expected a configuration error');
}

const PROD = {
  NODE_ENV: 'production',
  REDIS_URL: 'redis://127.0.0.1:6379',
  KEYWARDEN_SESSION__SECRET: 'x'.repeat(40),
};

const appleKeyPem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();

describe('social sign-in configuration', () => {
  it('configures github, facebook and apple with a few lines each (the docs example), secrets from the environment', () => {
    const dir = configDir(
      [
        'auth:',
        '  providers:',
        '    github: { preset: github, clientId: Iv1.0123456789abcdef }',
        '    facebook: { preset: facebook, clientId: "1234567890" }',
        '    apple:',
        '      preset: apple',
        '      clientId: com.example.web',
        '      signedClientSecret: { teamId: ABCDE12345, keyId: XYZ987ZYX1 }',
        'bearer:',
        '  issuers:',
        '    facebook: { kind: facebook, appId: "1234567890" }',
        '    github: { kind: github, clientId: Iv1.0123456789abcdef }',
      ].join('\n'),
    );
    const keyFile = path.join(dir, 'AuthKey_XYZ987ZYX1.p8');
    writeFileSync(keyFile, appleKeyPem());
    const config = loadConfig({
      configDir: dir,
      env: {
        ...PROD,
        KEYWARDEN_AUTH__PROVIDERS__GITHUB__CLIENT_SECRET: 'gh-secret',
        KEYWARDEN_AUTH__PROVIDERS__FACEBOOK__CLIENT_SECRET: 'fb-secret',
        KEYWARDEN_AUTH__PROVIDERS__APPLE__SIGNED_CLIENT_SECRET__PRIVATE_KEY_FILE: keyFile,
        KEYWARDEN_BEARER__ISSUERS__FACEBOOK__APP_SECRET: 'fb-secret',
        KEYWARDEN_BEARER__ISSUERS__GITHUB__CLIENT_SECRET: 'gh-secret',
      },
    });
    const { github, facebook, apple } = config.auth.providers;
    assert.equal(github?.kind, 'oauth2');
    assert.equal(github.kind === 'oauth2' && github.userInfo.url, 'https://api.github.com/user');
    assert.equal(github.displayName, 'GitHub');
    assert.equal(facebook?.kind === 'oauth2' && facebook.userInfo.appSecretProof, true);
    assert.equal(apple?.kind, 'oidc');
    assert.equal(apple.kind === 'oidc' && apple.responseMode, 'form_post');
    assert.equal(apple.kind === 'oidc' && apple.signedClientSecret?.audience, 'https://appleid.apple.com');
    assert.match(String(apple.kind === 'oidc' && apple.signedClientSecret?.privateKey), /BEGIN PRIVATE KEY/);
    const mobile = config.bearer.issuers.github;
    assert.equal(
      mobile?.kind === 'github' && mobile.checkTokenUrl,
      'https://api.github.com/applications/{clientId}/token',
    );
    assert.deepEqual(mobile?.kind === 'github' && Object.keys(mobile.userInfo.extraCalls), [
      'emails',
      'orgs',
    ]);
  });

  it('lets an entry override one part of a preset and keeps the rest', () => {
    const config = testConfig({
      auth: {
        providers: {
          ghe: {
            preset: 'github',
            displayName: 'GitHub Enterprise',
            clientId: 'x',
            clientSecret: 's',
            scopes: ['read:user', 'user:email', 'read:org'],
            userInfo: { url: 'https://ghe.example.com/api/v3/user' },
          },
        },
      },
    });
    const ghe = config.auth.providers.ghe;
    assert.ok(ghe?.kind === 'oauth2');
    assert.equal(ghe.displayName, 'GitHub Enterprise');
    assert.deepEqual(ghe.scopes, ['read:user', 'user:email', 'read:org'], 'a list is replaced, not merged');
    assert.equal(ghe.userInfo.url, 'https://ghe.example.com/api/v3/user');
    assert.equal(
      ghe.userInfo.headers.Accept,
      'application/vnd.github+json',
      'the rest of the object is kept',
    );
    assert.equal(ghe.claims.email, 'emails[primary=true][verified=true].email');
  });

  it('every preset is a valid configuration on its own, given a client id and secret (and an issuer for microsoft)', () => {
    for (const preset of Object.keys(LOGIN_PRESETS)) {
      const entry: Record<string, unknown> = { preset, clientId: 'client', clientSecret: 'secret' };
      if (preset === 'microsoft')
        entry.issuer = 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0';
      const config = testConfig({ auth: { providers: { p: entry } } });
      assert.ok(config.auth.providers.p, preset);
    }
  });

  it('names every problem: unknown preset, missing secrets, a bad Apple key, http in production', () => {
    assert.ok(
      problemsOf(() => testConfig({ auth: { providers: { a: { preset: 'myspace', clientId: 'x' } } } })).some(
        (problem) => problem.startsWith('auth.providers.a.preset: unknown preset "myspace"'),
      ),
    );
    const problems = problemsOf(() =>
      testConfig({
        auth: {
          providers: {
            gh: { preset: 'github', clientId: 'x' },
            apple: {
              preset: 'apple',
              clientId: 'x',
              signedClientSecret: { teamId: 'T', keyId: 'K', privateKey: 'not a key' },
            },
            rsa: {
              preset: 'apple',
              clientId: 'x',
              signedClientSecret: {
                teamId: 'T',
                keyId: 'K',
                privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 })
                  .privateKey.export({ type: 'pkcs8', format: 'pem' })
                  .toString(),
              },
            },
            half: { preset: 'apple', clientId: 'x', signedClientSecret: { teamId: 'T' } },
            query: { preset: 'apple', clientId: 'x', clientSecret: 's', responseMode: 'query' },
          },
        },
        bearer: { issuers: { fb: { kind: 'facebook', appId: '123' } } },
      }),
    );
    const expect = (prefix: string) =>
      assert.ok(
        problems.some((problem) => problem.startsWith(prefix)),
        `${prefix}\n${problems.join('\n')}`,
      );
    expect('auth.providers.gh.clientSecret: required (KEYWARDEN_AUTH__PROVIDERS__GH__CLIENT_SECRET)');
    expect('auth.providers.apple.signedClientSecret.privateKey: is not a PEM private key');
    expect('auth.providers.rsa.signedClientSecret.privateKey: must be an EC P-256 key');
    expect('auth.providers.half.signedClientSecret.keyId: required');
    expect('auth.providers.query.firstSignInUserField: the IdP posts it only with responseMode form_post');
    expect('bearer.issuers.fb.appSecret: required (KEYWARDEN_BEARER__ISSUERS__FB__APP_SECRET)');
    assert.ok(!problems.some((problem) => problem.includes('BEGIN')), 'a key is never quoted');

    const production = problemsOf(() =>
      loadConfig({
        configDir: configDir(
          [
            'auth:',
            '  providers:',
            '    gh: { preset: github, clientId: x, tokenEndpoint: "http://github.internal/token" }',
            'bearer:',
            '  issuers:',
            '    corp: { kind: introspection, introspectionEndpoint: "http://idp.internal/introspect", clientId: kw }',
          ].join('\n'),
        ),
        env: {
          ...PROD,
          KEYWARDEN_AUTH__PROVIDERS__GH__CLIENT_SECRET: 's',
          KEYWARDEN_BEARER__ISSUERS__CORP__CLIENT_SECRET: 's',
        },
      }),
    );
    assert.ok(
      production.includes('auth.providers.gh.tokenEndpoint: must be https in production'),
      production.join('\n'),
    );
    assert.ok(
      production.some((problem) =>
        problem.startsWith('bearer.issuers.corp.introspectionEndpoint: must be https in production'),
      ),
      production.join('\n'),
    );
  });

  it('refuses provider and bearer secrets written in a config file in production', () => {
    const problems = problemsOf(() =>
      loadConfig({
        configDir: configDir(
          [
            'auth:',
            '  providers:',
            '    apple: { preset: apple, clientId: x, signedClientSecret: { teamId: T, keyId: K, privateKey: inline } }',
            'bearer:',
            '  issuers:',
            '    fb: { kind: facebook, appId: "1", appSecret: hunter2hunter2 }',
          ].join('\n'),
        ),
        env: PROD,
      }),
    );
    for (const secret of [
      'auth.providers.apple.signedClientSecret.privateKey',
      'bearer.issuers.fb.appSecret',
    ]) {
      assert.ok(
        problems.some((problem) => problem.startsWith(`${secret}: a secret must come from the environment`)),
        `${secret}\n${problems.join('\n')}`,
      );
    }
  });

  it('keeps reading a bearer entry without kind as a JWT issuer', () => {
    const entry = testConfig({
      bearer: { issuers: { mobile: { issuer: 'https://idp.example.com', audiences: ['api'] } } },
    }).bearer.issuers.mobile;
    assert.equal(entry?.kind, 'jwt');
  });
});

describe('document paths and the claim mapping', () => {
  const document = {
    id: 101,
    'cognito:groups': ['exact'],
    data: { id: '42', name: 'Nested' },
    emails: [
      { email: 'old@example.test', primary: false, verified: true },
      { email: 'main@example.test', primary: true, verified: true },
      { email: 'typo@example.test', primary: false, verified: false },
    ],
    orgs: [{ login: 'acme' }, { login: 'widgets' }, { name: 'no login' }],
  };

  it('reads properties, nested paths, every element, and filtered elements', () => {
    assert.deepEqual(readDocument(document, 'id'), [101]);
    assert.deepEqual(readDocument(document, 'data.id'), ['42']);
    assert.deepEqual(readDocument(document, 'cognito:groups'), [['exact']]);
    assert.deepEqual(readDocument(document, 'orgs[].login'), ['acme', 'widgets']);
    assert.deepEqual(readDocument(document, 'emails[verified=true].email'), [
      'old@example.test',
      'main@example.test',
    ]);
    assert.deepEqual(readDocument(document, 'emails[primary=true][verified=true].email'), [
      'main@example.test',
    ]);
    assert.deepEqual(readDocument(document, 'emails[primary=false][verified=false].email'), [
      'typo@example.test',
    ]);
    assert.deepEqual(readDocument(document, 'missing.path'), []);
    assert.deepEqual(readDocument(document, 'data[].id'), [], 'an object is not a list');
  });

  it('never reaches the prototype chain, and refuses malformed paths', () => {
    assert.deepEqual(readDocument(document, '__proto__.polluted'), []);
    assert.deepEqual(readDocument(document, 'constructor.name'), []);
    for (const bad of ['', 'a..b', 'a.', '.a', 'a[', 'a]', 'a[b]', 'a[[]]', 'x'.repeat(300)]) {
      assert.equal(parseDocumentPath(bad), undefined, bad);
    }
    assert.ok(parseDocumentPath('emails[domain=example.com].email'), 'a dot inside a selector value');
  });

  it('normalises ids: a number and the same number as text are one subject; unsafe numbers and junk are refused', () => {
    assert.equal(normaliseSubject(12345), '12345');
    assert.equal(normaliseSubject('12345'), '12345');
    assert.equal(normaliseSubject(2 ** 53), undefined, 'past 2^53 JSON has already lost digits');
    for (const junk of [1.5, -1, Number.NaN, '', 'a\nb', true, null, {}, ['1'], 'x'.repeat(256)]) {
      assert.equal(normaliseSubject(junk), undefined, JSON.stringify(junk));
    }
  });

  it('maps a document to a principal only with exactly one usable subject, and keeps only verified email', () => {
    const mapping = documentClaimsSchema.parse({
      subject: 'id',
      email: 'emails[primary=true].email',
      emailVerified: 'emails[primary=true].verified',
      extra: { orgs: 'orgs[].login', nested: 'data.name' },
    });
    const principal = principalFromDocument('github', mapping, document);
    assert.equal(principal?.subject, '101');
    assert.equal(principal?.claims.email, 'main@example.test');
    assert.deepEqual(principal?.claims.orgs, ['acme', 'widgets']);
    assert.equal(principal?.claims.nested, 'Nested');

    const unverified = { ...document, emails: [{ email: 'x@example.test', primary: true, verified: false }] };
    assert.equal(principalFromDocument('github', mapping, unverified)?.claims.email, undefined);
    const withoutOrgs = principalFromDocument('github', mapping, { ...document, orgs: [] });
    assert.equal(withoutOrgs?.claims.orgs, undefined, 'nothing found leaves the claim out');

    assert.equal(principalFromDocument('github', mapping, { login: 'no-id' }), undefined);
    const fanOut = documentClaimsSchema.parse({ subject: 'emails[].email' });
    assert.equal(principalFromDocument('x', fanOut, document), undefined, 'several subjects are none');
  });
});

describe("Apple's signed client secret", () => {
  it('is an ES256 JWT with the documented claims, kept until 90 % of its life and then remade', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    let now = Date.UTC(2026, 0, 1);
    const lifetimeSeconds = 15_777_000;
    const secrets = new SignedClientSecret(
      {
        teamId: 'TEAM123456',
        keyId: 'KEY7654321',
        privateKey: await exportPKCS8(privateKey),
        clientId: 'com.example.web',
        audience: 'https://appleid.apple.com',
        lifetimeSeconds,
      },
      () => now,
    );
    const first = await secrets.current();
    assert.deepEqual(decodeProtectedHeader(first), { alg: 'ES256', kid: 'KEY7654321' });
    const { payload } = await jwtVerify(first, publicKey, {
      algorithms: ['ES256'],
      issuer: 'TEAM123456',
      subject: 'com.example.web',
      audience: 'https://appleid.apple.com',
      currentDate: new Date(now),
    });
    assert.equal(payload.iat, now / 1000);
    assert.equal(payload.exp, now / 1000 + lifetimeSeconds, 'six months, Apple’s limit');

    now += lifetimeSeconds * 1000 * 0.89;
    assert.equal(await secrets.current(), first, 'still fresh: the same secret, no signing');

    now += lifetimeSeconds * 1000 * 0.02; // 91 % of the way: near expiry
    const second = await secrets.current();
    assert.notEqual(second, first);
    const renewed = decodeJwt(second);
    assert.equal(renewed.iat, Math.floor(now / 1000));
    assert.ok((renewed.exp ?? 0) - now / 1000 > lifetimeSeconds * 0.99, 'a full lifetime ahead again');
    assert.ok((decodeJwt(first).exp ?? 0) > now / 1000, 'renewed before the old one ran out, never after');
  });
});
