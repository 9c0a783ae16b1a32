import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/load.ts';

/** The auth and session config sections: every refusal names its path. */

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function configDir(yaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kw-oidc-config-'));
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

const corp = { kind: 'oidc', issuer: 'https://login.example.com', clientId: 'kw', clientSecret: 's' };
const PROD = {
  NODE_ENV: 'production',
  REDIS_URL: 'redis://127.0.0.1:6379',
  KEYWARDEN_SESSION__SECRET: 'x'.repeat(40),
};

describe('auth and session configuration', () => {
  it('reads client secrets from the environment, by provider name', () => {
    const config = loadConfig({
      configDir: configDir(
        'auth:\n  providers:\n    corp:\n      kind: oidc\n      issuer: https://login.example.com\n      clientId: kw\n',
      ),
      env: { ...PROD, KEYWARDEN_AUTH__PROVIDERS__CORP__CLIENT_SECRET: 'from-env' },
    });
    const provider = config.auth.providers.corp;
    assert.equal(provider?.kind === 'oidc' && provider.clientSecret, 'from-env');
  });

  it('refuses a client secret written in a config file in production', () => {
    const dir = configDir(
      'auth:\n  providers:\n    corp:\n      kind: oidc\n      issuer: https://login.example.com\n      clientId: kw\n      clientSecret: hunter2hunter2\n',
    );
    const problems = problemsOf(() => loadConfig({ configDir: dir, env: PROD }));
    assert.ok(
      problems.some((problem) =>
        problem.startsWith('auth.providers.corp.clientSecret: a secret must come from the environment'),
      ),
      problems.join('\n'),
    );
    assert.ok(problems.every((problem) => !problem.includes('hunter2')));
  });

  it('refuses provider names that cannot appear in URLs and env var names', () => {
    for (const name of ['Corp', 'corp-1', '1corp', 'corp_a']) {
      const problems = problemsOf(() =>
        loadConfig({ env: { NODE_ENV: 'test' }, overrides: { auth: { providers: { [name]: corp } } } }),
      );
      assert.ok(
        problems.some((problem) => problem.startsWith(`auth.providers.${name}`)),
        problems.join('\n'),
      );
    }
  });

  it('refuses bad provider entries, each with its path', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: { NODE_ENV: 'test' },
        overrides: {
          auth: {
            providers: {
              nosecret: { ...corp, clientSecret: undefined },
              nokey: { ...corp, clientAuthMethod: 'private_key_jwt' },
              params: { ...corp, authParams: { state: 'fixed', prompt: 'login' } },
              noopenid: { ...corp, scopes: ['profile'] },
            },
          },
        },
      }),
    );
    const expect = (prefix: string) =>
      assert.ok(
        problems.some((problem) => problem.startsWith(prefix)),
        `${prefix}\n${problems.join('\n')}`,
      );
    expect(
      'auth.providers.nosecret.clientSecret: required for client_secret_basic (KEYWARDEN_AUTH__PROVIDERS__NOSECRET__CLIENT_SECRET)',
    );
    expect('auth.providers.nokey.privateKey: required for private_key_jwt');
    expect('auth.providers.params.authParams: may not set');
    expect('auth.providers.noopenid.scopes: must include openid');
  });

  it('refuses plain-HTTP issuers, a missing session secret and insecure cookies in production', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: { NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379' },
        overrides: {
          auth: {
            providers: { corp: { ...corp, clientSecret: undefined, issuer: 'http://login.example.com' } },
          },
          session: { insecureDevCookies: true },
        },
      }),
    );
    for (const prefix of [
      'auth.providers.corp.issuer: must be https',
      'session.secret: required in production',
      'session.insecureDevCookies:',
    ]) {
      assert.ok(
        problems.some((problem) => problem.startsWith(prefix)),
        `${prefix}\n${problems.join('\n')}`,
      );
    }
  });

  it('refuses an absolute timeout shorter than the idle one, and a cookie without __Host-', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: { NODE_ENV: 'test' },
        overrides: { session: { idleTimeoutMs: 60_000, absoluteTimeoutMs: 1_000, cookieName: 'sid' } },
      }),
    );
    assert.ok(problems.some((problem) => problem.startsWith('session.absoluteTimeoutMs:')));
    assert.ok(problems.some((problem) => problem.startsWith('session.cookieName: must start with __Host-')));
  });

  it('refuses a landing page that is not a local path', () => {
    for (const landingPath of ['https://evil.example', '//evil.example', '/\\evil.example', 'home']) {
      const problems = problemsOf(() =>
        loadConfig({ env: { NODE_ENV: 'test' }, overrides: { auth: { landingPath } } }),
      );
      assert.ok(
        problems.some((problem) => problem.startsWith('auth.landingPath:')),
        landingPath,
      );
    }
  });
});
