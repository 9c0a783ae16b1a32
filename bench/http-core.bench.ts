/**
 * Throughput of the HTTP core: the full middleware chain (request id, access log, metrics,
 * helmet, CORS, rate limit, authentication seam, problem+json) on the memory store and on a
 * real Redis, so the cost of shared state per request is visible as a ratio.
 *
 *   node bench/http-core.bench.ts            (needs redis-server on PATH)
 *
 * Figures go to stdout as JSON lines; nothing here asserts timings.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import { redisSchema } from '../src/config/schema.ts';
import { createLogger } from '../src/observability/logger.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { RedisStore } from '../src/store/redis/redis-store.ts';
import type { StateStore } from '../src/store/types.ts';
import { startRedis } from '../test/support/redis-server.ts';

const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

async function serve(store: StateStore): Promise<{ server: Server; url: string }> {
  const config = loadConfig({
    env: { NODE_ENV: 'test' },
    // A limit no run reaches, so the limiter is exercised but never refuses.
    overrides: { rateLimit: { groups: { default: { perIp: { points: 10_000_000, windowSeconds: 60 } } } } },
  });
  const app = await createApp({ config, store, logger: createLogger({ level: 'silent' }) });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function measure(url: string): Promise<{ rps: number; p50: number; p99: number }> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_SECONDS });
  return { rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99 };
}

async function main(): Promise<void> {
  const redis = await startRedis();
  const redisStore = new RedisStore(redisSchema.parse({ url: redis.url }));
  await redisStore.connect();
  const results: Record<string, { rps: number; p50: number; p99: number }> = {};
  try {
    for (const [name, store] of [
      ['memory', new MemoryStore()],
      ['redis', redisStore],
    ] as const) {
      const { server, url } = await serve(store);
      results[`${name} /healthz (no state)`] = await measure(`${url}/healthz`);
      results[`${name} rate-limited 404`] = await measure(`${url}/bench/not-found`);
      await new Promise((resolve) => server.close(resolve));
    }
  } finally {
    await redisStore.close();
    await redis.stop();
  }
  for (const [name, figures] of Object.entries(results))
    console.log(JSON.stringify({ scenario: name, ...figures }));
  const memory = results['memory rate-limited 404']!.rps;
  const shared = results['redis rate-limited 404']!.rps;
  console.log(
    JSON.stringify({
      ratio: 'redis/memory on the rate-limited path',
      value: Number((shared / memory).toFixed(2)),
    }),
  );
}

await main();
