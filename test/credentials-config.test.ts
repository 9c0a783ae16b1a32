import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseCacheKeys } from '../src/config/aws-schema.ts';
import { ConfigError } from '../src/config/load.ts';
import { cacheKeyEntry, credentialOverrides, SCOPES } from './fixtures/credentials/config.ts';
import { mergeOverrides } from './fixtures/credentials/harness.ts';
import { testConfig } from './support/test-config.ts';

function problems(overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    testConfig(overrides, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return [...error.problems];
  }
  return [];
}

const big = (count: number) => ({
  Version: '2012-10-17',
  Statement: Array.from({ length: count }, (_, index) => ({
    Effect: 'Allow',
    Action: 's3:GetObject',
    Resource: `arn:aws:s3:::bucket-${index}/\${sub}/\${claim.email}/*`,
  })),
});

describe('credentials configuration', () => {
  it('accepts the fixture and fills defaults', () => {
    const config = testConfig(credentialOverrides());
    assert.equal(config.aws.pool.flow, 'basic');
    assert.equal(config.aws.retryMode, 'standard');
    assert.equal(config.credentials.ambiguousRoleResolution, 'default');
    assert.equal(config.cache.minRemainingSeconds, 300);
    assert.equal(config.guests.enabled, true);
  });

  it('at most 50 principal tags, as Cognito allows', () => {
    const tags = (count: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, index) => [`tag${index}`, 'email']));
    assert.deepEqual(
      problems(mergeOverrides(credentialOverrides(), { aws: { pool: { principalTags: tags(50) } } })),
      [],
    );
    const found = problems(
      mergeOverrides(credentialOverrides(), { aws: { pool: { principalTags: tags(51) } } }),
    );
    assert.deepEqual(found, ['aws.pool.principalTags: at most 50 principal tags (a Cognito limit)']);
  });

  it('scopes need the basic flow', () => {
    const found = problems(mergeOverrides(credentialOverrides(), { aws: { pool: { flow: 'enhanced' } } }));
    assert.ok(
      found.some((problem) => problem.startsWith('credentials.scopes: scopes need the basic flow')),
      found.join('\n'),
    );
  });

  it('role names in rules, default and guest roles must exist; scopes named in defaultScope too', () => {
    const found = problems(
      mergeOverrides(credentialOverrides(), {
        credentials: {
          defaultRole: 'ghost',
          guestRole: 'phantom',
          defaultScope: 'nowhere',
          roleRules: [{ claim: 'groups', match: 'contains', value: 'x', role: 'missing' }],
        },
      }),
    );
    for (const path of [
      'credentials.defaultRole',
      'credentials.guestRole',
      'credentials.roleRules.0.role',
      'credentials.defaultScope',
    ]) {
      assert.ok(
        found.some((problem) => problem.startsWith(`${path}:`)),
        `${path} in ${found.join('\n')}`,
      );
    }
  });

  it('scope templates: unknown variables, a wrong Version and worst-case size over 2,048 are refused at load', () => {
    const found = problems(
      mergeOverrides(credentialOverrides(), {
        credentials: {
          scopes: {
            typo: {
              policy: {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: `arn:aws:s3:::b/\${identity}/*` }],
              },
            },
            oldVersion: {
              policy: {
                Version: '2008-10-17',
                Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
              },
            },
            huge: { policy: big(6) },
          },
        },
      }),
    );
    assert.ok(
      found.some((problem) => problem.includes(`typo.policy: unknown variable \${identity}`)),
      found.join('\n'),
    );
    assert.ok(found.some((problem) => problem.includes('oldVersion.policy: Version must be')));
    assert.ok(found.some((problem) => /huge\.policy: renders to \d+ characters/.test(problem)));
    // IAM's own variables (with a colon) and its escapes pass through.
    assert.deepEqual(
      problems(
        mergeOverrides(credentialOverrides(), {
          credentials: {
            scopes: {
              ...SCOPES,
              iam: {
                policy: {
                  Version: '2012-10-17',
                  Statement: [
                    {
                      Effect: 'Allow',
                      Action: 's3:*',
                      Resource: `arn:aws:s3:::b/\${cognito-identity.amazonaws.com:sub}/\${*}`,
                    },
                  ],
                },
              },
            },
          },
        }),
      ),
      [],
    );
  });

  it('durations and cache timings are checked against each other', () => {
    const found = problems(
      mergeOverrides(credentialOverrides(), {
        credentials: { defaultDurationSeconds: 7200 },
        cache: { minRemainingSeconds: 900, refreshAheadSeconds: 100 },
      }),
    );
    assert.ok(
      found.some((problem) =>
        problem.startsWith(
          'credentials.defaultDurationSeconds: exceeds the maxSessionDuration of role "reader"',
        ),
      ),
    );
    assert.ok(found.some((problem) => problem.startsWith('cache.minRemainingSeconds:')));
    assert.ok(found.some((problem) => problem.startsWith('cache.refreshAheadSeconds:')));
  });

  it('cache keys come from KEYWARDEN_CACHE__KEYS as a comma list or a YAML list, newest first', () => {
    const [newest, older] = [cacheKeyEntry('k2'), cacheKeyEntry('k1')];
    const fromComma = testConfig(credentialOverrides(), { KEYWARDEN_CACHE__KEYS: `${newest},${older}` });
    assert.deepEqual(
      parseCacheKeys(fromComma.cache.keys!).map((key) => key.id),
      ['k2', 'k1'],
    );
    const fromYaml = testConfig(credentialOverrides(), { KEYWARDEN_CACHE__KEYS: `[${newest}, ${older}]` });
    assert.deepEqual(
      parseCacheKeys(fromYaml.cache.keys!).map((key) => key.key.length),
      [32, 32],
    );
    const short = `k3:${randomBytes(16).toString('base64')}`;
    assert.ok(
      problems(credentialOverrides(), { KEYWARDEN_CACHE__KEYS: short }).some((problem) =>
        problem.startsWith('cache.keys.0:'),
      ),
    );
  });

  it('production needs cache keys (from the environment, never a file) once a pool is configured', () => {
    const production = { NODE_ENV: 'production', KEYWARDEN_SESSION__SECRET: 'x'.repeat(40) };
    const withPool = mergeOverrides(credentialOverrides(), {
      cache: { keys: undefined },
      store: { kind: 'memory', allowMemoryInProduction: true },
    });
    const found = problems(withPool, production);
    assert.ok(
      found.some((problem) => problem.startsWith('cache.keys: required in production')),
      found.join('\n'),
    );
    assert.ok(
      !problems(withPool, { ...production, KEYWARDEN_CACHE__KEYS: cacheKeyEntry() }).some((problem) =>
        problem.startsWith('cache.keys'),
      ),
    );
  });
});
