import type { Express } from 'express';
import { createApp } from '../../src/app.ts';
import type { Config } from '../../src/config/schema.ts';
import { MemoryStore } from '../../src/store/memory/memory-store.ts';
import type { StateStore } from '../../src/store/types.ts';
import { type CapturedLogs, captureLogs } from './logs.ts';
import { testConfig } from './test-config.ts';

export interface TestApp {
  app: Express;
  config: Readonly<Config>;
  store: StateStore;
  logs: CapturedLogs;
}

/** The production app built with test dependencies: real config loader, real logger, given store. */
export async function buildTestApp(
  options: { overrides?: Record<string, unknown>; store?: StateStore } = {},
): Promise<TestApp> {
  const config = testConfig(options.overrides);
  const store = options.store ?? new MemoryStore();
  const logs = captureLogs();
  const app = await createApp({ config, store, logger: logs.logger });
  return { app, config, store, logs };
}
