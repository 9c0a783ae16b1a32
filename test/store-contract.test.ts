import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisConfig } from '../src/config/schema.ts';
import { redisSchema } from '../src/config/schema.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { RedisStore } from '../src/store/redis/redis-store.ts';
import { type StateStore, StoreUnavailableError } from '../src/store/types.ts';
import {
  type RedisCluster,
  type RedisSentinel,
  type RedisServer,
  startRedis,
  startRedisCluster,
  startRedisSentinel,
} from './support/redis-server.ts';

/**
 * One contract, every implementation: whatever the service relies on from a store must hold
 * for memory, Redis, Redis Cluster and Redis behind Sentinel alike.
 */
function storeContract(name: string, open: () => Promise<StateStore>) {
  describe(`state store contract: ${name}`, () => {
    let store: StateStore;
    let run = 0;
    // Fresh key space per test, so tests cannot see each other's keys.
    const key = (suffix: string) => `contract:${run}:${suffix}`;

    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.close();
    });

    it('stores, reads and deletes values', async () => {
      run += 1;
      assert.equal(await store.get(key('missing')), null);
      assert.equal(await store.set(key('a'), 'one'), true);
      assert.equal(await store.get(key('a')), 'one');
      assert.equal(await store.set(key('a'), 'two'), true);
      assert.equal(await store.get(key('a')), 'two');
      await store.set(key('b'), 'x');
      assert.equal(await store.delete(key('a'), key('b'), key('never')), 2);
      assert.equal(await store.get(key('a')), null);
    });

    it('expires values after their TTL', async () => {
      run += 1;
      await store.set(key('short'), 'v', { ttlMs: 150 });
      const ttl = await store.ttlMs(key('short'));
      assert.ok(ttl !== null && ttl > 0 && ttl <= 150, `ttl ${ttl}`);
      assert.equal(await store.get(key('short')), 'v');
      await sleep(260);
      assert.equal(await store.get(key('short')), null);
      assert.equal(await store.ttlMs(key('short')), null);
    });

    it('sets only if absent when asked, and says whether it did', async () => {
      run += 1;
      assert.equal(await store.set(key('nx'), 'first', { onlyIfAbsent: true, ttlMs: 5_000 }), true);
      assert.equal(await store.set(key('nx'), 'second', { onlyIfAbsent: true }), false);
      assert.equal(await store.get(key('nx')), 'first');
    });

    it('take() hands a value to exactly one of many concurrent callers', async () => {
      run += 1;
      await store.set(key('once'), 'nonce', { ttlMs: 5_000 });
      const results = await Promise.all(Array.from({ length: 50 }, () => store.take(key('once'))));
      assert.equal(results.filter((value) => value === 'nonce').length, 1);
      assert.equal(await store.get(key('once')), null);
    });

    it('increments atomically and starts the TTL at the first increment only', async () => {
      run += 1;
      const values = await Promise.all(
        Array.from({ length: 100 }, () => store.increment(key('n'), 1, 2_000)),
      );
      assert.equal(Math.max(...values), 100);
      assert.equal(new Set(values).size, 100, 'every caller saw a distinct count');
      const ttl = await store.ttlMs(key('n'));
      assert.ok(ttl !== null && ttl <= 2_000 && ttl > 1_000, `ttl ${ttl}`);
      await sleep(100);
      await store.increment(key('n'), 5, 60_000);
      const later = await store.ttlMs(key('n'));
      assert.ok(later !== null && later < ttl, 'a later increment did not extend the window');
      assert.equal(await store.get(key('n')), '105');
    });

    it('keeps set members, removes them, and expires the set', async () => {
      run += 1;
      await store.addToSet(key('set'), ['s1', 's2'], 5_000);
      await store.addToSet(key('set'), ['s2', 's3'], 5_000);
      assert.deepEqual((await store.setMembers(key('set'))).sort(), ['s1', 's2', 's3']);
      await store.removeFromSet(key('set'), ['s1', 's3']);
      assert.deepEqual(await store.setMembers(key('set')), ['s2']);
      assert.deepEqual(await store.setMembers(key('none')), []);
      await store.addToSet(key('brief'), ['x'], 120);
      await sleep(220);
      assert.deepEqual(await store.setMembers(key('brief')), []);
    });

    it('grants a lock to one holder at a time, and only the holder can release it', async () => {
      run += 1;
      const attempts = await Promise.all(Array.from({ length: 20 }, () => store.tryLock(key('lock'), 5_000)));
      const holders = attempts.filter((lock) => lock !== null);
      assert.equal(holders.length, 1);
      assert.equal(await store.tryLock(key('lock'), 5_000), null);
      assert.equal(await holders[0]!.release(), true);
      const next = await store.tryLock(key('lock'), 5_000);
      assert.ok(next);
      assert.equal(await holders[0]!.release(), false, 'a former holder cannot free the new holder');
      assert.equal(await next.release(), true);
    });

    it('lets a lock expire so a crashed holder cannot block others forever', async () => {
      run += 1;
      const crashed = await store.tryLock(key('expiring'), 120);
      assert.ok(crashed);
      await sleep(220);
      const next = await store.tryLock(key('expiring'), 5_000);
      assert.ok(next, 'the expired lock was free again');
      assert.equal(await crashed.release(), false);
      assert.equal(await next.release(), true);
    });

    it('counts rate-limit hits in a window that starts at the first hit', async () => {
      run += 1;
      const counter = key(`hits-${run}`);
      const first = await store.hit(counter, 10_000);
      assert.equal(first.count, 1);
      assert.ok(first.resetInMs > 9_000 && first.resetInMs <= 10_000, `window left: ${first.resetInMs}`);
      assert.equal((await store.hit(counter, 10_000)).count, 2);
      const third = await store.hit(counter, 10_000);
      assert.equal(third.count, 3);
      assert.ok(third.resetInMs <= first.resetInMs, 'later hits do not extend the window');
      assert.equal((await store.hit(key(`hits-other-${run}`), 10_000)).count, 1);
    });

    it('counts several counters at once, each in its own window', async () => {
      run += 1;
      const [a, b] = [key(`multi-a-${run}`), key(`multi-b-${run}`)];
      await store.hit(a, 10_000);
      const [first, second] = await store.hitAll([
        { key: a, windowMs: 10_000 },
        { key: b, windowMs: 60_000 },
      ]);
      assert.equal(first!.count, 2);
      assert.ok(first!.resetInMs <= 10_000);
      assert.equal(second!.count, 1);
      assert.ok(
        second!.resetInMs > 10_000 && second!.resetInMs <= 60_000,
        `window left: ${second!.resetInMs}`,
      );
      assert.deepEqual(await store.hitAll([]), []);
    });

    it('starts a new window once the old one ends', async () => {
      run += 1;
      const counter = key(`window-${run}`);
      await store.hit(counter, 150);
      await store.hit(counter, 150);
      await sleep(220);
      assert.equal((await store.hit(counter, 150)).count, 1);
    });

    it('sets only if present when asked, and never re-creates a deleted record', async () => {
      run += 1;
      const record = key(`xx-${run}`);
      assert.equal(await store.set(record, 'v1', { onlyIfPresent: true }), false);
      assert.equal(await store.get(record), null);
      await store.set(record, 'v1', { ttlMs: 5_000 });
      assert.equal(await store.set(record, 'v2', { onlyIfPresent: true, ttlMs: 5_000 }), true);
      assert.equal(await store.get(record), 'v2');
      await store.delete(record);
      assert.equal(await store.set(record, 'v3', { onlyIfPresent: true }), false);
      assert.equal(await store.get(record), null);
    });

    it('keeps a bounded index whose members lapse one by one, soonest first', async () => {
      run += 1;
      // A hash-tagged key, as the per-user index uses: one user's keys share a cluster slot.
      const index = key(`{user-${run}}:index`);
      const now = Date.now();
      assert.deepEqual(await store.addToIndex(index, 'late', now + 60_000, 10), []);
      assert.deepEqual(await store.addToIndex(index, 'early', now + 20_000, 10), []);
      assert.deepEqual(await store.addToIndex(index, 'middle', now + 40_000, 10), []);
      assert.deepEqual(
        (await store.indexEntries(index)).map((entry) => entry.member),
        ['early', 'middle', 'late'],
      );
      const late = (await store.indexEntries(index)).find((entry) => entry.member === 'late');
      assert.equal(late?.expiresAt, now + 60_000);
      // Renewing a member moves it; it is still one member.
      await store.addToIndex(index, 'early', now + 90_000, 10);
      assert.deepEqual(
        (await store.indexEntries(index)).map((entry) => entry.member),
        ['middle', 'late', 'early'],
      );
      await store.removeFromIndex(index, ['middle', 'never-there']);
      assert.deepEqual(
        (await store.indexEntries(index)).map((entry) => entry.member),
        ['late', 'early'],
      );
      assert.deepEqual(await store.indexEntries(key('no-index')), []);
    });

    it('trims an index to its cap, answering the members that lapse soonest', async () => {
      run += 1;
      const index = key(`{capped-${run}}:index`);
      const now = Date.now();
      for (let i = 0; i < 5; i += 1) {
        assert.deepEqual(await store.addToIndex(index, `m${i}`, now + 10_000 + i * 1_000, 5), []);
      }
      assert.deepEqual(await store.addToIndex(index, 'newest', now + 30_000, 5), ['m0']);
      assert.deepEqual(await store.addToIndex(index, 'm9', now + 40_000, 3), ['m1', 'm2', 'm3']);
      assert.deepEqual(
        (await store.indexEntries(index)).map((entry) => entry.member),
        ['m4', 'newest', 'm9'],
      );
    });

    it('drops lapsed index members, and the index itself with its last member', async () => {
      run += 1;
      const index = key(`{lapsing-${run}}:index`);
      const now = Date.now();
      await store.addToIndex(index, 'brief', now + 150, 10);
      await store.addToIndex(index, 'briefer', now + 100, 10);
      assert.equal((await store.indexEntries(index)).length, 2);
      const ttl = await store.ttlMs(index);
      assert.ok(ttl !== null && ttl > 0 && ttl <= 150, `the index lives as long as its last member (${ttl})`);
      await sleep(260);
      assert.deepEqual(await store.indexEntries(index), []);
      assert.equal(await store.ttlMs(index), null, 'the lapsed index is gone');
      // A lapsed member does not count against the cap of a later add.
      await store.addToIndex(index, 'a', now + 60_000, 1);
      assert.deepEqual(await store.addToIndex(index, 'b', now + 70_000, 2), []);
    });

    it('answers ping while reachable', async () => {
      await store.ping();
    });
  });
}

