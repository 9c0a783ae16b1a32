import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { fromProcess } from '@aws-sdk/credential-providers';
import { ADMIN_ARN, csrfTokenIn, type PortalStack, startPortalStack } from './fixtures/portal/stack.ts';
import { BrowserSession } from './support/browser-session.ts';
import { loginThroughIdp } from './support/oidc-provider.ts';
import { repoRoot } from './support/service-process.ts';

/**
 * The CLI as a user gets it: `npm pack` (whose prepack builds dist/), the tarball installed
 * into an empty project with production dependencies only, and the installed
 * `node_modules/.bin/keywarden` run for --help, login (approved in a portal session) and
 * credential-process (by the AWS SDK's own fromProcess).
 *
 * Offline: the install uses a lockfile made from keywarden's own (the versions `npm ci`
 * already put in the npm cache), so no registry metadata is needed.
 */

const run = promisify(execFile);

interface LockEntry {
  version?: string;
  dev?: boolean;
  [key: string]: unknown;
}

let work: string;
let app: string;
let tarball: string;
let packedFiles: string[];
let stack: PortalStack;
let home: string;
let bin: string;
const secrets: string[] = [];

function cliEnv(): NodeJS.ProcessEnv {
  // The bin starts with `#!/usr/bin/env node`: put this node first on PATH.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
  };
  delete env.XDG_CONFIG_HOME;
  delete env.KEYWARDEN_URL;
  return env;
}

async function installedCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(bin, args, { env: cliEnv(), timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** A lockfile for a project whose one dependency is the tarball, pinned like keywarden's own. */
function appLockfile(tarballName: string, integrity: string): unknown {
  const own = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const packages: Record<string, unknown> = {
    '': { name: 'cli-user', dependencies: { keywarden: `file:${tarballName}` } },
    'node_modules/keywarden': {
      version: manifest.version,
      resolved: `file:${tarballName}`,
      integrity,
      license: manifest.license,
      dependencies: manifest.dependencies,
      bin: manifest.bin,
      engines: manifest.engines,
    },
  };
  for (const [key, entry] of Object.entries(own.packages)) {
    if (key !== '' && !entry.dev) packages[key] = entry;
  }
  return { name: 'cli-user', lockfileVersion: 3, requires: true, packages };
}

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'kw-cli-package-'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [summary] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  assert.ok(summary);
  tarball = path.join(work, summary.filename);
  packedFiles = summary.files.map((file) => file.path);

  app = path.join(work, 'app');
  mkdirSync(app);
  const tarballName = path.basename(tarball);
  writeFileSync(path.join(app, tarballName), readFileSync(tarball));
  writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'cli-user', private: true, dependencies: { keywarden: `file:${tarballName}` } }),
  );
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify(appLockfile(tarballName, integrity)));
  await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: app,
    env: { ...process.env, NODE_ENV: 'production' },
    maxBuffer: 16 * 1024 * 1024,
  });
  bin = path.join(app, 'node_modules', '.bin', 'keywarden');

  stack = await startPortalStack();
  home = mkdtempSync(path.join(tmpdir(), 'kw-cli-package-home-'));
});

after(async () => {
  stack?.logs.assertNoneContain(secrets);
  await stack?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('the packed keywarden package', () => {
  it('ships the built JavaScript, not TypeScript sources or tests', () => {
    assert.ok(packedFiles.includes('dist/cli/keywarden.js'));
    assert.ok(packedFiles.includes('dist/main.js'));
    assert.deepEqual(
      packedFiles.filter((file) => /\.ts$|^(src|test|bench|bin)\//.test(file)),
      [],
    );
  });

  it('installs a keywarden command whose --help and --version work', async () => {
    assert.ok(existsSync(bin));
    const help = await installedCli(['--help']);
    assert.equal(help.code, 0, help.stderr);
    for (const command of ['login', 'credential-process', 'logout']) {
      assert.match(help.stderr, new RegExp(`keywarden ${command} --url`));
    }
    const version = await installedCli(['--version']);
    assert.equal(
      version.stdout.trim(),
      JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version,
    );
    const unknown = await installedCli(['frobnicate']);
    assert.equal(unknown.code, 2);
  });

  it('signs in with login and hands the AWS SDK credentials through credential-process', async () => {
    const child = spawn(bin, ['login', '--url', stack.url], { env: cliEnv() });
    let output = '';
    child.stderr.setEncoding('utf8');
    const code = await new Promise<RegExpMatchArray>((resolve, reject) => {
      child.stderr.on('data', (chunk: string) => {
        output += chunk;
        const match = /this code: ([A-Z]{4}-[A-Z]{4})/.exec(output);
        if (match) resolve(match);
      });
      child.once('exit', (exit) => reject(new Error(`login exited (${exit}) early: ${output}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const browser = new BrowserSession(stack.url);
      const { callback } = await loginThroughIdp(browser, '/auth/login/corp?returnTo=/portal', 'alice');
      assert.equal(callback?.status, 303);
      const confirm = await browser.get(`/portal/device?user_code=${code[1]}`).expect(200);
      await browser
        .post('/portal/device')
        .type('form')
        .set('Origin', stack.url)
        .send({ _csrf: csrfTokenIn(confirm.text), user_code: code[1], decision: 'approve' })
        .expect(200);
      assert.equal(await exited, 0, output);
    } finally {
      child.kill();
    }
    assert.match(output, /Signed in to .* as Alice Admin/);

    const configFile = path.join(home, 'aws-config');
    writeFileSync(
      configFile,
      `[profile admin]\ncredential_process = "${bin}" credential-process --url ${stack.url} --role admin\n`,
    );
    const previous = { HOME: process.env.HOME, PATH: process.env.PATH };
    Object.assign(process.env, { HOME: home, PATH: cliEnv().PATH });
    try {
      const credentials = await fromProcess({
        profile: 'admin',
        configFilepath: configFile,
        filepath: path.join(home, 'aws-credentials-none'),
      })();
      secrets.push(credentials.secretAccessKey, credentials.sessionToken ?? '');
      const vended = stack.aws.credentials.get(credentials.accessKeyId);
      assert.equal(vended?.roleArn, ADMIN_ARN);
      assert.equal(vended?.secretAccessKey, credentials.secretAccessKey);
    } finally {
      Object.assign(process.env, previous);
    }

    const logout = await installedCli(['logout', '--url', stack.url]);
    assert.equal(logout.code, 0, logout.stderr);
    const after = await installedCli(['credential-process', '--url', stack.url, '--role', 'admin']);
    assert.equal(after.code, 1);
    assert.equal(after.stdout, '');
    assert.match(after.stderr, /not signed in/);
  });
});
