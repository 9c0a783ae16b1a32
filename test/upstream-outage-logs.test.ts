import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { redisSchema } from '../src/config/schema.ts';
import { RedisStore } from '../src/store/redis/redis-store.ts';
import { credentialOverrides, GUEST_ARN, READER_ARN } from './fixtures/credentials/config.ts';
import { type Instance, mergeOverrides, startInstance } from './fixtures/credentials/harness.ts';
import { buildTestApp } from './support/app.ts';
import {
  type AwsDouble,
  DEFAULT_DEVELOPER_PROVIDER_NAME,
  DEFAULT_IDENTITY_POOL_ID,
  startAwsDouble,
} from './support/aws-double/index.ts';
import { type JwksIssuer, startJwksIssuer } from './support/jwks-issuer.ts';
import type { CapturedLogs } from './support/logs.ts';
import { freePort, type RedisServer, startRedis } from './support/redis-server.ts';

/**
 * An expected outage of a dependency (AWS throttling or timing out, Redis down, an IdP or a
 * JWKS unreachable) answers 503 and is logged as one `warn` line naming the upstream error,
 * with no stack; a real 500 is logged at `error` with its stack.
 */

const API = 'https://api.keywarden.test';

/** The error handler's record for one response, and every record of that request. */
function recordsFor(logs: CapturedLogs, response: request.Response) {
  const requestId = response.body.requestId as string;
  assert.ok(requestId, 'the problem names its request id');
  const all = logs.records().filter((record) => record.requestId === requestId);
  const failed = all.find((record) => String(record.msg).startsWith('request failed'));
  assert.ok(failed, `no "request failed" line for ${requestId}`);
  return { all, failed };
}

function assertOutageLine(logs: CapturedLogs, response: request.Response, upstream: RegExp): void {
  assert.equal(response.status, 503);
  assert.ok(response.headers['retry-after']);
  const { all, failed } = recordsFor(logs, response);
  assert.equal(failed.level, 'warn');
  assert.equal(failed.msg, 'request failed: dependency unavailable');
  assert.match(`${failed.upstream} ${failed.upstreamCause ?? ''}`, upstream);
  assert.equal(failed.detail, response.body.detail, 'the detail is what the client was told');
  assert.equal(failed.err, undefined, 'no error object');
  assert.doesNotMatch(JSON.stringify(failed), /"stack"|\\n\s+at /, 'no stack trace');
  assert.deepEqual(
    all.filter((record) => record.level === 'error' || record.level === 'fatal'),
    [],
    'nothing at error level for an expected outage',
  );
}

describe('logs of upstream outages', () => {
  let aws: AwsDouble;
  let jwks: JwksIssuer;
  let kw: Instance;

  before(async () => {
    aws = await startAwsDouble({
      roles: { [READER_ARN]: { maxSessionDuration: 3600 }, [GUEST_ARN]: { maxSessionDuration: 3600 } },
      poolRoles: { authenticated: READER_ARN, unauthenticated: GUEST_ARN },
    });
    jwks = await startJwksIssuer();
    const closedPort = await freePort();
    kw = await startInstance(
      aws,
      mergeOverrides(credentialOverrides({ endpoint: aws.url }), {
        aws: {
          requestTimeoutMs: 300,
          maxAttempts: 2,
          pool: {
            identityPoolId: DEFAULT_IDENTITY_POOL_ID,
            developerProviderName: DEFAULT_DEVELOPER_PROVIDER_NAME,
          },
        },
        cache: { waitTimeoutMs: 2_000 },
        server: { publicUrl: 'https://keywarden.test', trustProxyHops: 1 },
        bearer: { issuers: { mobile: { issuer: jwks.issuer, jwksUri: jwks.jwksUri, audiences: [API] } } },
        auth: {
          providers: {
            corp: {
              kind: 'oidc',
              issuer: `http://127.0.0.1:${closedPort}/down`,
              clientId: 'kw',
              clientSecret: 'client-secret-0123456789abcdef',
              httpTimeoutMs: 500,
            },
          },
        },
      }),
    );
  });

  after(async () => {
    await kw?.close();
    await jwks?.stop();
    await aws?.close();
  });

  async function guestToken(): Promise<string> {
    const created = await request(kw.url).post('/identities/guest');
    assert.equal(created.status, 201);
    return created.body.guestToken as string;
  }

  it('AWS throttling: one warn line naming the AWS error', async () => {
    const token = await guestToken();
    aws.failNext('AssumeRoleWithWebIdentity', 'throttle', 2);
    const response = await request(kw.url).get('/credentials').set('X-Guest-Token', token);
    aws.reset();
    assertOutageLine(kw.logs, response, /^(Throttling|ThrottlingException|TooManyRequestsException) $/);
  });

  it('AWS timing out: one warn line naming the timeout', async () => {
    const token = await guestToken();
    aws.failNext('AssumeRoleWithWebIdentity', 'timeout', 2);
    const response = await request(kw.url).get('/credentials').set('X-Guest-Token', token);
    aws.reset();
    assertOutageLine(kw.logs, response, /^(TimeoutError|RequestTimeout|ETIMEDOUT|ECONNRESET|AbortError) $/);
  });

  it('a JWKS that cannot be reached: one warn line', async () => {
    const token = await jwks.sign({ aud: API });
    await jwks.stop();
    try {
      const response = await request(kw.url).get('/auth/session').set('Authorization', `Bearer ${token}`);
      assertOutageLine(kw.logs, response, /^JwksUnavailableError ECONNREFUSED$/);
    } finally {
      await jwks.start();
    }
  });

  it('an IdP that cannot be reached at sign-in: one warn line', async () => {
    // Behind the TLS-terminating proxy the session cookie needs.
    const response = await request(kw.url).get('/auth/login/corp').set('X-Forwarded-Proto', 'https');
    assertOutageLine(kw.logs, response, /ECONNREFUSED$/);
    assert.match(String(response.body.detail), /identity provider/);
  });

  it('a real 500 (a misconfigured pool) is logged at error, with its stack', async () => {
    const broken = await startInstance(
      aws,
      mergeOverrides(credentialOverrides({ endpoint: aws.url }), {
        aws: { pool: { identityPoolId: 'us-east-1:00000000-dead-4000-8000-000000000000' } },
      }),
    );
    try {
      const response = await request(broken.url).post('/identities/guest');
      assert.equal(response.status, 500);
      const { failed } = recordsFor(broken.logs, response);
      assert.equal(failed.level, 'error');
      assert.equal(failed.msg, 'request failed');
      const err = failed.err as { stack?: string; cause?: { type?: string } };
      assert.match(String(err.stack), /\n\s+at /, 'the stack is kept');
      assert.match(JSON.stringify(err), /ResourceNotFoundException/);
    } finally {
      await broken.close();
    }
  });
});

describe('logs while Redis is down', () => {
  let redis: RedisServer;
  let store: RedisStore;

  before(async () => {
    redis = await startRedis();
    store = new RedisStore(redisSchema.parse({ url: redis.url, commandTimeoutMs: 300, reconnectMaxMs: 200 }));
    await store.connect();
  });
  after(async () => {
    await store.close();
    await redis.stop();
  });

  it('a request that needs the store: one warn line naming StoreUnavailableError', async () => {
    const { app, logs } = await buildTestApp({ store });
    await redis.stop();
    const response = await request(app).get('/anything');
    assertOutageLine(logs, response, /^StoreUnavailableError $/);
    await redis.start();
  });
});
