import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/load.ts';

function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kw-config-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

function problemsOf(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('the configuration was accepted');
}

describe('configuration', () => {
  it('loads the shipped files on their own with safe defaults', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.env, 'development');
    assert.equal(config.store.kind, 'memory');
    assert.equal(config.server.port, 8080);
    assert.equal(config.server.trustProxyHops, 0);
    assert.equal(config.server.bodyLimit, 64 * 1024);
  });

  it('layers default → <NODE_ENV> → KEYWARDEN_CONFIG → environment, later winning', () => {
    const dir = configDir({
      'default.yaml': 'server:\n  port: 1000\n  bodyLimit: 1kb\nlog:\n  level: info\n',
      'staging.yaml': '',
      'test.yaml': 'server:\n  port: 2000\n',
    });
    const extra = path.join(dir, 'extra.yaml');
    writeFileSync(extra, 'server:\n  port: 3000\n  trustProxyHops: 2\n');
    const config = loadConfig({
      configDir: dir,
      env: {
        NODE_ENV: 'test',
        KEYWARDEN_CONFIG: extra,
        KEYWARDEN_LOG__LEVEL: 'warn',
        KEYWARDEN_SERVER__BODY_LIMIT: '2mb',
      },
    });
    assert.equal(config.server.port, 3000);
    assert.equal(config.server.trustProxyHops, 2);
    assert.equal(config.server.bodyLimit, 2 * 1024 * 1024);
    assert.equal(config.log.level, 'warn');
    assert.equal(loadConfig({ configDir: dir, env: { NODE_ENV: 'test', PORT: '4000' } }).server.port, 4000);
  });

  it('honours REDIS_URL as the usual shortcut for the redis store', () => {
    const config = loadConfig({ env: { REDIS_URL: 'redis://127.0.0.1:6390' } });
    assert.equal(config.store.kind, 'redis');
    assert.equal(config.store.redis.url, 'redis://127.0.0.1:6390');
  });

  it('reads secrets from *_FILE variables', () => {
    const dir = configDir({});
    const secretFile = path.join(dir, 'redis-password');
    writeFileSync(secretFile, 's3cret-from-file\n');
    const config = loadConfig({
      env: { REDIS_URL: 'redis://127.0.0.1:6390', KEYWARDEN_STORE__REDIS__PASSWORD_FILE: secretFile },
    });
    assert.equal(config.store.redis.password, 's3cret-from-file');
    const problems = problemsOf(() =>
      loadConfig({ env: { KEYWARDEN_STORE__REDIS__PASSWORD_FILE: path.join(dir, 'absent') } }),
    );
    assert.ok(
      problems.some((problem) => problem.startsWith('KEYWARDEN_STORE__REDIS__PASSWORD_FILE: cannot read')),
    );
  });

  it('reports every problem at once, each with its key path', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: {
          PORT: 'eighty',
          KEYWARDEN_SERVER__TRUST_PROXY_HOPS: '-1',
          KEYWARDEN_LOG__LEVEL: 'loud',
          KEYWARDEN_SERVER__PUBLICURL: 'x',
        },
      }),
    );
    const paths = problems.map((problem) => problem.split(':')[0]);
    assert.ok(paths.includes('server.port'), problems.join('\n'));
    assert.ok(paths.includes('server.trustProxyHops'), problems.join('\n'));
    assert.ok(paths.includes('log.level'), problems.join('\n'));
    assert.ok(paths.includes('server.publicurl'), `unknown keys are named: ${problems.join('\n')}`);
  });

  it('rejects unknown options so a typo cannot silently fall back to a default', () => {
    const dir = configDir({ 'default.yaml': 'server:\n  trustProxy: 1\n' });
    const problems = problemsOf(() => loadConfig({ configDir: dir, env: {} }));
    assert.deepEqual(problems, ['server.trustProxy: unknown option']);
  });

  it('names the file when YAML does not parse', () => {
    const dir = configDir({ 'default.yaml': 'server: [unclosed\n' });
    const problems = problemsOf(() => loadConfig({ configDir: dir, env: {} }));
    assert.equal(problems.length, 1);
    assert.ok(problems[0]!.startsWith(path.join(dir, 'default.yaml')));
  });

  it('requires the redis address that the chosen mode needs', () => {
    const problems = problemsOf(() => loadConfig({ env: { KEYWARDEN_STORE__KIND: 'redis' } }));
    assert.ok(
      problems.some((problem) => problem.startsWith('store.redis.url:')),
      problems.join('\n'),
    );
    const cluster = problemsOf(() =>
      loadConfig({ env: { KEYWARDEN_STORE__KIND: 'redis', KEYWARDEN_STORE__REDIS__MODE: 'cluster' } }),
    );
    assert.ok(
      cluster.some((problem) => problem.startsWith('store.redis.cluster:')),
      cluster.join('\n'),
    );
  });

  it('refuses the memory store in production unless explicitly allowed', () => {
    const dir = configDir({ 'default.yaml': 'store:\n  kind: memory\n' });
    const problems = problemsOf(() => loadConfig({ configDir: dir, env: { NODE_ENV: 'production' } }));
    assert.ok(
      problems.some((problem) => problem.startsWith('store.kind:')),
      problems.join('\n'),
    );
    const allowed = loadConfig({
      configDir: dir,
      env: {
        NODE_ENV: 'production',
        KEYWARDEN_STORE__ALLOW_MEMORY_IN_PRODUCTION: 'true',
        KEYWARDEN_SESSION__SECRET: 'a-session-secret-of-at-least-32-characters',
      },
    });
    assert.equal(allowed.store.kind, 'memory');
  });

  it('grants admin to nobody by default in production, and refuses an admin section that names nobody', () => {
    const dir = configDir({
      'default.yaml': 'store:\n  kind: redis\n  redis:\n    url: redis://localhost:6379\n',
    });
    const env = {
      NODE_ENV: 'production',
      KEYWARDEN_SESSION__SECRET: 'a-session-secret-of-at-least-32-characters',
      KEYWARDEN_CACHE__KEYS: '[k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=]',
    };
    const shipped = loadConfig({ env: { ...env, REDIS_URL: 'redis://localhost:6379' } });
    assert.equal(shipped.admin.enabled, false, 'the shipped production config enables no admin');
    const nobody = problemsOf(() =>
      loadConfig({ configDir: dir, env: { ...env, KEYWARDEN_ADMIN__ENABLED: 'true' } }),
    );
    assert.ok(
      nobody.some((problem) => problem.startsWith('admin.enabled:')),
      nobody.join('\n'),
    );
    const dangling = problemsOf(() =>
      loadConfig({
        configDir: dir,
        env: {
          ...env,
          KEYWARDEN_ADMIN__ENABLED: 'true',
          KEYWARDEN_ADMIN__PROVIDERS: '[nosuch]',
          KEYWARDEN_ADMIN__BEARER: '[{issuer: nosuch, values: [ops]}]',
        },
      }),
    );
    assert.ok(
      dangling.some((problem) => problem.startsWith('admin.providers.0:')),
      dangling.join('\n'),
    );
    assert.ok(
      dangling.some((problem) => problem.startsWith('admin.bearer.0.issuer:')),
      dangling.join('\n'),
    );
    assert.ok(
      dangling.some((problem) => problem.startsWith('admin.providers:')),
      'providers narrow empty groups',
    );
  });

  it('makes the development IdP user admin an administrator on the embedded defaults only', () => {
    const development = loadConfig({ env: {} });
    assert.equal(development.admin.enabled, true);
    assert.deepEqual(development.admin.groups, ['keywarden-admins']);
    assert.equal(loadConfig({ env: { NODE_ENV: 'test' } }).admin.enabled, false);
  });

  it('refuses secrets written into config files in production', () => {
    const dir = configDir({
      'default.yaml':
        'store:\n  kind: redis\n  redis:\n    url: redis://r:6379\n    password: hunter2hunter2\n',
    });
    const problems = problemsOf(() =>
      loadConfig({
        configDir: dir,
        env: {
          NODE_ENV: 'production',
          KEYWARDEN_SESSION__SECRET: 'a-session-secret-of-at-least-32-characters',
        },
      }),
    );
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^store\.redis\.password: a secret must come from the environment/);
    assert.doesNotMatch(problems[0]!, /hunter2/);
  });

  it('refuses a per-identity limit on the default group, which runs before anyone is authenticated', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: {},
        overrides: {
          rateLimit: {
            groups: {
              default: {
                perIp: { points: 10, windowSeconds: 60 },
                perIdentity: { points: 5, windowSeconds: 60 },
              },
            },
          },
        },
      }),
    );
    assert.deepEqual(problems, [
      'rateLimit.groups.default.perIdentity: the default group applies before authentication, so it can only limit per IP',
    ]);
  });

  it('keeps server.publicUrl without trailing slashes, so URLs derived from it have one slash', () => {
    const config = loadConfig({
      env: {},
      overrides: {
        server: { publicUrl: 'https://keywarden.example/kw//' },
        auth: { devIdp: { enabled: false } },
      },
    });
    assert.equal(config.server.publicUrl, 'https://keywarden.example/kw');
  });

  it('returns a frozen result', () => {
    const config = loadConfig({ env: {} });
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.server));
    assert.throws(() => {
      (config.server as { port: number }).port = 1;
    }, TypeError);
  });
});
