import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { BrowserSession } from './support/browser-session.ts';
import { type CapturedLogs, captureLogs } from './support/logs.ts';
import { loginThroughIdp } from './support/oidc-provider.ts';
import { freePort } from './support/redis-server.ts';

/**
 * A server with sign-in but no credential vending at all (no identity pool, no role, no
 * bucket): a signed-in caller asking for credentials or a URL is told plainly that vending is
 * not configured here (501 `vending_not_configured`), not "An internal error occurred", and
 * start-up names the settings that are missing.
 */

let server: Server;
let baseUrl: string;
let configDir: string;
let logs: CapturedLogs;
let browser: BrowserSession;

before(async () => {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  // Only sign-in is configured: the development IdP over plain HTTP, nothing about AWS.
  configDir = mkdtempSync(path.join(tmpdir(), 'kw-no-vending-'));
  writeFileSync(
    path.join(configDir, 'development.yaml'),
    'auth: { devIdp: { enabled: true } }\nsession: { insecureDevCookies: true }\nrateLimit: { enabled: false }\n',
  );
  const config = loadConfig({
    configDir,
    env: { NODE_ENV: 'development' },
    overrides: { server: { publicUrl: baseUrl, port } },
  });
  logs = captureLogs();
  server = createServer(await createApp({ config, store: new MemoryStore(), logger: logs.logger }));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  browser = new BrowserSession(baseUrl, { forwardedProto: undefined });
  const { callback } = await loginThroughIdp(browser, '/auth/login/dev', 'early-bird');
  assert.equal(callback?.status, 303);
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(configDir, { recursive: true, force: true });
});

function assertNotConfigured(response: {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}) {
  assert.equal(response.status, 501);
  assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
  assert.equal(response.body.code, 'vending_not_configured');
  assert.equal(response.body.detail, 'Credential vending is not configured on this server.');
}

describe('credential vending not configured', () => {
  it('answers /credentials (POST and GET) with 501 vending_not_configured', async () => {
    assertNotConfigured(await browser.post('/credentials').set('X-CSRF', '1').send({}));
    assertNotConfigured(await browser.get('/credentials').set('X-CSRF', '1'));
  });

  it('answers /presign and /presign/multipart the same way, before any bucket question', async () => {
    assertNotConfigured(
      await browser.post('/presign').set('X-CSRF', '1').send({ operation: 'getObject', key: 'a.txt' }),
    );
    assertNotConfigured(
      await browser.post('/presign/multipart').set('X-CSRF', '1').send({ action: 'create', key: 'a.bin' }),
    );
  });

  it('still asks for sign-in first: an anonymous caller gets 401, not the configuration state', async () => {
    const anonymous = await new BrowserSession(baseUrl, { forwardedProto: undefined })
      .post('/credentials')
      .set('X-CSRF', '1')
      .send({});
    assert.equal(anonymous.status, 401);
  });

  it('names the missing settings in the start-up log', () => {
    const warning = logs
      .records()
      .find((record) => String(record.msg).startsWith('credential vending is not configured'));
    assert.ok(warning, 'a start-up warning about vending');
    assert.deepEqual(warning.missing, ['aws.pool.identityPoolId', 'credentials.roles']);
    assert.match(String(warning.msg), /set aws\.pool\.identityPoolId, credentials\.roles/);
    assert.equal(warning.level, 'warn');
  });
});
