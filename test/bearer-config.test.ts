import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AnyBearerIssuerConfig,
  type BearerIssuerConfig,
  isJwtIssuer,
} from '../src/config/bearer-schema.ts';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { testConfig } from './support/test-config.ts';

const issuer = (extra: Record<string, unknown> = {}) => ({
  issuer: 'https://idp.example.com',
  audiences: ['https://api.example.com'],
  ...extra,
});

/** A configured entry that must be a JWT issuer. */
function jwtEntry(entry: AnyBearerIssuerConfig | undefined): BearerIssuerConfig {
  assert.ok(entry && isJwtIssuer(entry), 'a jwt issuer entry');
  return entry;
}

function problemsOf(overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    testConfig(overrides, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.problems];
  }
  assert.fail('the configuration was accepted');
}

describe('bearer configuration', () => {
  it('has safe defaults: no issuers, RS256/ES256, at+jwt access tokens, 30 s leeway', () => {
    assert.deepEqual(testConfig().bearer.issuers, {});
    const entry = jwtEntry(testConfig({ bearer: { issuers: { mobile: issuer() } } }).bearer.issuers.mobile);
    assert.deepEqual(entry.algorithms, ['RS256', 'ES256']);
    assert.equal(entry.tokenType, 'access');
    assert.equal(entry.clockToleranceSeconds, 30);
    assert.equal(entry.claims.subject, 'sub');
    assert.deepEqual(entry.jwks, {
      cacheMaxAgeSeconds: 600,
      cooldownSeconds: 30,
      timeoutMs: 3000,
      failureBackoffSeconds: 5,
    });
  });

  it('refuses alg none and every HS* algorithm at load, with a reason', () => {
    const problems = problemsOf({
      bearer: { issuers: { mobile: issuer({ algorithms: ['RS256', 'none', 'HS256', 'hs512', 'XX1'] }) } },
    });
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems[0]!, /bearer\.issuers\.mobile\.algorithms\.1: .*never accepted/);
    assert.match(problems[1]!, /algorithms\.2: HS256 is refused: a symmetric algorithm/);
    assert.match(problems[2]!, /algorithms\.3: hs512 is refused/);
    assert.match(problems[3]!, /algorithms\.4: expected one of RS256/);
  });

  it('needs an audience, a lower-case entry name and a known token type', () => {
    const problems = problemsOf({
      bearer: {
        issuers: {
          Mobile: issuer(),
          nobody: { issuer: 'https://idp.example.com', audiences: [] },
          weird: issuer({ tokenType: 'refresh' }),
        },
      },
    });
    assert.ok(
      problems.some((problem) => /bearer\.issuers\.Mobile/.test(problem)),
      problems.join('\n'),
    );
    assert.ok(problems.some((problem) => /bearer\.issuers\.nobody\.audiences/.test(problem)));
    assert.ok(problems.some((problem) => /bearer\.issuers\.weird\.tokenType/.test(problem)));
  });

  it('refuses two entries accepting the same token type from the same issuer', () => {
    const problems = problemsOf({
      bearer: { issuers: { one: issuer(), two: issuer(), three: issuer({ tokenType: 'id' }) } },
    });
    assert.deepEqual(problems, [
      'bearer.issuers.two.issuer: issuer https://idp.example.com already accepts access tokens under "one"',
    ]);
  });

  it('requires https issuers and JWKS URIs in production', () => {
    const problems = problemsOf(
      {
        store: { kind: 'memory', allowMemoryInProduction: true },
        bearer: {
          issuers: { mobile: issuer({ issuer: 'http://idp.internal', jwksUri: 'http://idp.internal/jwks' }) },
        },
      },
      { NODE_ENV: 'production' },
    );
    const bearerProblems = problems.filter((problem) => problem.startsWith('bearer.'));
    assert.deepEqual(
      bearerProblems.map((problem) => problem.split(':')[0]),
      ['bearer.issuers.mobile.issuer', 'bearer.issuers.mobile.jwksUri'],
    );
  });

  it('reads an issuer entirely from environment variables', () => {
    const config = loadConfig({
      env: {
        NODE_ENV: 'test',
        KEYWARDEN_BEARER__ISSUERS__GOOGLE__ISSUER: 'https://accounts.google.com',
        KEYWARDEN_BEARER__ISSUERS__GOOGLE__TOKEN_TYPE: 'id',
        KEYWARDEN_BEARER__ISSUERS__GOOGLE__AUDIENCES: '[123.apps.googleusercontent.com]',
        KEYWARDEN_BEARER__ISSUERS__GOOGLE__CLOCK_TOLERANCE_SECONDS: '10',
        KEYWARDEN_BEARER__ISSUERS__GOOGLE__PROVIDER: 'google',
      },
    });
    const google = jwtEntry(config.bearer.issuers.google);
    assert.equal(google.issuer, 'https://accounts.google.com');
    assert.equal(google.tokenType, 'id');
    assert.deepEqual(google.audiences, ['123.apps.googleusercontent.com']);
    assert.equal(google.clockToleranceSeconds, 10);
    assert.equal(google.jwksUri, undefined, 'keys come from discovery');
  });

  it('keeps default rate-limit groups when only some are configured, including the per-IP guest group', () => {
    const groups = testConfig({
      rateLimit: { groups: { default: { perIp: { points: 5, windowSeconds: 1 } } } },
    }).rateLimit.groups;
    assert.equal(groups.default?.perIp.points, 5);
    for (const name of ['auth', 'credentials', 'presign', 'guest']) assert.ok(groups[name], name);
    assert.equal(groups.guest?.perIdentity, undefined, 'guest creation has no identity yet');
    assert.ok(groups.credentials?.perIdentity);
  });
});
