import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RedisServer, startRedis } from './support/redis-server.ts';
import { startService } from './support/service-process.ts';

describe('service lifecycle (real process)', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  it('starts on the embedded defaults with no Redis and no AWS, and answers /healthz and /readyz', async () => {
    const service = startService();
    const port = await service.listening;
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200);
    assert.match(service.output(), /in-memory store/);
    service.child.kill('SIGTERM');
    assert.deepEqual(await service.exited, { code: 0, signal: null });
  });

  it('refuses to start on a bad config value, naming the key, with a non-zero exit', async () => {
    const service = startService({
      env: { KEYWARDEN_SERVER__TRUST_PROXY_HOPS: 'many', KEYWARDEN_LOG__LEVEL: 'loud' },
    });
    const { code } = await service.exited;
    assert.notEqual(code, 0);
    assert.match(service.output(), /server\.trustProxyHops: /);
    assert.match(service.output(), /log\.level: /);
  });

  it('uses Redis when REDIS_URL is set, and fails start-up when Redis is unreachable', async () => {
    const service = startService({ env: { REDIS_URL: redis.url } });
    const port = await service.listening;
    assert.match(service.output(), /"store":"redis"/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    service.child.kill('SIGTERM');
    assert.equal((await service.exited).code, 0);

    const unreachable = startService({
      env: { REDIS_URL: 'redis://127.0.0.1:1', KEYWARDEN_STORE__REDIS__CONNECT_TIMEOUT_MS: '200' },
    });
    const { code } = await unreachable.exited;
    assert.equal(code, 1);
    assert.match(unreachable.output(), /cannot reach the state store/);
  });

  it('on SIGTERM finishes the in-flight request, refuses new ones, and exits 0', async () => {
    const service = startService({ env: { KEYWARDEN_SERVER__SHUTDOWN_GRACE_MS: '5000' } });
    const port = await service.listening;
    // A request whose body arrives slowly is in flight until the last byte is sent.
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/slow',
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write('{"part":');
      setTimeout(() => req.end('"done"}'), 1_000);
    });
    await sleep(200);
    service.child.kill('SIGTERM');
    await sleep(200);
    await assert.rejects(
      fetch(`http://127.0.0.1:${port}/healthz`),
      'new connections are refused while draining',
    );
    const finished = await response;
    assert.equal(finished.status, 404, 'the in-flight request got its real answer');
    assert.match(finished.body, /not_found/);
    assert.deepEqual(await service.exited, { code: 0, signal: null });
    assert.match(service.output(), /draining in-flight requests/);
  });
});
