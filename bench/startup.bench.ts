/**
 * Start-up time and idle memory of the production build, as a container would run it:
 * `node dist/main.js` with NODE_ENV=production, Redis, an OIDC provider, a bearer issuer,
 * credential vending and one bucket configured (nothing is called until a request needs it).
 *
 *   npm run build:server && node bench/startup.bench.ts     (needs redis-server on PATH)
 *
 * Reports, over BENCH_STARTS runs (default 7): the median and worst time from spawn to the first
 * `/readyz` 200, and RSS once idle (BENCH_IDLE_SECONDS after ready, default 5). The first start
 * of a build fills Node's compile cache; it is reported apart (cold) from the others (warm).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startRedis } from '../test/support/redis-server.ts';
import { benchNodeFlags } from './support/production-flags.ts';

const STARTS = Number(process.env.BENCH_STARTS ?? 7);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 5);
const root = path.resolve(import.meta.dirname, '..');
const entry = path.join(root, 'dist/main.js');

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

async function readyAfter(port: number, started: number, deadline: number): Promise<number> {
  while (performance.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (response.status === 200) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  throw new Error('keywarden did not become ready in time');
}

async function main(): Promise<void> {
  if (!existsSync(entry)) throw new Error('no dist/main.js: run `npm run build:server` first');
  const redis = await startRedis();
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'kw-compile-cache-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    NODE_COMPILE_CACHE: cacheDir,
    REDIS_URL: redis.url,
    KEYWARDEN_LOG__LEVEL: 'warn',
    KEYWARDEN_SESSION__SECRET: randomBytes(32).toString('base64url'),
    KEYWARDEN_CACHE__KEYS: `k1:${randomBytes(32).toString('base64')}`,
    KEYWARDEN_SERVER__PUBLIC_URL: 'https://keywarden.example',
    KEYWARDEN_AUTH__PROVIDERS__CORP__CLIENT_SECRET: 'bench-client-secret',
    AWS_ACCESS_KEY_ID: 'AKIABENCHSTARTUP0001',
    AWS_SECRET_ACCESS_KEY: 'bench/startup/secret/0000000000000000000',
    KEYWARDEN_CONFIG: path.join(import.meta.dirname, 'support/startup-config.yaml'),
  };
  const runs: Array<{ readyMs: number; rssMb: number }> = [];
  try {
    for (let run = 0; run < STARTS; run += 1) {
      const port = await freePort();
      const started = performance.now();
      // As the image starts it: with the Dockerfile CMD's flags (or BENCH_NODE_FLAGS).
      const flags = benchNodeFlags();
      const child = spawn(process.execPath, [...flags, entry], {
        env: { ...env, PORT: String(port) },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const readyMs = await readyAfter(port, started, started + 30_000);
      await sleep(IDLE_SECONDS * 1000);
      runs.push({ readyMs, rssMb: rssMb(child.pid!) });
      child.kill('SIGTERM');
      await exited;
    }
  } finally {
    await redis.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  }
  const [cold, ...warm] = runs;
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const readies = warm.map((run) => run.readyMs);
  console.log(
    [
      `start-up of dist/main.js (production config, Redis), ${STARTS} starts, node ${process.version} ${benchNodeFlags().join(' ')}`,
      '',
      '| measure | value |',
      '|---|---|',
      `| spawn → /readyz 200, first start (compile cache cold) | ${Math.round(cold!.readyMs)} ms |`,
      `| spawn → /readyz 200, later starts: median (worst) | ${Math.round(median(readies))} ms (${Math.round(Math.max(...readies))} ms) |`,
      `| RSS ${IDLE_SECONDS} s after ready: median (max) | ${median(warm.map((run) => run.rssMb))} MB (${Math.max(...warm.map((run) => run.rssMb))} MB) |`,
    ].join('\n'),
  );
}

await main();
