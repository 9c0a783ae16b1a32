/**
 * /credentials under load: what the credential cache buys. Many mobile callers (bearer JWTs
 * from a JWKS issuer on loopback) ask for scoped credentials; the AWS test double answers
 * Cognito and STS. Reported per store (memory, Redis): requests per second, latency, and how
 * many upstream AWS calls the whole run cost — the cache should make that one vend per user.
 *
 *   node bench/credentials.bench.ts          (needs redis-server on PATH)
 *
 * Figures go to stdout as JSON lines; nothing here asserts timings.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { createApp } from '../src/app.ts';
import { createAwsClients } from '../src/aws/clients.ts';
import { redisSchema } from '../src/config/schema.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { RedisStore } from '../src/store/redis/redis-store.ts';
import type { StateStore } from '../src/store/types.ts';
import { BUCKET, credentialOverrides } from '../test/fixtures/credentials/config.ts';
import { DEFAULT_SERVICE_CREDENTIALS, startAwsDouble } from '../test/support/aws-double/index.ts';
import { startJwksIssuer } from '../test/support/jwks-issuer.ts';
import { startRedis } from '../test/support/redis-server.ts';
import { testConfig } from '../test/support/test-config.ts';

const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const USERS = Number(process.env.BENCH_USERS ?? 50);
const API = 'https://api.keywarden.test';

async function main(): Promise<void> {
  const idp = await startJwksIssuer();
  const aws = await startAwsDouble({ buckets: [BUCKET] });
  const redis = await startRedis();
  const tokens = await Promise.all(
    Array.from({ length: USERS }, (_, index) => idp.sign({ aud: API, sub: `bench-user-${index}` })),
  );
  const config = testConfig({
    ...credentialOverrides({ endpoint: aws.url }),
    bearer: { issuers: { mobile: { issuer: idp.issuer, jwksUri: idp.jwksUri, audiences: [API] } } },
    rateLimit: { enabled: false },
  });

  const redisStore = new RedisStore(redisSchema.parse({ url: redis.url, keyPrefix: 'bench:' }));
  await redisStore.connect();
  const stores: Array<[string, StateStore]> = [
    ['memory', new MemoryStore()],
    ['redis', redisStore],
  ];
  try {
    for (const [name, store] of stores) {
      aws.reset();
      const app = await createApp({
        config,
        store,
        logger: createLogger({ level: 'silent' }),
        metrics: createMetrics({ collectProcessMetrics: false }),
        awsClients: createAwsClients(config.aws, { credentials: DEFAULT_SERVICE_CREDENTIALS }),
      });
      const server = createServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const requests = tokens.map((token) => ({
        method: 'POST' as const,
        path: '/credentials',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ scope: 'own' }),
      }));
      // A short warm-up so JIT compilation does not favour whichever store runs second.
      await autocannon({ url, connections: CONNECTIONS, duration: 1, requests });
      const result = await autocannon({
        url,
        connections: CONNECTIONS,
        duration: DURATION_SECONDS,
        requests,
      });
      const upstream = aws.calls.filter((call) => call.service !== 's3').length;
      console.log(
        JSON.stringify({
          store: name,
          users: USERS,
          requests: result.requests.total,
          non2xx: result.non2xx,
          rps: Math.round(result.requests.average),
          p50: result.latency.p50,
          p99: result.latency.p99,
          upstreamAwsCalls: upstream,
          requestsPerUpstreamCall: Number((result.requests.total / Math.max(1, upstream)).toFixed(1)),
        }),
      );
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  } finally {
    await redisStore.close();
    await redis.stop();
    await aws.close();
    await idp.close();
  }
}

await main();
