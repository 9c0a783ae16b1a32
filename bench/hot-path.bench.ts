/**
 * The hot path, measured against a reference server in the same run.
 *
 *   npm run bench                 (needs redis-server and taskset on PATH; ~8 minutes)
 *   npm run build:server && BENCH_SECONDS=3 BENCH_ROUNDS=2 BENCH_ONLY=session node bench/hot-path.bench.ts
 *
 * What runs: one redis-server; the reference server (bare Express 5 + node-redis, one GET of a
 * 400-byte JSON value, per-command timeouts off); keywarden (the production build's createApp on that Redis, logging
 * at info, metrics on, rate limits on with limits the load never reaches) signed in through a
 * real OIDC provider, with a bearer issuer, guests and a bucket, vending from the AWS test
 * double. On machines with 2 or more cores every server is pinned to core 0 and everything
 * else (the load generator, Redis, the IdP and the AWS double) to core 1.
 *
 * Rounds alternate targets: reference, each keywarden scenario, the "least hot path", and the
 * reference again (the A/A control: how far two measurements of the same server differ).
 * Per target and round: req/s, server CPU µs per request (utime + stime from /proc/<pid>/stat),
 * p50/p99 latency, and Redis commands per request (INFO commandstats before and after). Then
 * each target once more at half its saturating rate for the p99 that users see, and the
 * servers' RSS before and after. Ratios carry over to other machines; absolute figures don't.
 *
 * Nothing here asserts anything: it prints a table (and JSON with BENCH_JSON=path).
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@redis/client';
import autocannon from 'autocannon';
import { BUCKET, cacheKeyEntry, credentialOverrides } from '../test/fixtures/credentials/config.ts';
import { mergeOverrides } from '../test/fixtures/credentials/harness.ts';
import { DEFAULT_SERVICE_CREDENTIALS, startAwsDouble } from '../test/support/aws-double/index.ts';
import { BrowserSession } from '../test/support/browser-session.ts';
import { startJwksIssuer } from '../test/support/jwks-issuer.ts';
import { loginThroughIdp, startOidcProvider } from '../test/support/oidc-provider.ts';
import { freePort } from '../test/support/redis-server.ts';
import { benchNodeFlags } from './support/production-flags.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ONLY = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
const API_AUDIENCE = 'https://api.keywarden.bench';
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
const CORES = availableParallelism();
const PIN = CORES >= 2;
const PROFILE_DIR = process.env.BENCH_PROFILE;
const here = import.meta.dirname;

interface Target {
  name: string;
  server: 'reference' | 'keywarden';
  request: { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string };
}

interface Sample {
  rps: number;
  requests: number;
  non2xx: number;
  errors: number;
  cpuUsPerRequest: number;
  p50: number;
  p99: number;
  redisCommandsPerRequest: number;
}

function pin(pid: number, core: number): void {
  if (PIN) execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function startRedisServer(): Promise<{ url: string; child: ChildProcess; dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'kw-bench-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn('redis-server', [...args, '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  pin(child.pid!, 1);
  return { url: `redis://127.0.0.1:${port}`, child, dir };
}

/**
 * BENCH_MODE=instructions: servers run under valgrind's callgrind, and each target is measured
 * in instructions per request over a fixed number of requests instead of req/s. Slow (minutes),
 * but the count does not move when other work shares the machine, which makes it the figure to
 * compare changes by on a busy or shared machine. Needs valgrind on PATH.
 */
const INSTRUCTIONS = process.env.BENCH_MODE === 'instructions';
const callgrindDir = INSTRUCTIONS ? mkdtempSync(path.join(tmpdir(), 'kw-callgrind-')) : '';

/** Forks a server script, pins it to core 0, and waits for the port it reports. */
async function startServer(
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; port: number }> {
  const child = INSTRUCTIONS
    ? spawn(
        'valgrind',
        [
          '--tool=callgrind',
          '--instr-atstart=no',
          `--callgrind-out-file=${callgrindDir}/${path.basename(script)}.%p`,
          process.execPath,
          path.join(here, script),
        ],
        { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] },
      )
    : fork(path.join(here, script), [], {
        // glibc's allocator settings (MALLOC_ARENA_MAX…) pass through, to measure their effect on RSS.
        env: {
          PATH: process.env.PATH,
          ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('MALLOC_'))),
          ...env,
        },
        // BENCH_PROFILE=dir: a CPU profile of keywarden, written when the run ends.
        execArgv: [
          ...(PROFILE_DIR && script.includes('keywarden')
            ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR]
            : []),
          // keywarden (not the reference) runs with the image's V8 flags, or BENCH_NODE_FLAGS.
          ...(script.includes('keywarden') ? benchNodeFlags() : []),
        ],
        // BENCH_LOG=file keeps keywarden's log lines (normally discarded) for inspection.
        stdio: [
          'ignore',
          process.env.BENCH_LOG && script.includes('keywarden')
            ? openSync(process.env.BENCH_LOG, 'w')
            : 'ignore',
          'inherit',
          'ipc',
        ],
      });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  pin(child.pid!, 0);
  return { child, port };
}

