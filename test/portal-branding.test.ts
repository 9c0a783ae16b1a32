import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import request from 'supertest';
import { ConfigError } from '../src/config/load.ts';
import { DEFAULT_MARK_SVG } from '../src/http/routes/brand-assets.ts';
import { buildTestApp } from './support/app.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import { testConfig } from './support/test-config.ts';

/**
 * The portal's name and mark, and the site's favicon: keywarden's own by default, the
 * operator's when configured, served from this origin (the portal's CSP allows 'self' images
 * only), cached, and ahead of the rate limiter and the session.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'kw-branding-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function binary(res: request.Response, done: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

describe('favicon and logo, by default', () => {
  it('serves keywarden’s mark as a 32×32 ICO at /favicon.ico, cached, with no cookie', async () => {
    const { app } = await buildTestApp();
    const response = await request(app).get('/favicon.ico').buffer(true).parse(binary);
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'image/x-icon');
    assert.equal(response.headers['cache-control'], 'public, max-age=86400');
    assert.equal(response.headers['set-cookie'], undefined);
    assertMatchesOpenApi(response, { method: 'get', path: '/favicon.ico' });
    const ico = response.body as Buffer;
    // ICONDIR: reserved 0, type 1 (icon), one image; its entry: 32×32, 32 bpp, PNG data at the offset.
    assert.deepEqual([ico.readUInt16LE(0), ico.readUInt16LE(2), ico.readUInt16LE(4)], [0, 1, 1]);
    assert.deepEqual([ico[6], ico[7], ico.readUInt16LE(12)], [32, 32, 32]);
    const size = ico.readUInt32LE(14);
    const offset = ico.readUInt32LE(18);
    assert.equal(offset + size, ico.length);
    const png = ico.subarray(offset);
    assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [32, 32], 'the PNG is 32×32');

    const etag = response.headers.etag;
    assert.ok(etag);
    const again = await request(app).get('/favicon.ico').set('If-None-Match', etag);
    assert.equal(again.status, 304);
  });

  it('serves the SVG mark as the header logo, sandboxed', async () => {
    const { app } = await buildTestApp();
    const response = await request(app).get('/portal/assets/logo').buffer(true).parse(binary);
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'image/svg+xml');
    assert.equal((response.body as Buffer).toString(), DEFAULT_MARK_SVG);
    assert.match(String(response.headers['content-security-policy']), /sandbox/);
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assertMatchesOpenApi(response, { method: 'get', path: '/portal/assets/logo' });
  });

  it('answers ahead of the rate limiter: a spent limit does not refuse it', async () => {
    const { app } = await buildTestApp({
      overrides: { rateLimit: { groups: { default: { perIp: { points: 1, windowSeconds: 60 } } } } },
    });
    assert.equal((await request(app).get('/portal')).status, 200);
    assert.equal((await request(app).get('/portal')).status, 429, 'the limit is spent');
    for (let i = 0; i < 5; i++) {
      assert.equal((await request(app).get('/favicon.ico')).status, 200);
      assert.equal((await request(app).get('/portal/assets/logo')).status, 200);
    }
  });
});

describe('the operator’s name and logo', () => {
  it('serves a configured PNG as both logo and favicon, and names the product on the pages', async () => {
    const logo = path.join(dir, 'acme.png');
    const bytes = Buffer.concat([PNG_SIGNATURE, Buffer.from('not really an image, served as it is')]);
    writeFileSync(logo, bytes);
    const { app } = await buildTestApp({
      overrides: { portal: { logoFile: logo, productName: 'Acme <Keys>', title: 'Cloud access' } },
    });
    for (const route of ['/portal/assets/logo', '/favicon.ico']) {
      const response = await request(app).get(route).buffer(true).parse(binary);
      assert.equal(response.status, 200);
      assert.equal(response.headers['content-type'], 'image/png');
      assert.deepEqual(response.body, bytes);
    }
    const page = await request(app).get('/portal');
    assert.equal(page.status, 200);
    assert.match(
      page.text,
      /<p class="brand"><a href="\/portal"><img src="\/portal\/assets\/logo" alt="" width="28" height="28"><span class="product">Acme &lt;Keys&gt;<\/span>\s*<span class="site">Cloud access<\/span><\/a><\/p>/,
    );
    assert.match(page.text, /<link rel="icon" href="\/favicon.ico">/);
    assert.match(page.text, /<title>Sign in · Cloud access<\/title>/);
  });

  it('refuses a logo that is missing, too large or not an image type it serves', () => {
    const large = path.join(dir, 'large.png');
    writeFileSync(large, Buffer.alloc(256 * 1024 + 1));
    const script = path.join(dir, 'logo.html');
    writeFileSync(script, '<script>alert(1)</script>');
    for (const [file, message] of [
      [path.join(dir, 'missing.svg'), /portal\.logoFile: cannot read .*missing\.svg \(ENOENT\)/],
      [large, /portal\.logoFile: .*large\.png is larger than 256 KiB/],
      [script, /portal\.logoFile: expected an \.svg, \.png/],
    ] as const) {
      assert.throws(
        () => testConfig({ portal: { logoFile: file } }),
        (error: unknown) => error instanceof ConfigError && error.problems.some((p) => message.test(p)),
      );
    }
  });
});
