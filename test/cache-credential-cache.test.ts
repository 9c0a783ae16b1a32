import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheKeyRing } from '../src/cache/cache-key-ring.ts';
import { type CachedCredentials, CredentialCache } from '../src/cache/credential-cache.ts';
import { cacheSchema } from '../src/config/aws-schema.ts';
import { KeywardenError } from '../src/http/errors.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import type { StateStore } from '../src/store/types.ts';
import { captureLogs } from './support/logs.ts';

const MINUTE = 60_000;

function ring(...ids: string[]): CacheKeyRing {
  return new CacheKeyRing(ids.map((id) => ({ id, key: randomBytes(32) })));
}

function credentials(lifetimeMs: number, now = Date.now()): CachedCredentials {
  return {
    identityId: 'us-east-1:aaaaaaaa-0000-4000-8000-000000000000',
    credentials: {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(60).toString('base64'),
      expiration: new Date(now + lifetimeMs),
    },
  };
}

function cache(
  store: StateStore,
  options: { keyRing?: CacheKeyRing; now?: () => number; config?: Record<string, unknown> } = {},
) {
  const logs = captureLogs();
  return {
    logs,
    cache: new CredentialCache({
      store,
      keyRing: options.keyRing ?? ring('k1'),
      config: cacheSchema.parse({ minRemainingSeconds: 300, refreshAheadSeconds: 600, ...options.config }),
      metrics: createMetrics({ collectProcessMetrics: false }),
      logger: logs.logger,
      ...(options.now ? { now: options.now } : {}),
    }),
  };
}

describe('cache key ring', () => {
  it('encrypts with the newest key and decrypts with any key of the ring (rotation)', () => {
    const sealed = ring('k1').encrypt('secret payload', 'cred:a');
    assert.doesNotMatch(sealed, /secret payload/);
    const key = randomBytes(32);
    const before = new CacheKeyRing([{ id: 'old', key }]);
    const rotated = new CacheKeyRing([
      { id: 'new', key: randomBytes(32) },
      { id: 'old', key },
    ]);
    const legacy = before.encrypt('payload', 'cred:a');
    assert.equal(rotated.decrypt(legacy, 'cred:a'), 'payload');
    assert.match(rotated.encrypt('payload', 'cred:a'), /^v1\.new\./);
    assert.equal(
      new CacheKeyRing([{ id: 'new', key: randomBytes(32) }]).decrypt(legacy, 'cred:a'),
      undefined,
    );
  });

  it('refuses tampering and entries moved to another cache key (AAD)', () => {
    const keys = ring('k1');
    const sealed = keys.encrypt('payload', 'cred:alice');
    assert.equal(keys.decrypt(sealed, 'cred:mallory'), undefined);
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    assert.equal(keys.decrypt(parts.join('.'), 'cred:alice'), undefined);
    assert.equal(keys.decrypt('garbage', 'cred:alice'), undefined);
  });
});

