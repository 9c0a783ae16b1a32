import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';

/** The real loader with NODE_ENV=test and the given overrides, ignoring the machine's env. */
export function testConfig(
  overrides: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = {},
): Readonly<Config> {
  return loadConfig({ env: { NODE_ENV: 'test', ...env }, overrides });
}
