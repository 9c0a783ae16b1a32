import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@redis/client';
import express from 'express';
import { establishSession } from '../src/auth/session/session.ts';
import { createSessionMiddleware } from '../src/auth/session/session-middleware.ts';
import { listUserSessions } from '../src/auth/session/user-sessions.ts';
import { redisSchema } from '../src/config/schema.ts';
import { errorHandler } from '../src/http/middleware/error-handler.ts';
import { requestScope } from '../src/http/middleware/request-id.ts';
import { USER_INDEX_CAPS, UserIndex } from '../src/identity/user-index.ts';
import { RedisStore } from '../src/store/redis/redis-store.ts';
import { captureLogs } from './support/logs.ts';
import { type RedisServer, startRedis } from './support/redis-server.ts';
import { testConfig } from './support/test-config.ts';

/**
 * The per-user index under load, on a real Redis: 10,000 sign-ins of one user keep the index
 * and the user's live sessions at the cap (the oldest sessions are signed out as new ones come),
 * and the index lives no longer than the sessions it points to.
 */

const SIGN_INS = 10_000;
const CONCURRENCY = 16;
const PREFIX = 'kwload:';
const USER = { provider: 'corp', subject: 'busy' };

let redis: RedisServer;
let store: RedisStore;
let server: Server;
let url: string;

before(async () => {
  redis = await startRedis();
  store = new RedisStore(redisSchema.parse({ url: redis.url, keyPrefix: PREFIX, commandTimeoutMs: 2_000 }));
  await store.connect();
  const config = testConfig({ session: { secret: 'load-test-session-secret-0123456789abcdef' } });
  const app = express();
  app.use(requestScope());
  app.use(createSessionMiddleware({ config, store, logger: captureLogs().logger }));
  app.post('/sign-in', async (req, res) => {
    await establishSession(req, {
      principal: { kind: 'user', ...USER, claims: {} },
      provider: USER.provider,
    });
    res.status(204).end();
  });
  app.use(errorHandler(captureLogs().logger));
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => {
    server?.close(() => resolve());
    server?.closeAllConnections();
  });
  await store?.close();
  await redis?.stop();
});

async function countKeys(pattern: string): Promise<number> {
  const client = createClient({ url: redis.url });
  await client.connect();
  try {
    let count = 0;
    for await (const keys of client.scanIterator({ MATCH: pattern, COUNT: 1_000 })) count += keys.length;
    return count;
  } finally {
    await client.close();
  }
}

describe('the per-user index under 10,000 sign-ins', () => {
  it('stays at its cap, and so do the live sessions it points to', async () => {
    let next = 0;
    let failures = 0;
    const worker = async () => {
      while (next < SIGN_INS) {
        next += 1;
        const response = await fetch(`${url}/sign-in`, { method: 'POST' });
        if (response.status !== 204) failures += 1;
        await response.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    assert.equal(failures, 0);

    const cap = USER_INDEX_CAPS.sessions;
    const index = new UserIndex(store);
    const entries = await index.entries(USER, 'sessions');
    assert.equal(entries.length, cap, 'the index holds the newest sessions, at most the cap');
    assert.equal(
      await countKeys(`${PREFIX}sess:*`),
      cap,
      'older sessions were signed out, not just forgotten',
    );
    assert.equal(await countKeys(`${PREFIX}uidx:*`), 1, 'one index key for the user');
    const listed = await listUserSessions(store, USER);
    assert.equal(listed.length, cap, 'every indexed session is live');

    const config = testConfig();
    const ttl = await store.ttlMs(index.key(USER, 'sessions'));
    assert.ok(
      ttl !== null && ttl <= config.session.absoluteTimeoutMs,
      'the index lapses with its last session',
    );
    const newest = Math.max(...entries.map((entry) => entry.expiresAt));
    assert.ok(Math.abs(Date.now() + (ttl ?? 0) - newest) < 5_000);
  });
});
