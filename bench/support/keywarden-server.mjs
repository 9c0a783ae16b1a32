/**
 * keywarden as the benchmark runs it: the production build (dist/, from `npm run build:server`)
 * on a real Redis, with the logger at `info` writing to stdout (which the runner discards),
 * metrics and rate limits on. Plain JavaScript on purpose: a TypeScript entry would make Node
 * load its type stripper, about 17 MB of RSS that a production process does not have.
 * Configuration comes from the runner as JSON in KEYWARDEN_BENCH_OVERRIDES, layered over
 * NODE_ENV=test defaults by the real loader; AWS service credentials come from the standard
 * environment variables, as in production. Reports its port over IPC.
 */
import { createServer } from 'node:http';
import { getHeapSpaceStatistics } from 'node:v8';
import { createApp } from '../../dist/app.js';
import { loadConfig } from '../../dist/config/load.js';
import { createLogger } from '../../dist/observability/logger.js';
import { createStore } from '../../dist/store/create-store.js';

const overrides = JSON.parse(process.env.KEYWARDEN_BENCH_OVERRIDES ?? '{}');
const config = loadConfig({ env: { NODE_ENV: 'test' }, overrides });
const logger = createLogger({ level: config.log.level });
const store = await createStore(config.store, logger);
const app = await createApp({ config, store, logger });
const server = createServer(app);
server.keepAliveTimeout = config.server.keepAliveTimeoutMs;
server.listen(config.server.port, '127.0.0.1', () => {
  process.send?.({ port: server.address().port });
});
process.on('disconnect', () => process.exit(0));
// The runner asks for memory figures: where RSS goes (V8 heap spaces, external, code).
process.on('message', (message) => {
  if (message !== 'memory') return;
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((space) => [space.space_name, Math.round(space.space_size / 1048576)]),
  );
  const before = process.memoryUsage();
  // With --expose-gc (BENCH_NODE_FLAGS), also what is live after a full collection.
  const collect = globalThis.gc;
  collect?.();
  const live = collect ? { heapUsedAfterGc: process.memoryUsage().heapUsed } : {};
  process.send?.({ memory: { ...before, ...live, spacesMb: spaces } });
});
