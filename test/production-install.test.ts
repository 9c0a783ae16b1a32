import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type RedisServer, startRedis } from './support/redis-server.ts';
import { repoRoot, startService } from './support/service-process.ts';

const run = promisify(execFile);

/**
 * What the container image does, without Docker: compile to dist/, install production
 * dependencies only (`npm ci --omit=dev`) in a clean folder, start `node dist/main.js`
 * with NODE_ENV=production against Redis, and probe it.
 */
describe('production install (what the image runs)', () => {
  let dir: string;
  let redis: RedisServer;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kw-prod-'));
    redis = await startRedis();
    await run(process.execPath, [
      path.join(repoRoot, 'node_modules/typescript/bin/tsc'),
      '-p',
      path.join(repoRoot, 'tsconfig.build.json'),
      '--outDir',
      path.join(dir, 'dist'),
    ]);
    for (const entry of ['package.json', 'package-lock.json', '.npmrc', 'config', 'openapi']) {
      cpSync(path.join(repoRoot, entry), path.join(dir, entry), { recursive: true });
    }
    await run(
      'npm',
      ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'],
      {
        cwd: dir,
        env: { ...process.env, NODE_ENV: 'production' },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  });

  after(async () => {
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('has no development dependencies installed', () => {
    assert.ok(existsSync(path.join(dir, 'node_modules/express')));
    assert.ok(!existsSync(path.join(dir, 'node_modules/typescript')), 'typescript is a dev dependency');
    assert.ok(!existsSync(path.join(dir, 'node_modules/supertest')), 'supertest is a dev dependency');
  });

  it('starts with node dist/main.js in production and answers /healthz and /readyz', async () => {
    // Secrets arrive as mounted files, as the helm chart passes them.
    const sessionSecret = randomBytes(32).toString('base64url');
    const secretFile = path.join(dir, 'session-secret');
    writeFileSync(secretFile, `${sessionSecret}\n`, { mode: 0o600 });
    const service = startService({
      cwd: dir,
      entry: path.join(dir, 'dist/main.js'),
      env: { NODE_ENV: 'production', REDIS_URL: redis.url, KEYWARDEN_SESSION__SECRET_FILE: secretFile },
    });
    const port = await service.listening;
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/openapi.json`)).status, 200);
    service.child.kill('SIGTERM');
    assert.deepEqual(await service.exited, { code: 0, signal: null });
    assert.ok(!service.output().includes(sessionSecret), 'the secret is not logged');
  });

  it('refuses the in-memory store in production', async () => {
    const service = startService({
      cwd: dir,
      entry: path.join(dir, 'dist/main.js'),
      env: { NODE_ENV: 'production' },
    });
    const { code } = await service.exited;
    assert.notEqual(code, 0);
    assert.match(service.output(), /store\.redis\.url: required when store\.kind is redis/);
  });
});