/** Instructions the process executed while `work` ran (callgrind's Ir), for BENCH_MODE=instructions. */
async function instructionsDuring(pid: number, work: () => Promise<unknown>): Promise<number> {
  const control = (...args: string[]) =>
    execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' });
  control('-z');
  control('-i', 'on');
  await work();
  control('-i', 'off');
  const before = new Set(readdirSync(callgrindDir));
  control('-d');
  const dump = readdirSync(callgrindDir).find((name) => !before.has(name) && name.includes(String(pid)));
  if (!dump) throw new Error('callgrind wrote no dump');
  const text = readFileSync(path.join(callgrindDir, dump), 'utf8');
  const total = /^totals:\s+(\d+)/m.exec(text)?.[1];
  if (!total) throw new Error('no instruction total in the callgrind dump');
  return Number(total);
}

async function redisCommandCount(redis: { info(section: string): Promise<string> }): Promise<number> {
  const info = await redis.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (match[1] !== 'info') total += Number(match[2]);
  }
  return total;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  if (PIN) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const redisServer = await startRedisServer();
  const redis = createClient({ url: redisServer.url });
  await redis.connect();

  const aws = await startAwsDouble({ buckets: [BUCKET] });
  const jwks = await startJwksIssuer();
  const keywardenPort = await freePort();
  const publicUrl = `http://127.0.0.1:${keywardenPort}`;
  const idp = await startOidcProvider({
    clients: [
      {
        clientId: 'keywarden-bench',
        clientSecret: 'bench-client-secret',
        redirectUris: [`${publicUrl}/auth/callback/corp`],
      },
    ],
  });
  idp.setAccount('alice', { email: 'alice@example.com', groups: ['staff'] });

  const generous = { points: 1_000_000_000, windowSeconds: 60 };
  const credentials = credentialOverrides({ endpoint: aws.url, cacheKeys: [cacheKeyEntry('bench')] });
  const overrides = {
    ...credentials,
    server: { port: keywardenPort, publicUrl, trustProxyHops: 1 },
    store: { kind: 'redis', redis: { url: redisServer.url, keyPrefix: 'kw:' } },
    log: { level: 'info' },
    session: { secret: 'bench-session-secret-bench-session-secret' },
    auth: {
      providers: {
        corp: {
          kind: 'oidc',
          issuer: idp.issuer,
          clientId: 'keywarden-bench',
          clientSecret: 'bench-client-secret',
          claims: { groups: 'groups', email: 'email' },
        },
      },
    },
    bearer: {
      issuers: { mobile: { issuer: jwks.issuer, jwksUri: jwks.jwksUri, audiences: [API_AUDIENCE] } },
    },
    guests: { enabled: true },
    presign: { buckets: [{ name: BUCKET, region: 'us-east-1', endpoint: aws.url, credentialScope: 'own' }] },
    rateLimit: {
      enabled: true,
      groups: Object.fromEntries(
        ['default', 'auth', 'credentials', 'presign', 'guest'].map((group) => [
          group,
          group === 'default' || group === 'auth'
            ? { perIp: generous }
            : { perIp: generous, perIdentity: generous },
        ]),
      ),
    },
  };

  const reference = await startServer('support/reference-server.ts', { REDIS_URL: redisServer.url });
  const keywardenEnv = {
    // BENCH_OVERRIDES='{"log":{"level":"silent"}}' measures what one feature costs.
    KEYWARDEN_BENCH_OVERRIDES: JSON.stringify(
      mergeOverrides(overrides, JSON.parse(process.env.BENCH_OVERRIDES ?? '{}') as Record<string, unknown>),
    ),
    AWS_ACCESS_KEY_ID: DEFAULT_SERVICE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_SERVICE_CREDENTIALS.secretAccessKey,
  };
  let keywarden = await startServer('support/keywarden-server.mjs', keywardenEnv);
  const pids = { reference: reference.child.pid!, keywarden: keywarden.child.pid! };
  async function shutdown(): Promise<void> {
    const exited = [reference, keywarden].map(
      ({ child }) => new Promise((resolve) => child.once('exit', resolve)),
    );
    reference.child.disconnect();
    keywarden.child.disconnect();
    // keywarden writes its CPU profile (BENCH_PROFILE) on its way out.
    await Promise.all(exited);
    await redis.quit();
    redisServer.child.kill('SIGKILL');
    rmSync(redisServer.dir, { recursive: true, force: true });
    if (callgrindDir) rmSync(callgrindDir, { recursive: true, force: true });
    await aws.close();
    await jwks.close();
    await idp.stop();
  }
  const ports = { reference: reference.port, keywarden: keywarden.port };
  const rssIdle = { reference: rssMb(pids.reference), keywarden: rssMb(pids.keywarden) };

  // The callers: a signed-in browser, a mobile app with a bearer JWT, a guest app.
  const browser = new BrowserSession(publicUrl);
  const login = await loginThroughIdp(browser, '/auth/login/corp?returnTo=/', 'alice');
  if (!login.callback || login.callback.status >= 400) throw new Error('bench sign-in failed');
  const cookieName = [...browser.jar.keys()].find((name) => name.endsWith('keywarden'));
  if (!cookieName) throw new Error(`no session cookie after sign-in: ${[...browser.jar.keys()]}`);
  const cookie = `${cookieName}=${browser.cookie(cookieName)}`;
  const bearer = await jwks.sign({
    aud: API_AUDIENCE,
    sub: 'bench-mobile-user',
    exp: Date.now() / 1000 + 86_400,
  });
  const guest = (await (await fetch(`${publicUrl}/identities/guest`, { method: 'POST' })).json()) as {
    guestToken?: string;
  };
  if (!guest.guestToken) throw new Error('no guest token');

  const browserHeaders = { cookie, 'x-csrf': '1' };
  const targets: Target[] = [
    { name: 'reference', server: 'reference', request: { method: 'GET', path: '/ref', headers: {} } },
    {
      name: 'session',
      server: 'keywarden',
      request: { method: 'GET', path: '/credentials?scope=own', headers: browserHeaders },
    },
    {
      name: 'bearer',
      server: 'keywarden',
      request: {
        method: 'GET',
        path: '/credentials?scope=own',
        headers: { authorization: `Bearer ${bearer}` },
      },
    },
    {
      name: 'guest',
      server: 'keywarden',
      request: { method: 'GET', path: '/credentials', headers: { 'x-guest-token': guest.guestToken } },
    },
    {
      name: 'presign',
      server: 'keywarden',
      request: {
        method: 'POST',
        path: '/presign',
        headers: { ...browserHeaders, 'content-type': 'application/json' },
        body: JSON.stringify({ operation: 'getObject', key: 'photos/cat.jpg' }),
      },
    },
    { name: 'least hot path', server: 'reference', request: { method: 'GET', path: '/least', headers: {} } },
    { name: 'reference (A/A)', server: 'reference', request: { method: 'GET', path: '/ref', headers: {} } },
  ].filter(
    (target) => !ONLY || target.name.startsWith('reference') || ONLY.includes(target.name),
  ) as Target[];

  // Every keywarden scenario must succeed before it is measured (and fills the credential cache).
  for (const target of targets) {
    const response = await fetch(`http://127.0.0.1:${ports[target.server]}${target.request.path}`, {
      method: target.request.method,
      headers: target.request.headers,
      ...(target.request.body ? { body: target.request.body } : {}),
    });
    if (response.status !== 200) {
      throw new Error(`${target.name} answered ${response.status}: ${await response.text()}`);
    }
  }

  if (process.env.BENCH_MODE === 'soak') {
    // BENCH_MODE=soak: keywarden's memory over BENCH_SOAK_SECONDS (default 600) of cache-hit
    // sessions at half the rate it saturates at, sampled every 30 s.
    const target = targets.find((candidate) => candidate.name === 'session')!;
    const soakSeconds = Number(process.env.BENCH_SOAK_SECONDS ?? 600);
    await run(target, 5);
    const saturating = (await run(target, SECONDS)).rps;
    const rate = Math.round(saturating / 2);
    // A fresh process for the soak: what it holds after minutes at half rate, not what the
    // saturating measurement left behind. Sessions and cached credentials are in Redis.
    const exited = new Promise((resolve) => keywarden.child.once('exit', resolve));
    keywarden.child.disconnect();
    await exited;
    keywarden = await startServer('support/keywarden-server.mjs', keywardenEnv);
    pids.keywarden = keywarden.child.pid!;
    ports.keywarden = keywarden.port;
    const samples: Array<{ atSeconds: number; rssMb: number; p99: number; failed: number }> = [
      { atSeconds: 0, rssMb: rssMb(pids.keywarden), p99: 0, failed: 0 },
    ];
    for (let at = 30; at <= soakSeconds; at += 30) {
      const window = await run(target, 30, rate);
      samples.push({
        atSeconds: at,
        rssMb: rssMb(pids.keywarden),
        p99: window.p99,
        failed: window.non2xx + window.errors,
      });
      process.stderr.write(
        `soak ${at}/${soakSeconds} s: RSS ${samples.at(-1)!.rssMb} MB, p99 ${window.p99} ms\n`,
      );
    }
    if (process.env.BENCH_MEMORY_DETAIL) {
      const memory = await new Promise<unknown>((resolve) => {
        keywarden.child.once('message', (message) => resolve((message as { memory: unknown }).memory));
        keywarden.child.send('memory');
      });
      process.stderr.write(`keywarden memory after the soak: ${JSON.stringify(memory)}\n`);
    }
    const later = samples
      .filter((sample) => sample.atSeconds >= soakSeconds / 2)
      .map((sample) => sample.rssMb);
    console.log(
      [
        `soak: session cache hits at ${rate} req/s (half of ${Math.round(saturating)}) for ${soakSeconds} s`,
        '',
        '| at | RSS MB | p99 ms | failed |',
        '|---|---|---|---|',
        ...samples.map(
          (sample) => `| ${sample.atSeconds} s | ${sample.rssMb} | ${sample.p99} | ${sample.failed} |`,
        ),
        '',
        `RSS max ${Math.max(...samples.map((sample) => sample.rssMb))} MB; second half ${Math.min(...later)}–${Math.max(...later)} MB`,
      ].join('\n'),
    );
    await shutdown();
    return;
  }

  if (INSTRUCTIONS) {
    const amount = Number(process.env.BENCH_REQUESTS ?? 2_000);
    const load = (target: Target, count: number) =>
      autocannon({
        url: `http://127.0.0.1:${ports[target.server]}`,
        connections: 10,
        amount: count,
        requests: [target.request],
      });
    const perRequest = new Map<string, number>();
    for (const target of targets) {
      // Warm up until the JIT has settled (under valgrind everything is ~50× slower).
      await load(target, amount * 2);
      const instructions = await instructionsDuring(pids[target.server], () => load(target, amount));
      perRequest.set(target.name, instructions / amount);
      process.stderr.write(`${target.name}: ${Math.round(instructions / amount)} instructions/request\n`);
    }
    const referenceCount = perRequest.get('reference')!;
    console.log(
      [
        `instructions per request (callgrind, ${amount} requests per target after ${amount * 2} to warm up)`,
        '',
        '| target | instructions/request | × reference |',
        '|---|---|---|',
        ...[...perRequest].map(
          ([name, count]) => `| ${name} | ${Math.round(count)} | ${(count / referenceCount).toFixed(2)} |`,
        ),
      ].join('\n'),
    );
    await shutdown();
    return;
  }

  async function run(target: Target, seconds: number, rate?: number) {
    const pid = pids[target.server];
    const ticks = cpuTicks(pid);
    const commands = await redisCommandCount(redis);
    const result = await autocannon({
      url: `http://127.0.0.1:${ports[target.server]}`,
      connections: CONNECTIONS,
      duration: seconds,
      ...(rate ? { overallRate: rate } : {}),
      requests: [target.request],
    });
    const cpuUs = ((cpuTicks(pid) - ticks) / CLK_TCK) * 1e6;
    const redisCommands = (await redisCommandCount(redis)) - commands;
    const requests = result.requests.total;
    return {
      rps: requests / seconds,
      requests,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      cpuUsPerRequest: cpuUs / Math.max(1, requests),
      p50: result.latency.p50,
      p99: result.latency.p99,
      redisCommandsPerRequest: redisCommands / Math.max(1, requests),
    } satisfies Sample;
  }

  process.stderr.write(`warming up (${targets.length} targets)\n`);
  for (const target of targets) await run(target, 2);

  const samples = new Map<string, Sample[]>(targets.map((target) => [target.name, []]));
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const target of targets) {
      const sample = await run(target, SECONDS);
      samples.get(target.name)!.push(sample);
      process.stderr.write(
        `round ${round}/${ROUNDS} ${target.name}: ${Math.round(sample.rps)} req/s, ${sample.cpuUsPerRequest.toFixed(0)} µs CPU/req, p99 ${sample.p99} ms${sample.non2xx ? `, ${sample.non2xx} non-2xx` : ''}\n`,
      );
    }
  }

  // The reference of a round is the mean of its two measurements (A and A/A).
  const referenceRps = (round: number) => {
    const a = samples.get('reference')![round]!.rps;
    const aa = samples.get('reference (A/A)')?.[round]?.rps ?? a;
    return (a + aa) / 2;
  };
  const aaNoise = median(
    samples.get('reference')!.map((sample, round) => {
      const aa = samples.get('reference (A/A)')?.[round]?.rps ?? sample.rps;
      return Math.abs(sample.rps - aa) / ((sample.rps + aa) / 2);
    }),
  );

  const halfRate = new Map<string, Sample>();
  for (const target of targets) {
    if (target.name === 'reference (A/A)') continue;
    const saturating = median(samples.get(target.name)!.map((sample) => sample.rps));
    halfRate.set(target.name, await run(target, SECONDS, Math.max(1, Math.round(saturating / 2))));
  }
  const rssAfter = { reference: rssMb(pids.reference), keywarden: rssMb(pids.keywarden) };
  const keywardenMemory = await new Promise<unknown>((resolve) => {
    keywarden.child.once('message', (message) => resolve((message as { memory: unknown }).memory));
    keywarden.child.send('memory');
  });
  if (process.env.BENCH_MEMORY_DETAIL)
    process.stderr.write(`keywarden memory after load: ${JSON.stringify(keywardenMemory)}\n`);

  const rows = targets.map((target) => {
    const list = samples.get(target.name)!;
    const ratios = list.map((sample, round) => sample.rps / referenceRps(round));
    const half = halfRate.get(target.name);
    return {
      target: target.name,
      ratio: Number(median(ratios).toFixed(2)),
      ratioRange: [Number(Math.min(...ratios).toFixed(2)), Number(Math.max(...ratios).toFixed(2))],
      rps: Math.round(median(list.map((sample) => sample.rps))),
      cpuUsPerRequest: Math.round(median(list.map((sample) => sample.cpuUsPerRequest))),
      p50: median(list.map((sample) => sample.p50)),
      p99: median(list.map((sample) => sample.p99)),
      p99AtHalfRate: half?.p99,
      redisCommandsPerRequest: Number(
        median(list.map((sample) => sample.redisCommandsPerRequest)).toFixed(2),
      ),
      failed: list.reduce((sum, sample) => sum + sample.non2xx + sample.errors, 0),
    };
  });

  const lines = [
    `hot path, ${ROUNDS} rounds × ${SECONDS} s, ${CONNECTIONS} connections, ${CORES} cores${PIN ? ' (servers pinned to core 0, load and Redis to core 1)' : ' (not pinned: one core)'}, node ${process.version}, keywarden's node flags: ${benchNodeFlags().join(' ') || '(none)'}`,
    '',
    '| target | ratio to reference (min–max) | req/s | CPU µs/req | p50 ms | p99 ms | p99 ms at ½ rate | Redis cmds/req | failed |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${row.target} | ${row.ratio.toFixed(2)} (${row.ratioRange[0]!.toFixed(2)}–${row.ratioRange[1]!.toFixed(2)}) | ${row.rps} | ${row.cpuUsPerRequest} | ${row.p50} | ${row.p99} | ${row.p99AtHalfRate ?? '–'} | ${row.redisCommandsPerRequest} | ${row.failed} |`,
    ),
    '',
    `A/A noise (reference measured twice per round, median relative difference): ${(aaNoise * 100).toFixed(1)} %`,
    `RSS MB, idle → after load: reference ${rssIdle.reference} → ${rssAfter.reference}, keywarden ${rssIdle.keywarden} → ${rssAfter.keywarden}`,
  ];
  console.log(lines.join('\n'));
  if (process.env.BENCH_JSON) {
    writeFileSync(
      process.env.BENCH_JSON,
      JSON.stringify({ rows, aaNoise, rssIdle, rssAfter, rounds: ROUNDS, seconds: SECONDS }, null, 2),
    );
  }

  await shutdown();
}

await main();
