/**
 * upload() in Chromium: the built package in a page on its own origin, a bearer caller,
 * keywarden allowing that origin (cors.origins) and S3 behind a bucket CORS rule that exposes
 * ETag. What only a browser shows: byte-level progress through XMLHttpRequest, the ETag read
 * across origins for multipart, and an abort in the middle of a part.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshotOnFailure } from '../../test/support/browser.ts';
import type * as Keywarden from '../src/index.ts';
import { BUCKET, MiB, startKeywarden, type TestKeywarden } from './support/keywarden.ts';
import { startS3CorsProxy } from './support/s3-cors-proxy.ts';

let pages: Server;
let pageOrigin: string;
let proxy: Awaited<ReturnType<typeof startS3CorsProxy>>;
let keywarden: TestKeywarden;
let browser: Browser;
let page: Page;

/** The same bytes in Node and in the page: they differ at every offset modulo 251. */
function patterned(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let index = 0; index < size; index++) bytes[index] = (index * 7 + (index >>> 16)) % 251;
  return bytes;
}

before(async () => {
  const bundle = await build({
    entryPoints: [path.resolve(import.meta.dirname, '../dist/index.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
  });
  const script = bundle.outputFiles[0]!.text;
  pages = createServer((req, res) => {
    if (req.url === '/client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      return;
    }
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(
        '<!doctype html><title>app</title><script type="module">import * as keywarden from "/client.js"; window.keywarden = keywarden;</script>',
      );
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  [keywarden, browser] = await Promise.all([
    startKeywarden(
      { cors: { origins: [pageOrigin] } },
      {
        s3Endpoint: async (aws) => {
          proxy = await startS3CorsProxy(aws.url, pageOrigin);
          return proxy.url;
        },
      },
    ),
    launchBrowser(),
  ]);
  page = await (await browser.newContext()).newPage();
  await page.goto(`${pageOrigin}/`);
  await page.waitForFunction(() => 'keywarden' in window);
});

after(async () => {
  await browser?.close();
  await keywarden?.close();
  await proxy?.close();
  await new Promise((resolve) => pages?.close(resolve));
});

interface PageUpload {
  events: Array<{ loaded: number; total: number }>;
  result?: { bucket: string; key: string; etag?: string; uploadId?: string };
  error?: { name: string; message: string };
}

/** Runs upload() in the page with a bearer token; `abortAt`: abort once this many bytes went out. */
function uploadInPage(args: {
  sub: string;
  size: number;
  key: string;
  options?: Record<string, unknown>;
  abortAt?: number;
}): Promise<PageUpload> {
  return keywarden.tokenFor(args.sub).then((token) =>
    page.evaluate(
      async ({ baseUrl, token, size, key, options, abortAt }) => {
        // The package as the page loaded it.
        const { createKeywardenClient } = (window as unknown as { keywarden: typeof Keywarden }).keywarden;
        const client = createKeywardenClient({ baseUrl, getToken: () => token });
        const bytes = new Uint8Array(size);
        for (let index = 0; index < size; index++) bytes[index] = (index * 7 + (index >>> 16)) % 251;
        const controller = new AbortController();
        const events: Array<{ loaded: number; total: number }> = [];
        try {
          const result = await client.upload(new Blob([bytes]), {
            key,
            ...options,
            signal: controller.signal,
            onProgress: (progress) => {
              events.push(progress);
              if (abortAt !== undefined && progress.loaded >= abortAt) controller.abort();
            },
          });
          return { events, result };
        } catch (error) {
          return { events, error: { name: (error as Error).name, message: (error as Error).message } };
        }
      },
      { baseUrl: keywarden.url, token, ...args },
    ),
  );
}

function stored(key: string): Uint8Array | undefined {
  const object = keywarden.aws.objects.get(`${BUCKET}/${key}`);
  return object ? new Uint8Array(object.body) : undefined;
}

describe('upload() in Chromium', () => {
  it('a single PUT reports bytes as they are sent (XMLHttpRequest)', async () => {
    await screenshotOnFailure(page, 'client-single-put', async () => {
      // Larger than the socket buffers, which would take a small body at once.
      const size = 12 * MiB;
      const { events, result, error } = await uploadInPage({
        sub: 'browser-one',
        size,
        key: 'browser/one.bin',
      });
      assert.equal(error, undefined, JSON.stringify(error));
      assert.ok(result && !result.uploadId);
      assert.deepEqual(stored(result.key), patterned(size));
      assert.deepEqual(events[0], { loaded: 0, total: size });
      assert.deepEqual(events.at(-1), { loaded: size, total: size });
      assert.ok(
        events.some((event) => event.loaded > 0 && event.loaded < size),
        `progress between start and end: ${JSON.stringify(events)}`,
      );
    });
  });

  it('multipart: parts in parallel with byte progress, ETags read through the bucket CORS rule', async () => {
    await screenshotOnFailure(page, 'client-multipart', async () => {
      const size = 12 * MiB;
      const { events, result, error } = await uploadInPage({
        sub: 'browser-parts',
        size,
        key: 'browser/parts.bin',
        options: { multipartThreshold: 5 * MiB, partSize: 5 * MiB },
      });
      assert.equal(error, undefined, JSON.stringify(error));
      assert.ok(result?.uploadId);
      assert.match(result.etag ?? '', /-3"$/);
      assert.deepEqual(stored(result.key), patterned(size));
      // Not only at part boundaries (sums of 5, 5 and 2 MiB): bytes as they went.
      const boundaries = new Set([0, 2, 5, 7, 10, 12].map((mib) => mib * MiB));
      assert.ok(
        events.some((event) => !boundaries.has(event.loaded)),
        JSON.stringify(events),
      );
      for (let index = 1; index < events.length; index++) {
        assert.ok(events[index]!.loaded >= events[index - 1]!.loaded, 'never backwards');
      }
      assert.deepEqual(events.at(-1), { loaded: size, total: size });
    });
  });

  it('abort in the middle of a part: AbortError, and the upload is aborted on S3', async () => {
    await screenshotOnFailure(page, 'client-abort', async () => {
      const before = keywarden.aws.calls.length;
      const { error } = await uploadInPage({
        sub: 'browser-abort',
        size: 12 * MiB,
        key: 'browser/abort.bin',
        options: { multipartThreshold: 5 * MiB, partSize: 5 * MiB, concurrency: 1 },
        abortAt: 1 * MiB,
      });
      assert.equal(error?.name, 'AbortError');
      const calls = keywarden.aws.calls.slice(before);
      assert.equal(calls.filter((call) => call.operation === 'CreateMultipartUpload').length, 1);
      assert.equal(calls.filter((call) => call.operation === 'AbortMultipartUpload').length, 1);
      assert.equal(calls.filter((call) => call.operation === 'CompleteMultipartUpload').length, 0);
      assert.ok(
        ![...keywarden.aws.uploads.values()].some((upload) => upload.key.endsWith('/browser/abort.bin')),
        'no upload left on S3',
      );
      assert.ok(![...keywarden.aws.objects.keys()].some((key) => key.endsWith('/browser/abort.bin')));
    });
  });
});
