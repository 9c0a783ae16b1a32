import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import request from 'supertest';
import { redisSchema } from '../src/config/schema.ts';
import { errorHandler } from '../src/http/middleware/error-handler.ts';
import { createRateLimits } from '../src/http/middleware/rate-limit.ts';
import { requestScope } from '../src/http/middleware/request-id.ts';
import { createAuditLog } from '../src/observability/audit.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { RedisStore } from '../src/store/redis/redis-store.ts';
import { buildTestApp } from './support/app.ts';
import { captureLogs } from './support/logs.ts';
import { type RedisServer, startRedis } from './support/redis-server.ts';
import { testConfig } from './support/test-config.ts';

const tightDefault = (points: number, trustProxyHops = 0) => ({
  server: { trustProxyHops },
  rateLimit: { groups: { default: { perIp: { points, windowSeconds: 60 } } } },
});

describe('rate limiting', () => {
  it('answers 429 problem with Retry-After and IETF RateLimit fields past the limit', async () => {
    const { app, logs } = await buildTestApp({ overrides: tightDefault(2) });
    const first = await request(app).get('/x');
    assert.equal(first.status, 404);
    assert.equal(first.headers['ratelimit-policy'], '"default";q=2;w=60');
    assert.match(first.headers.ratelimit ?? '', /^"default";r=1;t=\d+$/);
    await request(app).get('/x');
    const limited = await request(app).get('/x');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'rate_limited');
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    const audit = logs.records().find((record) => record.event === 'rate_limit.exceeded');
    assert.ok(audit, 'the refusal is an audit event');
    assert.equal(audit.audit, true);
  });

  it('does not limit health, readiness or metrics probes', async () => {
    const { app } = await buildTestApp({ overrides: tightDefault(1) });
    for (let index = 0; index < 5; index += 1) assert.equal((await request(app).get('/healthz')).status, 200);
    assert.equal((await request(app).get('/readyz')).status, 200);
  });

  it('keys on the address the trusted proxy saw, so a spoofed X-Forwarded-For cannot reset the count', async () => {
    const { app } = await buildTestApp({ overrides: tightDefault(3, 1) });
    // The client controls everything left of the proxy's own entry; the proxy appends the real address.
    const statuses: number[] = [];
    for (let index = 0; index < 5; index += 1) {
      const response = await request(app).get('/x').set('X-Forwarded-For', `10.9.8.${index}, 203.0.113.7`);
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, [404, 404, 404, 429, 429]);
    const otherClient = await request(app).get('/x').set('X-Forwarded-For', '203.0.113.8');
    assert.equal(otherClient.status, 404, 'another client keeps its own budget');
  });

  it('ignores X-Forwarded-For entirely when no proxy is trusted', async () => {
    const { app } = await buildTestApp({ overrides: tightDefault(2, 0) });
    const statuses: number[] = [];
    for (let index = 0; index < 3; index += 1) {
      statuses.push((await request(app).get('/x').set('X-Forwarded-For', `198.51.100.${index}`)).status);
    }
    assert.deepEqual(statuses, [404, 404, 429]);
  });

  it('limits by identity as well once the caller is known', async () => {
    const config = testConfig({
      rateLimit: {
        groups: {
          default: { perIp: { points: 100, windowSeconds: 60 } },
          credentials: {
            perIp: { points: 100, windowSeconds: 60 },
            perIdentity: { points: 2, windowSeconds: 60 },
          },
        },
      },
    });
    const logs = captureLogs();
    const limits = createRateLimits({
      config,
      store: new MemoryStore(),
      metrics: createMetrics({ collectProcessMetrics: false }),
      audit: createAuditLog(logs.logger),
    });
    const app = express();
    app.use(requestScope());
    app.use((req, _res, next) => {
      const user = req.get('x-test-user');
      if (user) req.scope.principal = { provider: 'test', subject: user, kind: 'user', claims: {} };
      next();
    });
    app.get('/limited', limits('credentials'), (_req, res) => {
      res.json({ ok: true });
    });
    app.use(errorHandler(logs.logger));

    const alice = () => request(app).get('/limited').set('x-test-user', 'alice');
    assert.equal((await alice()).status, 200);
    const second = await alice();
    assert.equal(second.status, 200);
    assert.match(second.headers.ratelimit ?? '', /^"credentials-identity";r=0;/);
    assert.equal((await alice()).status, 429);
    assert.equal((await request(app).get('/limited').set('x-test-user', 'bob')).status, 200);
    assert.throws(() => limits('nonexistent'), /not configured/);
  });
});

describe('RateLimit fields', () => {
  it('describe the policy that refused, and on a passing request the policy closest to its limit', async () => {
    // The issue this test pins: the 31st guest creation from one IP was refused by the guest
    // group's limit but answered `RateLimit-Policy: "default";q=5000`.
    const config = testConfig({
      rateLimit: {
        groups: {
          default: { perIp: { points: 5_000, windowSeconds: 60 } },
          guest: { perIp: { points: 3, windowSeconds: 600 } },
        },
      },
    });
    const logs = captureLogs();
    const limits = createRateLimits({
      config,
      store: new MemoryStore(),
      metrics: createMetrics({ collectProcessMetrics: false }),
      audit: createAuditLog(logs.logger),
    });
    // The app's own order: the default group counted around the session read, then the route's group.
    const app = express();
    app.use(requestScope());
    app.use(limits.start('default'));
    app.use(limits.admit());
    app.post('/identities/guest', limits('guest'), (_req, res) => {
      res.status(201).json({});
    });
    app.get('/x', (_req, res) => {
      res.json({});
    });
    app.use(errorHandler(logs.logger));
    const answers = [];
    for (let index = 0; index < 4; index += 1) answers.push(await request(app).post('/identities/guest'));
    const [first, , third, refused] = answers;
    assert.equal(first!.status, 201, JSON.stringify(first!.body));
    assert.equal(first!.headers['ratelimit-policy'], '"guest";q=3;w=600', 'the tighter of default and guest');
    assert.match(first!.headers.ratelimit ?? '', /^"guest";r=2;t=\d+$/);
    assert.match(third!.headers.ratelimit ?? '', /^"guest";r=0;t=\d+$/);
    assert.equal(refused!.status, 429);
    assert.equal(refused!.headers['ratelimit-policy'], '"guest";q=3;w=600');
    assert.match(refused!.headers.ratelimit ?? '', /^"guest";r=0;t=\d+$/);
    const retryAfter = Number(refused!.headers['retry-after']);
    assert.ok(retryAfter > 60 && retryAfter <= 600, `Retry-After ${retryAfter} is the guest window's`);

    const other = await request(app).get('/x');
    assert.equal(other.headers['ratelimit-policy'], '"default";q=5000;w=60', 'routes outside the group');
  });
});

describe('rate limits shared through Redis', () => {
  let redis: RedisServer;
  const stores: RedisStore[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await redis.stop();
  });

  it('hold across two app instances', async () => {
    const instances = [0, 1].map(() => {
      const store = new RedisStore(redisSchema.parse({ url: redis.url }));
      stores.push(store);
      return store;
    });
    await Promise.all(instances.map((store) => store.connect()));
    const [a, b] = await Promise.all(
      instances.map(async (store) => (await buildTestApp({ overrides: tightDefault(4), store })).app),
    );
    const statuses: number[] = [];
    for (const app of [a, b, a, b, a, b]) statuses.push((await request(app!).get('/x')).status);
    assert.deepEqual(statuses, [404, 404, 404, 404, 429, 429]);
  });
});
