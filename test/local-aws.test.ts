import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createApp } from '../src/app.ts';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { FileObjectStore } from '../src/local-aws/object-store.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { BrowserSession } from './support/browser-session.ts';
import { captureLogs } from './support/logs.ts';
import { loginThroughIdp } from './support/oidc-provider.ts';
import { freePort } from './support/redis-server.ts';
import { repoRoot } from './support/service-process.ts';

const run = promisify(execFile);

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('local AWS configuration', () => {
  it('is on in development and serves the endpoints derived from publicUrl', () => {
    const config = loadConfig({ env: { NODE_ENV: 'development', PORT: '6123' } });
    assert.equal(config.localAws.enabled, true);
    assert.equal(config.aws.endpoint, 'http://localhost:6123/local-aws');
    assert.deepEqual(
      config.presign.buckets.map((bucket) => [bucket.name, bucket.endpoint, bucket.forcePathStyle]),
      [['keywarden-local', 'http://localhost:6123/local-aws', true]],
    );
    assert.ok(config.aws.pool.identityPoolId, 'an identity pool');
    assert.ok(config.credentials.defaultRole && config.credentials.defaultScope, 'a role with a scope');
  });

  it('is refused in production, like the development IdP', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: { NODE_ENV: 'production', KEYWARDEN_SESSION__SECRET: 'x'.repeat(40) },
        overrides: {
          store: { kind: 'redis', redis: { url: 'redis://127.0.0.1:6379' } },
          localAws: { enabled: true },
        },
      }),
    );
    assert.ok(
      problems.some((problem) =>
        problem.startsWith('localAws.enabled: the local AWS issues local credentials'),
      ),
      problems.join('\n'),
    );
  });

  it('refuses settings it would silently override, and names what is wrong', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: { NODE_ENV: 'development' },
        overrides: {
          aws: { endpoint: 'http://127.0.0.1:4566' },
          presign: {
            buckets: [{ name: 'keywarden-local', region: 'eu-west-1', endpoint: 'http://127.0.0.1:4566' }],
          },
          localAws: {
            rolePolicies: {
              nobody: { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] },
              developer: { Statement: [{ Effect: 'Allow', Action: 's3:GetObject' }] },
            },
          },
        },
      }),
    );
    for (const expected of [
      /^aws\.endpoint: served by the local AWS while localAws\.enabled is true/,
      /^presign\.buckets\.0\.endpoint: served by the local AWS/,
      /^presign\.buckets\.0\.region: the local AWS serves one region, aws\.region \(us-east-1\)/,
      /^localAws\.rolePolicies\.developer\.Statement\.0: a statement has either Resource or NotResource/,
    ]) {
      assert.ok(
        problems.some((problem) => expected.test(problem)),
        `${expected} in:\n${problems.join('\n')}`,
      );
    }
  });

  it('is loaded only when enabled (a dynamic import in createApp)', async () => {
    // A fresh process, so no other test has loaded the module already.
    const probe = `
      import { createApp } from './src/app.ts';
      import { loadConfig } from './src/config/load.ts';
      import { MemoryStore } from './src/store/memory/memory-store.ts';
      import { createLogger } from './src/observability/logger.ts';
      import { registerHooks } from 'node:module';
      const loaded = [];
      registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
      const enabled = process.argv[1] === 'on';
      const config = loadConfig({ env: { NODE_ENV: 'development' }, overrides: { localAws: { enabled, dataDir: process.argv[2] } } });
      await createApp({ config, store: new MemoryStore(), logger: createLogger({ level: 'silent' }) });
      console.log(JSON.stringify(loaded.filter((url) => url.includes('/src/local-aws/')).length));
    `;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'kw-lazy-'));
    try {
      const count = async (flag: string) => {
        const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe, flag, dataDir], {
          cwd: repoRoot,
        });
        return Number(stdout.trim().split('\n').pop());
      };
      assert.equal(await count('off'), 0);
      assert.ok((await count('on')) > 0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('local AWS: the role policy and the session policy must both allow (in-process app)', () => {
  let server: Server;
  let baseUrl: string;
  let dataDir: string;
  let browser: BrowserSession;

  before(async () => {
    const port = await freePort();
    baseUrl = `http://localhost:${port}`;
    dataDir = mkdtempSync(path.join(tmpdir(), 'kw-local-aws-policy-'));
    const config = loadConfig({
      env: { NODE_ENV: 'development' },
      overrides: {
        server: { port },
        rateLimit: { enabled: false },
        localAws: {
          dataDir,
          // The role may read, but not write, whatever its session policy says.
          rolePolicies: {
            developer: {
              Statement: [
                { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::keywarden-local/*' },
              ],
            },
          },
        },
      },
    });
    server = createServer(
      await createApp({ config, store: new MemoryStore(), logger: captureLogs().logger }),
    );
    await new Promise<void>((resolve) => server.listen(port, resolve));
    browser = new BrowserSession(baseUrl, { forwardedProto: undefined });
    await loginThroughIdp(browser, '/auth/login/dev', 'reader');
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a PUT the session policy allows but the role policy does not', async () => {
    const put = await browser
      .post('/presign')
      .set('X-CSRF', '1')
      .send({ operation: 'putObject', key: 'x.txt', contentLength: 1 });
    assert.equal(put.status, 200);
    const response = await fetch(put.body.url, { method: 'PUT', headers: put.body.headers, body: 'x' });
    assert.equal(response.status, 403);
    assert.match(
      await response.text(),
      /<Code>AccessDenied<\/Code>.*no identity-based policy allows the s3:PutObject/s,
    );
  });

  it('allows a GET both allow, and refuses one outside the session policy', async () => {
    const get = await browser
      .post('/presign')
      .set('X-CSRF', '1')
      .send({ operation: 'getObject', key: 'x.txt' });
    // Allowed by both policies: S3 answers NoSuchKey (nothing was written), not AccessDenied.
    const allowed = await fetch(get.body.url);
    assert.equal(allowed.status, 404);
    assert.match(await allowed.text(), /<Code>NoSuchKey<\/Code>/);

    const credentials = await browser.post('/credentials').set('X-CSRF', '1').send({});
    assert.equal(credentials.status, 200);
    assert.equal(readdirSync(dataDir).includes('identities.json'), true);
  });
});

describe('local AWS: objects in a folder', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kw-objects-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps objects across reopening, with type, metadata and ETag, and forgets deleted ones', async () => {
    const first = await FileObjectStore.open(dir);
    const lastModified = new Date('2030-01-02T03:04:05.000Z');
    await first.put('bucket-a', 'users/u1/../../escape.txt', {
      body: Buffer.from('payload'),
      etag: '"e1"',
      contentType: 'text/plain',
      metadata: { owner: 'u1' },
      lastModified,
    });
    await first.put('bucket-a', 'gone.txt', { body: Buffer.from('x'), etag: '"e2"' });
    await first.delete('bucket-a', 'gone.txt');

    const reopened = await FileObjectStore.open(dir);
    const object = await reopened.get('bucket-a', 'users/u1/../../escape.txt');
    assert.equal(object?.body.toString(), 'payload');
    assert.equal(object?.contentType, 'text/plain');
    assert.deepEqual(object?.metadata, { owner: 'u1' });
    assert.equal(object?.etag, '"e1"');
    assert.deepEqual(object?.lastModified, lastModified);
    assert.equal(await reopened.get('bucket-a', 'gone.txt'), undefined);
    assert.deepEqual(
      (await reopened.list('bucket-a')).map((summary) => [summary.key, summary.size]),
      [['users/u1/../../escape.txt', 7]],
    );
    // Keys never become paths: everything stays inside the bucket's folder.
    assert.deepEqual(readdirSync(dir), ['bucket-a']);
  });
});
