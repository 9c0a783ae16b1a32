import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A port the OS reports free right now (the server binds it a moment later). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Freezes the process (SIGSTOP): connections stay open but nothing answers. */
  pause(): void;
  resume(): void;
  /** Stops the server; `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

function waitForReady(child: ChildProcess, label: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${label} did not start:\n${output}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited with ${code}:\n${output}`));
    });
  });
}

async function startRedisProcess(port: number, dir: string, extra: string[] = []): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await waitForReady(child, `redis-server :${port}`);
  return child;
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGCONT');
  child.kill('SIGKILL');
  await exited;
}

/** A real redis-server on a free loopback port, for one test file. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'kw-redis-'));
  let child: ChildProcess | undefined = await startRedisProcess(port, dir);
  process.once('exit', () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    stop: async () => {
      await stopProcess(child);
      child = undefined;
    },
    start: async () => {
      if (!child) child = await startRedisProcess(port, dir);
    },
  };
}

export async function stopRedis(server: RedisServer | undefined): Promise<void> {
  await server?.stop();
}

export interface RedisCluster {
  readonly nodes: ReadonlyArray<{ host: string; port: number }>;
  stop(): Promise<void>;
}

/** Three masters, no replicas, slots spread by redis-cli: enough to prove cross-shard behaviour. */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kw-redis-cluster-'));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  for (let index = 0; index < masters; index += 1) {
    const port = await freePort();
    ports.push(port);
    children.push(
      await startRedisProcess(port, dir, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        path.join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '2000',
      ]),
    );
  }
  process.once('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
  await run('redis-cli', [
    '--cluster',
    'create',
    ...ports.map((port) => `127.0.0.1:${port}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ]);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { stdout } = await run('redis-cli', ['-p', String(ports[0]), 'cluster', 'info']);
    if (stdout.includes('cluster_state:ok')) break;
    if (Date.now() > deadline) throw new Error(`redis cluster did not become ready:\n${stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    stop: async () => {
      await Promise.all(children.map((child) => stopProcess(child)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisSentinel {
  readonly masterName: string;
  readonly sentinels: ReadonlyArray<{ host: string; port: number }>;
  readonly master: RedisServer;
  stop(): Promise<void>;
}

/** A master and one Sentinel watching it: enough to prove the client finds the master through Sentinel. */
export async function startRedisSentinel(masterName = 'kwmaster'): Promise<RedisSentinel> {
  const master = await startRedis();
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'kw-sentinel-'));
  const configFile = path.join(dir, 'sentinel.conf');
  writeFileSync(
    configFile,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 1`,
      `sentinel down-after-milliseconds ${masterName} 5000`,
      '',
    ].join('\n'),
  );
  const child = spawn('redis-server', [configFile, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`sentinel did not start:\n${output}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('+monitor master')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  process.once('exit', () => child.kill('SIGKILL'));
  return {
    masterName,
    master,
    sentinels: [{ host: '127.0.0.1', port }],
    stop: async () => {
      await stopProcess(child);
      await master.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
