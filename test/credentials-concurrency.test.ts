import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CognitoIdentityClient, LookupDeveloperIdentityCommand } from '@aws-sdk/client-cognito-identity';
import request from 'supertest';
import { createStore } from '../src/store/create-store.ts';
import { RedisStore } from '../src/store/redis/redis-store.ts';
import type { StateStore } from '../src/store/types.ts';
import { cacheKeyEntry, credentialOverrides } from './fixtures/credentials/config.ts';
import { countCalls, type Instance, mergeOverrides, startInstance } from './fixtures/credentials/harness.ts';
import {
  type AwsDouble,
  DEFAULT_DEVELOPER_PROVIDER_NAME,
  DEFAULT_IDENTITY_POOL_ID,
  DEFAULT_SERVICE_CREDENTIALS,
  startAwsDouble,
} from './support/aws-double/index.ts';
import { BrowserSession } from './support/browser-session.ts';
import { type JwksIssuer, startJwksIssuer } from './support/jwks-issuer.ts';
import { captureLogs } from './support/logs.ts';
import { loginThroughIdp, startOidcProvider, type TestIdp } from './support/oidc-provider.ts';
import { type RedisServer, startRedis, stopRedis } from './support/redis-server.ts';
import { testConfig } from './support/test-config.ts';

/**
 * N concurrent requests for one (identity, role, scope, duration) cost one upstream vend:
 * within one instance (promise single-flight) and across instances sharing Redis (store
 * lock). And under load every answer still belongs to the caller who asked.
 */

const PUBLIC_URL = 'https://keywarden.test';
const CLIENT_ID = 'keywarden-concurrency';
const CLIENT_SECRET = 'concurrency-client-secret-0123456789';
const API = 'https://api.keywarden.test';

let aws: AwsDouble;
let idp: TestIdp;
let issuer: JwksIssuer;
let redis: RedisServer;
const instances: Instance[] = [];
const stores: StateStore[] = [];
const cacheKeys = [cacheKeyEntry('shared')];