function redisConfig(overrides: Partial<RedisConfig>): RedisConfig {
  return redisSchema.parse({ commandTimeoutMs: 500, connectTimeoutMs: 1_000, ...overrides });
}

let standalone: RedisServer;
let cluster: RedisCluster;
let sentinel: RedisSentinel;

before(async () => {
  [standalone, cluster, sentinel] = await Promise.all([
    startRedis(),
    startRedisCluster(),
    startRedisSentinel(),
  ]);
});
after(async () => {
  await Promise.all([standalone?.stop(), cluster?.stop(), sentinel?.stop()]);
});

storeContract('memory', async () => new MemoryStore());

storeContract('redis', async () => {
  const store = new RedisStore(redisConfig({ url: standalone.url, keyPrefix: 'kwtest:' }));
  await store.connect();
  return store;
});

storeContract('redis cluster', async () => {
  const store = new RedisStore(redisConfig({ mode: 'cluster', cluster: { rootNodes: [...cluster.nodes] } }));
  await store.connect();
  return store;
});

storeContract('redis sentinel', async () => {
  const store = new RedisStore(
    redisConfig({
      mode: 'sentinel',
      sentinel: { masterName: sentinel.masterName, sentinels: [...sentinel.sentinels] },
    }),
  );
  await store.connect();
  return store;
});