describe('credential cache', () => {
  it('stores entries encrypted, with a TTL ending minRemainingSeconds before the credentials expire', async () => {
    const store = new MemoryStore();
    const { cache: c } = cache(store);
    const vended = credentials(60 * MINUTE);
    const first = await c.get('cred:one', async () => vended);
    assert.equal(first.outcome, 'miss');
    const raw = (await store.get('cred:one'))!;
    assert.ok(!raw.includes(vended.credentials.secretAccessKey));
    const ttl = (await store.ttlMs('cred:one'))!;
    assert.ok(ttl <= 55 * MINUTE && ttl > 54 * MINUTE, `ttl ${ttl}`);
    const second = await c.get('cred:one', async () => assert.fail('no second vend'));
    assert.equal(second.outcome, 'hit');
    assert.equal(second.value.credentials.secretAccessKey, vended.credentials.secretAccessKey);
    assert.equal(second.value.credentials.expiration.getTime(), vended.credentials.expiration.getTime());
  });

  it('never hands out credentials with less than the minimum lifetime left', async () => {
    let now = Date.now();
    const store = new MemoryStore();
    const { cache: c } = cache(store, { now: () => now });
    await c.get('cred:k', async () => credentials(20 * MINUTE, now));
    now += 15.5 * MINUTE; // 4.5 min left < 5 min minimum (the store TTL would also have ended)
    const fresh = credentials(60 * MINUTE, now);
    const result = await c.get('cred:k', async () => fresh);
    assert.equal(result.outcome, 'miss');
    assert.equal(result.value.credentials.accessKeyId, fresh.credentials.accessKeyId);
  });

  it('refreshes ahead: inside the window it answers the cached entry and replaces it in the background', async () => {
    let now = Date.now();
    const store = new MemoryStore();
    const { cache: c } = cache(store, { now: () => now });
    const original = credentials(20 * MINUTE, now);
    await c.get('cred:r', async () => original);
    now += 12 * MINUTE; // 8 min left: inside the 10 min refresh-ahead window, above the 5 min minimum
    const replacement = credentials(60 * MINUTE, now);
    let vends = 0;
    const stale = await c.get('cred:r', async () => {
      vends += 1;
      return replacement;
    });
    assert.equal(stale.outcome, 'stale');
    assert.equal(stale.value.credentials.accessKeyId, original.credentials.accessKeyId);
    await sleep(20);
    const next = await c.get('cred:r', async () => assert.fail('already refreshed'));
    assert.equal(next.outcome, 'hit');
    assert.equal(next.value.credentials.accessKeyId, replacement.credentials.accessKeyId);
    assert.equal(vends, 1);
  });

  it('an entry the ring cannot open (key removed) is a miss, not an error', async () => {
    const store = new MemoryStore();
    await cache(store, { keyRing: ring('gone') }).cache.get('cred:x', async () => credentials(60 * MINUTE));
    const { cache: c, logs } = cache(store, { keyRing: ring('new') });
    const result = await c.get('cred:x', async () => credentials(60 * MINUTE));
    assert.equal(result.outcome, 'miss');
    assert.ok(logs.lines.some((line) => line.includes('could not be decrypted')));
  });

  it('two instances on one store: one vends under the lock, the other waits for its entry', async () => {
    const store = new MemoryStore();
    const keyRing = ring('shared');
    const a = cache(store, { keyRing }).cache;
    const b = cache(store, { keyRing }).cache;
    let vends = 0;
    const slowVend = async () => {
      vends += 1;
      await sleep(100);
      return credentials(60 * MINUTE);
    };
    const results = await Promise.all([
      ...Array.from({ length: 50 }, () => a.get('cred:both', slowVend)),
      ...Array.from({ length: 50 }, () => b.get('cred:both', slowVend)),
    ]);
    assert.equal(vends, 1);
    assert.equal(new Set(results.map((result) => result.value.credentials.accessKeyId)).size, 1);
    assert.deepEqual(new Set(results.map((result) => result.outcome)), new Set(['miss', 'shared']));
  });

  it('a failed vend releases the lock and rejects every waiter in the process; the next request vends again', async () => {
    const store = new MemoryStore();
    const { cache: c } = cache(store);
    const failing = async (): Promise<CachedCredentials> => {
      await sleep(20);
      throw new KeywardenError(503, 'service_unavailable', 'AWS down');
    };
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => c.get('cred:f', failing)));
    assert.ok(results.every((result) => result.status === 'rejected'));
    assert.equal((await c.get('cred:f', async () => credentials(60 * MINUTE))).outcome, 'miss');
  });

  it('waiting for another instance is bounded: 503 with Retry-After when its vend takes too long', async () => {
    const store = new MemoryStore();
    const held = await store.tryLock('lock:cred:stuck', 60_000);
    assert.ok(held);
    const { cache: c } = cache(store, { config: { waitTimeoutMs: 150, pollIntervalMs: 10 } });
    const started = Date.now();
    await assert.rejects(
      c.get('cred:stuck', async () => assert.fail('the lock is held elsewhere')),
      (error: unknown) =>
        error instanceof KeywardenError && error.status === 503 && 'Retry-After' in error.headers,
    );
    assert.ok(Date.now() - started < 1_000);
    await held.release();
  });
});
