import type { Logger } from 'pino';
import type { StoreConfig } from '../config/schema.ts';
import { MemoryStore } from './memory/memory-store.ts';
import { RedisStore } from './redis/redis-store.ts';
import type { StateStore } from './types.ts';

/** Builds and connects the configured store; start-up fails if Redis cannot be reached. */
export async function createStore(config: StoreConfig, logger: Logger): Promise<StateStore> {
  if (config.kind === 'memory') {
    logger.warn(
      'using the in-memory store: sessions, rate limits, replay caches and credentials live in this process only; run one instance, or configure Redis',
    );
    return new MemoryStore();
  }
  let lastReported = 0;
  const store = new RedisStore(config.redis, {
    // Connection errors repeat on every reconnect attempt; one line every few seconds is enough.
    onError: (error) => {
      const now = Date.now();
      if (now - lastReported < 5_000) return;
      lastReported = now;
      logger.warn({ err: { type: error.name, message: error.message } }, 'redis connection problem');
    },
  });
  try {
    await store.connect();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
