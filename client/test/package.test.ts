/**
 * The package as it ships (client/dist, built by `npm run build`; `npm test` builds it
 * first): importable by its name from the checkout, typed, free of Node built-ins and runtime
 * dependencies, and within its size budget.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const run = promisify(execFile);
const CLIENT = path.resolve(import.meta.dirname, '..');
const REPO = path.resolve(CLIENT, '..');
const DIST_ENTRY = path.join(CLIENT, 'dist/index.js');
/** At most 8 kB minified and gzipped, the AWS SDK not included (it is no dependency). */
const BUDGET_BYTES = 8 * 1024;

function newestSource(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => statSync(path.join(dir, file)).mtimeMs),
  );
}

before(() => {
  let built: number;
  try {
    built = statSync(DIST_ENTRY).mtimeMs;
  } catch {
    assert.fail('client/dist is missing: run `npm run build:client` (npm test does it first)');
  }
  assert.ok(
    built >= newestSource(path.join(CLIENT, 'src')),
    'client/dist is older than client/src: rebuild it',
  );
});

describe('@keywarden/client as built', () => {
  it("`import { fromKeywarden } from '@keywarden/client'` works from the checkout, from dist", async () => {
    const script = `
      const client = await import('@keywarden/client');
      console.log(JSON.stringify({ resolved: import.meta.resolve('@keywarden/client'), exports: Object.keys(client).sort() }));`;
    for (const cwd of [REPO, path.join(REPO, 'examples/node-bearer')]) {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd });
      const { resolved, exports } = JSON.parse(stdout);
      assert.equal(resolved, `file://${DIST_ENTRY}`);
      assert.deepEqual(exports, [
        'DEFAULT_GUEST_TOKEN_KEY',
        'KeywardenError',
        'createKeywardenClient',
        'fromKeywarden',
        'localStorageGuestTokenStorage',
        'memoryGuestTokenStorage',
        'secureStoreGuestTokenStorage',
      ]);
    }
  });

  it('its declarations type-check an app that hands fromKeywarden to an S3Client', async () => {
    const tsc = path.join(REPO, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [
      tsc,
      '-p',
      path.join(CLIENT, 'test/consumer/tsconfig.json'),
    ]).then(
      () => 'ok',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    assert.equal(result, 'ok');
  });

  it(`fits the size budget (${BUDGET_BYTES} bytes minified and gzipped) with no dependency and no Node built-in bundled`, async () => {
    // `neutral`: no platform's built-ins are known, so importing one fails the build.
    const bundle = await build({
      entryPoints: [DIST_ENTRY],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'neutral',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(bundle.metafile.inputs);
    assert.ok(inputs.length > 5);
    for (const input of inputs)
      assert.match(input, /^client\/dist\/[\w/-]+\.js$/, 'only the package own code');
    const code = bundle.outputFiles[0]!.contents;
    const gzipped = gzipSync(code, { level: 9 }).length;
    console.log(`@keywarden/client: ${code.length} bytes minified, ${gzipped} gzipped`);
    assert.ok(gzipped <= BUDGET_BYTES, `${gzipped} bytes gzipped is over the budget`);
  });
});
