import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetOpenIdTokenForDeveloperIdentityCommand,
  type GetOpenIdTokenForDeveloperIdentityCommandInput,
  ResourceConflictException,
} from '@aws-sdk/client-cognito-identity';
import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { Principal } from '../src/auth/principal.ts';
import { createAwsClients } from '../src/aws/clients.ts';
import { type CredentialServices, createCredentialServices } from '../src/broker/credential-services.ts';
import { renderScopePolicy, ScopeVariableError, validateScopeTemplate } from '../src/broker/scope-policy.ts';
import { ConfigError } from '../src/config/load.ts';
import { KeywardenError } from '../src/http/errors.ts';
import { createAuditLog } from '../src/observability/audit.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import {
  BUCKET,
  cacheKeyEntry,
  credentialOverrides,
  DEVELOPER_PROVIDER,
} from './fixtures/credentials/config.ts';
import { mergeOverrides } from './fixtures/credentials/harness.ts';
import { captureLogs } from './support/logs.ts';
import { testConfig } from './support/test-config.ts';

/**
 * Hostile inputs to credential vending found in review: prototype-named scopes, claims that
 * are not well-formed Unicode, two logins naming one guest identity at the same moment, and
 * configuration that would defeat the cache or send credentials over plain HTTP.
 */

const ALICE_IDENTITY = 'us-east-1:11111111-2222-4333-8444-555555555555';
const BOB_IDENTITY = 'us-east-1:22222222-2222-4333-8444-555555555555';
const GUEST_IDENTITY = 'us-east-1:99999999-2222-4333-8444-555555555555';

const alice: Principal = {
  provider: 'corp',
  subject: 'alice',
  kind: 'user',
  claims: { email: 'a@example.com' },
};
const bob: Principal = { provider: 'corp', subject: 'bob', kind: 'user', claims: { email: 'b@example.com' } };

function harness() {
  const config = testConfig(credentialOverrides());
  const logs = captureLogs();
  const clients = createAwsClients(config.aws, {
    credentials: { accessKeyId: 'AKIASERVICE', secretAccessKey: 'service-secret' },
  });
  const cognito = mockClient(clients.cognito);
  const sts = mockClient(clients.sts);
  const services: CredentialServices = createCredentialServices({
    config,
    store: new MemoryStore(),
    logger: logs.logger,
    metrics: createMetrics({ collectProcessMetrics: false }),
    audit: createAuditLog(logs.logger),
    awsClients: clients,
  });
  sts.on(AssumeRoleWithWebIdentityCommand).resolves({
    Credentials: {
      AccessKeyId: 'ASIAMOCK',
      SecretAccessKey: 'mock-secret',
      SessionToken: 'mock-token',
      Expiration: new Date(Date.now() + 3600_000),
    },
  });
  return { services, cognito, sts };
}

async function rejection(promise: Promise<unknown>): Promise<KeywardenError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeywardenError, `expected a KeywardenError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

function configProblems(overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    testConfig(overrides, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return [...error.problems];
  }
  return [];
}

describe('credential requests naming Object.prototype members', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => {
    h.cognito.restore();
    h.sts.restore();
  });

  for (const scope of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    it(`scope=${scope} is an unknown scope (400), not a crash, and AWS is not called`, async () => {
      h = harness();
      h.cognito
        .on(GetOpenIdTokenForDeveloperIdentityCommand)
        .resolves({ IdentityId: ALICE_IDENTITY, Token: 't' });
      const error = await rejection(h.services.broker.getCredentials({ principal: alice, scope }));
      assert.equal(error.status, 400);
      assert.equal(error.code, 'unknown_scope');
      assert.equal(h.cognito.calls().length + h.sts.calls().length, 0);
    });
  }
});

describe('scope variables that are not well-formed Unicode', () => {
  const template = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/\${sub}/*` }],
  };

  it('a lone surrogate is refused as a variable, never rendered as a \\uXXXX escape', () => {
    const variables = { identityId: ALICE_IDENTITY, sub: 'a\ud800b', provider: 'corp', claims: {} };
    assert.throws(() => renderScopePolicy(template, variables, 64), ScopeVariableError);
  });

  it('no value of the longest allowed length renders past the size the load-time check assumed', () => {
    // A template that just fits its worst case: each hostile character at full length must render.
    const maxLength = 64;
    const padded = { ...template, Id: 'x'.repeat(2_048 - 200) };
    while (validateScopeTemplate(padded, maxLength).length > 0) padded.Id = padded.Id.slice(0, -8);
    for (const char of ['*', '?', '$', '"', '\\', 'é', '\u2028', '😀']) {
      const value = char.repeat(Math.floor(maxLength / char.length));
      const variables = { identityId: ALICE_IDENTITY, sub: value, provider: 'corp', claims: {} };
      const policy = renderScopePolicy(padded, variables, maxLength);
      assert.ok(policy.length <= 2_048, `${JSON.stringify(char)} rendered ${policy.length} characters`);
      assert.equal(JSON.parse(policy).Statement.length, 1);
    }
  });

  it('a claim with a lone surrogate makes the scope unavailable (403) before AWS is called', async () => {
    const h = harness();
    try {
      const principal: Principal = { ...alice, claims: { email: '\udc00x@example.com' } };
      const error = await rejection(h.services.broker.getCredentials({ principal, scope: 'byEmail' }));
      assert.equal(error.status, 403);
      assert.equal(error.code, 'scope_not_available');
      assert.equal(h.cognito.calls().length + h.sts.calls().length, 0);
    } finally {
      h.cognito.restore();
      h.sts.restore();
    }
  });
});