function overrides(): Record<string, unknown> {
  return mergeOverrides(credentialOverrides({ endpoint: aws.url, cacheKeys }), {
    aws: {
      // Hundreds of vends at once on a busy 2-core machine: these tests are about who gets
      // what, not about AWS timeouts (credentials-e2e tests those), so the calls may take long.
      requestTimeoutMs: 10_000,
      maxAttempts: 2,
      pool: {
        identityPoolId: DEFAULT_IDENTITY_POOL_ID,
        developerProviderName: DEFAULT_DEVELOPER_PROVIDER_NAME,
      },
    },
    cache: { lockTtlMs: 60_000, waitTimeoutMs: 20_000 },
    server: { publicUrl: PUBLIC_URL, trustProxyHops: 1 },
    session: { secret: 'concurrency-session-secret-0123456789abcdef' },
    auth: {
      providers: {
        corp: { kind: 'oidc', issuer: idp.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      },
    },
    bearer: { issuers: { mobile: { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: [API] } } },
  });
}

async function redisStore(): Promise<StateStore> {
  const config = testConfig({ store: { kind: 'redis', redis: { url: redis.url } } });
  const store = await createStore(config.store, captureLogs().logger);
  stores.push(store);
  return store;
}

async function signIn(browser: BrowserSession, username: string): Promise<void> {
  const { callback } = await loginThroughIdp(browser, '/auth/login/corp?returnTo=/', username);
  assert.equal(callback?.status, 303);
}

before(async () => {
  [aws, idp, issuer, redis] = await Promise.all([
    startAwsDouble(),
    startOidcProvider({
      clients: [
        {
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUris: [`${PUBLIC_URL}/auth/callback/corp`],
        },
      ],
    }),
    startJwksIssuer(),
    startRedis(),
  ]);
});

after(async () => {
  const secrets = [...aws.credentials.values()].flatMap((vended) => [
    vended.secretAccessKey,
    vended.sessionToken,
  ]);
  for (const instance of instances) instance.logs.assertNoneContain(secrets);
  await Promise.all(instances.map((instance) => instance.close()));
  await Promise.all(stores.map((store) => store.close()));
  await Promise.all([idp?.stop(), issuer?.close(), aws?.close()]);
  await stopRedis(redis);
});

describe('credential single flight', () => {
  it('500 simultaneous requests for one signed-in user → one upstream vend', async () => {
    const kw = await startInstance(aws, overrides());
    instances.push(kw);
    const browser = new BrowserSession(kw.url);
    await signIn(browser, 'solo');
    aws.reset();

    const responses = await Promise.all(
      Array.from({ length: 500 }, () => browser.get('/credentials?scope=own').set('X-CSRF', '1')),
    );
    assert.deepEqual([...new Set(responses.map((response) => response.status))], [200]);
    assert.equal(new Set(responses.map((response) => response.body.credentials.accessKeyId)).size, 1);
    assert.equal(countCalls(aws, 'GetOpenIdTokenForDeveloperIdentity'), 1);
    assert.equal(countCalls(aws, 'AssumeRoleWithWebIdentity'), 1);
    const cache = await kw.metrics.registry.getSingleMetricAsString('keywarden_credential_cache_total');
    assert.match(cache, /result="miss"} 1\n/);
  });

  it('two instances sharing one Redis, 250 requests each at once → still one upstream vend', async () => {
    const [first, second] = await Promise.all([
      startInstance(aws, overrides(), await redisStore()),
      startInstance(aws, overrides(), await redisStore()),
    ]);
    instances.push(first!, second!);
    const browser = new BrowserSession(first!.url);
    await signIn(browser, 'shared-user');
    const onSecond = browser.withApp(second!.url);
    assert.equal((await onSecond.get('/auth/session')).status, 200, 'the session is shared through Redis');
    aws.reset();

    const responses = await Promise.all(
      Array.from({ length: 500 }, (_, index) =>
        (index % 2 === 0 ? browser : onSecond).get('/credentials?durationSeconds=1800').set('X-CSRF', '1'),
      ),
    );
    assert.deepEqual([...new Set(responses.map((response) => response.status))], [200]);
    assert.equal(new Set(responses.map((response) => response.body.credentials.accessKeyId)).size, 1);
    assert.equal(countCalls(aws, 'AssumeRoleWithWebIdentity'), 1);
    assert.equal(countCalls(aws, 'GetOpenIdTokenForDeveloperIdentity'), 1);

    // The entry in Redis is encrypted: no part of the credentials is readable there.
    const { credentials } = responses[0]!.body as {
      credentials: { secretAccessKey: string; sessionToken: string };
    };
    const store = stores[0];
    assert.ok(store instanceof RedisStore);
    const client = store.client as {
      keys(pattern: string): Promise<string[]>;
      get(key: string): Promise<string | null>;
    };
    const keys = await client.keys(`${store.keyPrefix}cred:*`);
    assert.ok(keys.length > 0);
    for (const key of keys) {
      const value = (await client.get(key)) ?? '';
      assert.match(value, /^v1\.shared\./, 'sealed with the newest key of the ring');
      assert.ok(!value.includes(credentials.secretAccessKey) && !value.includes(credentials.sessionToken));
    }
  });

  it('200 users interleaved (bearer tokens) → every answer belongs to its own user', async () => {
    const kw = await startInstance(aws, overrides());
    instances.push(kw);
    const users = Array.from({ length: 200 }, (_, index) => `user-${index}`);
    const tokens = new Map(
      await Promise.all(users.map(async (sub) => [sub, await issuer.sign({ sub, aud: API })] as const)),
    );
    const order = [...users, ...users].sort(() => Math.random() - 0.5);
    const responses = await Promise.all(
      order.map(async (sub) => ({
        sub,
        response: await request(kw.url)
          .get('/credentials')
          .set('Authorization', `Bearer ${tokens.get(sub)}`),
      })),
    );
    const byUser = new Map<string, Set<string>>();
    for (const { sub, response } of responses) {
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const vended = aws.credentials.get(response.body.credentials.accessKeyId);
      assert.equal(
        vended?.identityId,
        response.body.identityId,
        'the credentials are those of the identity answered',
      );
      const seen = byUser.get(sub) ?? new Set<string>();
      seen.add(response.body.identityId);
      byUser.set(sub, seen);
    }
    const identities = new Set<string>();
    const cognito = new CognitoIdentityClient({
      endpoint: aws.url,
      region: aws.region,
      credentials: DEFAULT_SERVICE_CREDENTIALS,
    });
    for (const [sub, seen] of byUser) {
      assert.equal(seen.size, 1, `${sub} always got one identity`);
      const [identityId] = [...seen];
      identities.add(identityId!);
      const lookup = await cognito.send(
        new LookupDeveloperIdentityCommand({
          IdentityPoolId: DEFAULT_IDENTITY_POOL_ID,
          DeveloperUserIdentifier: `mobile:${sub}`,
          MaxResults: 10,
        }),
      );
      assert.equal(
        lookup.IdentityId,
        identityId,
        `Cognito maps mobile:${sub} to the identity ${sub} was given`,
      );
    }
    assert.equal(identities.size, 200, 'no two users share an identity');
    cognito.destroy();
  });
});
