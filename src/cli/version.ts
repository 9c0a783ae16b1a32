import { readFileSync } from 'node:fs';

/**
 * The package's version. src/cli/ and dist/cli/ both sit two levels below package.json, so
 * the same relative path serves a checkout and an installed package.
 */
export const CLI_VERSION: string = (() => {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
})();
