import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../src/app.ts';
import { createAwsClients } from '../src/aws/clients.ts';
import { redisSchema } from '../src/config/schema.ts';
import { RedisStore } from '../src/store/redis/redis-store.ts';
import type { StateStore } from '../src/store/types.ts';
import { credentialOverrides } from './fixtures/credentials/config.ts';
import { type AwsDouble, DEFAULT_SERVICE_CREDENTIALS, startAwsDouble } from './support/aws-double/index.ts';
import { type JwksIssuer, startJwksIssuer } from './support/jwks-issuer.ts';
import { captureLogs } from './support/logs.ts';
import { type RedisServer, startRedis } from './support/redis-server.ts';
import { testConfig } from './support/test-config.ts';

/**
 * What admin costs a cache-hit `GET /credentials` (issue #11's budget): at most three
 * sequential round trips to Redis — the suspension mark travels with the cache read, and a
 * bearer caller's screening with the route's rate-limit count — and no write at all.
 */

const API = 'https://api.keywarden.test';
const COMMANDS = new Set([
  'get',
  'set',
  'take',
  'delete',
  'increment',
  'touch',
  'hit',
  'hitAll',
  'ttlMs',
  'addToSet',
  'setMembers',
  'removeFromSet',
  'addToIndex',
  'indexEntries',
  'removeFromIndex',
  'tryLock',
]);

interface Trace {
  commands: string[];
  /** Commands issued while none was in flight start a new round trip. */
  roundTrips: number;
}

/** The store, with every command counted and sorted into round trips. */
function counting(store: StateStore): {
  store: StateStore;
  measure<T>(run: () => Promise<T>): Promise<Trace>;
} {
  let inFlight = 0;
  let trace: Trace | undefined;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (!COMMANDS.has(String(property))) return value.bind(target);
      return (...args: unknown[]) => {
        if (trace) {
          if (inFlight === 0) trace.roundTrips += 1;
          trace.commands.push(String(property));
        }
        inFlight += 1;
        const running = (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        const done = () => {
          inFlight -= 1;
        };
        running.then(done, done);
        return running;
      };
    },
  });
  return {
    store: proxy,
    async measure(run) {
      trace = { commands: [], roundTrips: 0 };
      const measured = trace;
      await run();
      trace = undefined;
      return measured;
    },
  };
}

let redis: RedisServer;
let aws: AwsDouble;
let issuer: JwksIssuer;
let redisStore: RedisStore;
let counted: ReturnType<typeof counting>;
let app: Express;

before(async () => {
  [redis, aws, issuer] = await Promise.all([startRedis(), startAwsDouble(), startJwksIssuer()]);
  redisStore = new RedisStore(redisSchema.parse({ url: redis.url, keyPrefix: 'kwhot:' }));
  await redisStore.connect();
  counted = counting(redisStore);
  const config = testConfig({
    ...credentialOverrides({ endpoint: aws.url }),
    rateLimit: { enabled: true },
    guests: { enabled: true },
    server: { trustProxyHops: 1 },
    session: { secret: 'hot-path-session-secret-0123456789abcdef' },
    bearer: { issuers: { mobile: { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: [API] } } },
    admin: { enabled: true, groups: ['ops'] },
  });
  app = await createApp({
    config,
    store: counted.store,
    logger: captureLogs().logger,
    awsClients: createAwsClients(config.aws, { credentials: DEFAULT_SERVICE_CREDENTIALS }),
  });
});

after(async () => {
  await redisStore?.close();
  await Promise.all([redis?.stop(), aws?.close(), issuer?.close()]);
});

const WRITES = [
  'set',
  'take',
  'delete',
  'increment',
  'touch',
  'addToSet',
  'removeFromSet',
  'addToIndex',
  'removeFromIndex',
];

describe('admin on the hot path', () => {
  it('keeps a cache-hit GET /credentials of a bearer caller to three round trips and no writes', async () => {
    const token = await issuer.sign({ aud: API, sub: 'hot-bearer' });
    const vend = () => request(app).get('/credentials').set('Authorization', `Bearer ${token}`);
    const miss = await vend();
    assert.equal(miss.status, 200, JSON.stringify(miss.body));
    for (let index = 0; index < 3; index += 1) {
      let status = 0;
      const trace = await counted.measure(async () => {
        status = (await vend()).status;
      });
      assert.equal(status, 200);
      assert.ok(trace.roundTrips <= 3, `round trips: ${trace.roundTrips} (${trace.commands.join(', ')})`);
      assert.deepEqual(
        trace.commands.filter((command) => WRITES.includes(command)),
        [],
        'nothing written on a cache hit',
      );
      // Default count; the screening mark with the route's two counts (one call); the cache entry with the mark.
      assert.deepEqual([...trace.commands].sort(), ['get', 'get', 'get', 'hitAll', 'hitAll']);
    }
  });

  it('keeps a cache-hit GET /credentials of a cookie session to three round trips and no writes', async () => {
    const created = await request(app)
      .post('/identities/guest')
      .set('X-CSRF', '1')
      .set('X-Forwarded-Proto', 'https')
      .send({ mode: 'session' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const cookie = String(created.headers['set-cookie']).split(';')[0]!;
    const vend = () => request(app).get('/credentials').set('Cookie', cookie).set('X-CSRF', '1');
    assert.equal((await vend()).status, 200);
    for (let index = 0; index < 3; index += 1) {
      let status = 0;
      const trace = await counted.measure(async () => {
        status = (await vend()).status;
      });
      assert.equal(status, 200);
      assert.ok(trace.roundTrips <= 3, `round trips: ${trace.roundTrips} (${trace.commands.join(', ')})`);
      assert.deepEqual(
        trace.commands.filter((command) => WRITES.includes(command)),
        [],
      );
      // Default count and the session; the route's per-IP and per-identity counts (one call); the cache entry with the mark.
      assert.deepEqual([...trace.commands].sort(), ['get', 'get', 'get', 'hitAll', 'hitAll']);
    }
  });
});
