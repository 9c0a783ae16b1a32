import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { redisSchema } from '../src/config/schema.ts';
import { RedisStore } from '../src/store/redis/redis-store.ts';
import { buildTestApp } from './support/app.ts';
import { type RedisServer, startRedis } from './support/redis-server.ts';

function assertProblem(response: request.Response, status: number, code: string) {
  assert.equal(response.status, status);
  assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
  assert.equal(response.body.status, status);
  assert.equal(response.body.code, code);
  assert.equal(response.body.type, `urn:keywarden:problem:${code}`);
  assert.equal(typeof response.body.title, 'string');
  assert.equal(response.body.stack, undefined);
}

describe('HTTP core', async () => {
  const { app, logs } = await buildTestApp({
    overrides: { cors: { origins: ['https://spa.example.com'] }, server: { bodyLimit: '1kb' } },
  });

  after(() => logs.assertNoneContain(['never-log-this-bearer', 'cookie-secret-value']));

  it('answers /healthz and /readyz', async () => {
    const health = await request(app).get('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    assert.equal(health.headers['cache-control'], 'no-store');
    const ready = await request(app).get('/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready', checks: { config: 'ok', store: 'ok' } });
  });

  it('answers unknown paths with a 404 problem', async () => {
    const response = await request(app).get('/no/such/thing');
    assertProblem(response, 404, 'not_found');
    assert.ok(response.body.requestId);
    assert.equal(response.body.requestId, response.headers['x-request-id']);
    // A bearer credential is checked before routing: an invalid one is a 401 anywhere (and never logged).
    const withBearer = await request(app)
      .get('/no/such/thing')
      .set('Authorization', 'Bearer never-log-this-bearer');
    assertProblem(withBearer, 401, 'invalid_token');
  });

  it('shows a browser navigation a generic HTML page, escaped, and API clients the problem document', async () => {
    const navigation = await request(app)
      .get('/no/<script>alert(1)</script>')
      .set('Sec-Fetch-Mode', 'navigate')
      .set('Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
    assert.equal(navigation.status, 404);
    assert.match(navigation.headers['content-type'] ?? '', /^text\/html/);
    assert.match(navigation.text, /<h1>Not Found<\/h1>/);
    assert.match(navigation.text, /Error code: not_found/);
    assert.doesNotMatch(navigation.text, /<script>/);
    assert.equal(navigation.headers['cache-control'], 'no-store');

    const fetched = await request(app).get('/no/such').set('Sec-Fetch-Mode', 'cors').set('Accept', '*/*');
    assertProblem(fetched, 404, 'not_found');
    const noHint = await request(app).get('/no/such').set('Accept', 'text/html');
    assertProblem(noHint, 404, 'not_found');
  });

  it('refuses bodies over the limit with 413 and malformed JSON with 400', async () => {
    const big = await request(app)
      .post('/anything')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ padding: 'x'.repeat(2048) }));
    assertProblem(big, 413, 'payload_too_large');
    const malformed = await request(app)
      .post('/anything')
      .set('Content-Type', 'application/json')
      .send('{"a":');
    assertProblem(malformed, 400, 'malformed_body');
  });

  it('keeps a sane incoming request id and replaces a hostile one', async () => {
    const kept = await request(app).get('/healthz').set('X-Request-Id', 'trace-1234abcd');
    assert.equal(kept.headers['x-request-id'], 'trace-1234abcd');
    const replaced = await request(app).get('/healthz').set('X-Request-Id', 'x'.repeat(300));
    assert.match(replaced.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
  });

  it('sets security headers: every header helmet itself sets, on every answer', async () => {
    // keywarden sets helmet's headers from a list made once at start-up; compare with helmet
    // running on a real response, so a helmet upgrade cannot silently drift from the list.
    const reference = express();
    reference.use(helmet());
    reference.get('/', (_req, res) => {
      res.end();
    });
    const expected = (await request(reference).get('/')).headers;
    const helmetNames = Object.keys(expected).filter(
      (name) => !['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(name),
    );
    assert.ok(helmetNames.length >= 10, helmetNames.join());
    for (const path of ['/healthz', '/no/such/page']) {
      const response = await request(app).get(path);
      for (const name of helmetNames)
        assert.equal(response.headers[name], expected[name], `${path}: ${name}`);
      assert.equal(response.headers['x-content-type-options'], 'nosniff');
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.equal(response.headers['x-powered-by'], undefined);
    }
  });

  it('allows CORS with credentials only for configured origins', async () => {
    const allowed = await request(app)
      .options('/credentials')
      .set('Origin', 'https://spa.example.com')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'x-csrf,content-type');
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://spa.example.com');
    assert.equal(allowed.headers['access-control-allow-credentials'], 'true');
    assert.match(allowed.headers['access-control-allow-headers'] ?? '', /X-CSRF/i);

    const denied = await request(app)
      .options('/credentials')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'POST');
    assert.equal(denied.headers['access-control-allow-origin'], undefined);
    assert.equal(denied.headers['access-control-allow-credentials'], undefined);
  });

  it('exposes Prometheus metrics with a duration histogram by route template and status', async () => {
    await request(app).get('/healthz');
    await request(app).get('/no/such/42');
    const response = await request(app).get('/metrics');
    assert.equal(response.status, 200);
    assert.match(
      response.text,
      /keywarden_http_request_duration_seconds_bucket\{[^}]*route="\/healthz",status="200"/,
    );
    assert.match(
      response.text,
      /keywarden_http_request_duration_seconds_count\{[^}]*route="unmatched",status="404"/,
    );
    assert.doesNotMatch(response.text, /no\/such\/42/, 'raw paths are not labels');
    assert.match(response.text, /keywarden_process_cpu_user_seconds_total/);
  });

  it('does not leak secrets from request headers into logs', async () => {
    await request(app)
      .get('/healthz?code=cookie-secret-value')
      .set('Cookie', '__Host-kw=cookie-secret-value');
    await request(app).get('/no/such?state=abc&code=cookie-secret-value');
    const urls = logs.records().flatMap((record) => {
      const req = record.req as { url?: string } | undefined;
      return req?.url ? [req.url] : [];
    });
    assert.ok(
      urls.some((url) => url.startsWith('/no/such?state=%5Bredacted%5D')),
      urls.join('\n'),
    );
  });
});

describe('readiness follows the store', () => {
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

  it('reports 503 with Retry-After while Redis is down, and 200 once it is back', async () => {
    const { app } = await buildTestApp({ store });
    assert.equal((await request(app).get('/readyz')).status, 200);
    await redis.stop();
    const down = await request(app).get('/readyz');
    assert.equal(down.status, 503);
    assert.equal(down.headers['retry-after'], '5');
    assert.equal(down.body.checks.store, 'failing');
    assert.equal((await request(app).get('/healthz')).status, 200, 'liveness does not depend on Redis');
    const limited = await request(app).get('/anything');
    assert.equal(limited.status, 503, 'a request that needs state is refused, not served unchecked');
    assert.equal(limited.body.code, 'service_unavailable');
    assert.ok(limited.headers['retry-after']);

    await redis.start();
    const deadline = Date.now() + 10_000;
    while ((await request(app).get('/readyz')).status !== 200) {
      assert.ok(Date.now() < deadline, 'readiness did not recover');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});