describe('two logins linking the same guest identity at once', () => {
  it('each login gets its own identity and token, never the other login’s', async () => {
    const h = harness();
    try {
      // Cognito: the first login to name the guest identity takes it; any other conflicts.
      let owner: string | undefined;
      h.cognito
        .on(GetOpenIdTokenForDeveloperIdentityCommand)
        .callsFake(async (input: GetOpenIdTokenForDeveloperIdentityCommandInput) => {
          await sleep(20);
          const login = input.Logins?.[DEVELOPER_PROVIDER];
          const own = login === 'corp:alice' ? ALICE_IDENTITY : BOB_IDENTITY;
          if (input.IdentityId === GUEST_IDENTITY) {
            owner ??= login;
            if (owner !== login) {
              throw new ResourceConflictException({ message: 'linked to another login', $metadata: {} });
            }
            return { IdentityId: GUEST_IDENTITY, Token: `token-for-${login}` };
          }
          return { IdentityId: owner === login ? GUEST_IDENTITY : own, Token: `token-for-${login}` };
        });
      const [forAlice, forBob] = await Promise.all([
        h.services.identities.openIdTokenForUser(alice, { guestIdentityId: GUEST_IDENTITY }),
        h.services.identities.openIdTokenForUser(bob, { guestIdentityId: GUEST_IDENTITY }),
      ]);
      assert.equal(forAlice.token, 'token-for-corp:alice');
      assert.equal(forBob.token, 'token-for-corp:bob', 'bob must not receive alice’s Cognito token');
      assert.equal(forAlice.identityId, GUEST_IDENTITY);
      assert.equal(forBob.identityId, BOB_IDENTITY);
    } finally {
      h.cognito.restore();
      h.sts.restore();
    }
  });
});

describe('credential configuration found unsafe in review', () => {
  it('a refresh-ahead window as long as the shortest session is refused (every read would vend)', () => {
    const found = configProblems(
      mergeOverrides(credentialOverrides(), { cache: { refreshAheadSeconds: 900 } }),
    );
    assert.ok(
      found.some((problem) => problem.startsWith('cache.refreshAheadSeconds: must be below the shortest')),
      found.join('\n'),
    );
    assert.deepEqual(
      configProblems(mergeOverrides(credentialOverrides(), { cache: { refreshAheadSeconds: 899 } })),
      [],
    );
  });

  it('two cache keys with one id are refused (decryption picks by id)', () => {
    const found = configProblems(
      mergeOverrides(credentialOverrides(), { cache: { keys: [cacheKeyEntry('k1'), cacheKeyEntry('k1')] } }),
    );
    assert.ok(
      found.some((problem) => problem === 'cache.keys.1: key id "k1" is listed twice'),
      found.join('\n'),
    );
  });

  it('plain-http AWS and S3 endpoints are refused in production, allowed in tests', () => {
    const overrides = mergeOverrides(credentialOverrides({ endpoint: 'http://127.0.0.1:4566' }), {
      presign: { buckets: [{ name: BUCKET, region: 'us-east-1', endpoint: 'http://127.0.0.1:4566' }] },
    });
    const found = configProblems(overrides, { NODE_ENV: 'production' });
    assert.ok(
      found.some((problem) => problem.startsWith('aws.endpoint: must be https')),
      found.join('\n'),
    );
    assert.ok(
      found.some((problem) => problem.startsWith('presign.buckets.0.endpoint: must be https')),
      found.join('\n'),
    );
    assert.deepEqual(configProblems(overrides), []);
  });
});

describe('the cross-instance vend lock outlasts the slowest vend', () => {
  it('defaults are consistent: the lock covers 2 AWS calls at their full retry budget', () => {
    const config = testConfig({});
    const { maxAttempts, connectTimeoutMs, requestTimeoutMs } = config.aws;
    assert.ok(config.cache.lockTtlMs >= 2 * maxAttempts * (connectTimeoutMs + requestTimeoutMs));
  });

  it('a lock shorter than the slowest vend is refused with the number it needs', () => {
    const found = configProblems({
      aws: { connectTimeoutMs: 1_000, requestTimeoutMs: 4_000, maxAttempts: 3 },
      cache: { lockTtlMs: 20_000 },
    });
    assert.ok(
      found.some((problem) => problem.startsWith('cache.lockTtlMs: must be at least 30000 ms')),
      found.join('\n'),
    );
  });
});

describe('secrets in production config files', () => {
  it('a Redis URL with a password in a YAML file is refused in production; REDIS_URL may carry it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-review-'));
    try {
      const file = join(dir, 'keywarden.yaml');
      writeFileSync(file, 'store:\n  kind: redis\n  redis:\n    url: redis://app:hunter2@redis:6379\n');
      const found = configProblems({}, { NODE_ENV: 'production', KEYWARDEN_CONFIG: file });
      const problem = found.find((text) => text.startsWith('store.redis.url: a password inside the URL'));
      assert.ok(problem, found.join('\n'));
      assert.doesNotMatch(found.join('\n'), /hunter2/, 'the problem list does not echo the secret');
      writeFileSync(file, 'store:\n  kind: redis\n  redis:\n    url: redis://redis:6379\n');
      const withoutPassword = configProblems({}, { NODE_ENV: 'production', KEYWARDEN_CONFIG: file });
      assert.ok(
        !withoutPassword.some((text) => text.startsWith('store.redis.url')),
        withoutPassword.join('\n'),
      );
      const fromEnv = configProblems(
        {},
        { NODE_ENV: 'production', REDIS_URL: 'redis://app:hunter2@redis:6379' },
      );
      assert.ok(!fromEnv.some((text) => text.startsWith('store.redis.url')), fromEnv.join('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