describe('redis store when Redis fails', () => {
  let server: RedisServer;
  let store: RedisStore;

  before(async () => {
    server = await startRedis();
    store = new RedisStore(redisConfig({ url: server.url, commandTimeoutMs: 300, reconnectMaxMs: 200 }));
    await store.connect();
  });
  after(async () => {
    await store.close();
    await server.stop();
  });

  it('fails fast with StoreUnavailableError while Redis is down, and recovers on its own', async () => {
    await store.set('k', 'v');
    await server.stop();
    const started = Date.now();
    await assert.rejects(store.get('k'), StoreUnavailableError);
    assert.ok(Date.now() - started < 1_000, 'the failure was quick');
    await assert.rejects(store.ping(), StoreUnavailableError);

    await server.start();
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await store.ping();
        break;
      } catch (error) {
        assert.ok(error instanceof StoreUnavailableError);
        if (Date.now() > deadline) throw new Error('store did not reconnect');
        await sleep(100);
      }
    }
    assert.equal(await store.set('k2', 'back'), true);
    assert.equal(await store.get('k2'), 'back');
  });

  it('bounds every command by the command timeout when Redis hangs', async () => {
    server.pause();
    try {
      const started = Date.now();
      await assert.rejects(store.get('k2'), StoreUnavailableError);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 1_500, `timed out after ${elapsed} ms`);
    } finally {
      server.resume();
    }
  });

  it('refuses to connect when nothing listens, within the connect timeout', async () => {
    const unreachable = new RedisStore(
      redisConfig({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 200, reconnectMaxMs: 100 }),
    );
    const started = Date.now();
    await assert.rejects(unreachable.connect(), StoreUnavailableError);
    assert.ok(Date.now() - started < 2_000);
    await unreachable.close();
  });
});
