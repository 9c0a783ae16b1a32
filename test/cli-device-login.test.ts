import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { fromProcess } from '@aws-sdk/credential-providers';
import { redisStoreAt } from './fixtures/oidc/keywarden-oidc.ts';
import { ADMIN_ARN, csrfTokenIn, type PortalStack, startPortalStack } from './fixtures/portal/stack.ts';
import { BrowserSession } from './support/browser-session.ts';
import { loginThroughIdp } from './support/oidc-provider.ts';
import { type RedisServer, startRedis } from './support/redis-server.ts';

/**
 * The keywarden CLI end to end, as a child process: `keywarden login` (device authorization
 * grant against keywarden) approved in a signed-in portal session, the token kept owner-only
 * on disk, then `keywarden credential-process` run by the AWS SDK's own `fromProcess`
 * provider from a `~/.aws/config` profile, and `keywarden logout`. The device codes and CLI
 * tokens live in a real Redis, as in production.
 */

const CLI = path.resolve(import.meta.dirname, '../src/cli/keywarden.ts');
const run = promisify(execFile);

let stack: PortalStack;
let redis: RedisServer;
let home: string;
const secrets: string[] = [];

function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env.XDG_CONFIG_HOME;
  delete env.KEYWARDEN_URL;
  return env;
}

function tokenFile(): string {
  return path.join(home, '.config', 'keywarden', `${new URL(stack.url).host.replace(':', '_')}.json`);
}

/** Resolves with the first match of `pattern` in what the child writes to stderr. */
function waitForOutput(
  child: ChildProcess,
  pattern: RegExp,
  output: { text: string },
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(output.text);
      if (match) {
        child.stderr?.off('data', check);
        resolve(match);
      }
    };
    child.stderr?.on('data', check);
    child.once('exit', (code) =>
      reject(new Error(`the CLI exited (${code}) before printing ${pattern}: ${output.text}`)),
    );
    check();
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

async function signedInBrowser(username: string): Promise<BrowserSession> {
  const browser = new BrowserSession(stack.url);
  const { callback } = await loginThroughIdp(browser, '/auth/login/corp?returnTo=/portal', username);
  assert.equal(callback?.status, 303);
  return browser;
}

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: cliEnv(),
      timeout: 20_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('keywarden CLI: device sign-in, credential_process, logout', () => {
  before(async () => {
    redis = await startRedis();
    stack = await startPortalStack({ store: await redisStoreAt(redis.url) });
    home = mkdtempSync(path.join(tmpdir(), 'kw-cli-home-'));
  });
  after(async () => {
    stack?.logs.assertNoneContain(secrets);
    await stack?.close();
    await redis?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('signs in with a code approved in the portal, then the AWS SDK gets credentials through credential_process', async () => {
    const child = spawn(process.execPath, [CLI, 'login', '--url', stack.url], { env: cliEnv() });
    const output = { text: '' };
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      output.text += chunk;
    });
    try {
      const [, link] = await waitForOutput(child, /^\s+(http\S+)$/m, output);
      const [, code] = await waitForOutput(child, /this code: ([A-Z]{4}-[A-Z]{4})/, output);
      assert.ok(link && code);
      const verification = new URL(link);
      assert.equal(verification.origin, stack.url);
      assert.equal(verification.pathname, '/portal/device');
      assert.equal(verification.searchParams.get('user_code'), code);

      // The person opens the link in their (signed-in) browser and approves.
      const browser = await signedInBrowser('alice');
      const confirm = await browser.get(`${verification.pathname}${verification.search}`).expect(200);
      assert.match(confirm.text, new RegExp(`<p class="code" aria-label="Code">${code}</p>`));
      assert.match(confirm.text, /keywarden-cli\/0\.1\.0/, 'the page names the client that asked');
      const approved = await browser
        .post('/portal/device')
        .type('form')
        .set('Origin', stack.url)
        .send({ _csrf: csrfTokenIn(confirm.text), user_code: code, decision: 'approve' })
        .expect(200);
      assert.match(approved.text, /<h1>Device approved<\/h1>/);

      assert.equal(await exited(child), 0, output.text);
    } finally {
      child.kill();
    }
    assert.match(output.text, new RegExp(`Signed in to ${new URL(stack.url).host} as Alice Admin until `));
    assert.match(output.text, /Roles: admin, reader/);

    // The token is kept owner-only.
    const file = tokenFile();
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    assert.match(saved.accessToken, /^kwcli_[A-Za-z0-9_-]{43}$/);
    secrets.push(saved.accessToken);
    assert.doesNotMatch(output.text, new RegExp(saved.accessToken), 'the token is never printed');

    // The AWS SDK runs credential_process from a profile, as `aws --profile admin` would.
    const configFile = path.join(home, 'aws-config');
    writeFileSync(
      configFile,
      `[profile admin]\ncredential_process = "${process.execPath}" "${CLI}" credential-process --url ${stack.url} --role admin --duration 900\n`,
    );
    const previousHome = process.env.HOME;
    process.env.HOME = home;
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
      assert.equal(vended?.sessionToken, credentials.sessionToken);
      assert.ok(credentials.expiration instanceof Date);
      assert.ok(credentials.expiration.getTime() - Date.now() <= 900_000 + 5_000, 'the 900 s asked for');
    } finally {
      process.env.HOME = previousHome;
    }
    const issued = stack.logs
      .records()
      .filter((record) => record.event === 'credentials.issued' && record.subject === 'alice');
    assert.ok(issued.length >= 1, 'the vend is audited');
  });

  it('prints nothing on stdout and exits 1 for a role the user does not have', async () => {
    const result = await runCli(['credential-process', '--url', stack.url, '--role', 'auditor']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /403 role_not_allowed/);
  });

  it('refuses a token file that others can read', async () => {
    const file = tokenFile();
    chmodSync(file, 0o644);
    try {
      const result = await runCli(['credential-process', '--url', stack.url, '--role', 'admin']);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /refusing to use .* readable by others \(mode 644\)/);
    } finally {
      chmodSync(file, 0o600);
    }
    chmodSync(path.dirname(file), 0o777);
    try {
      const result = await runCli(['credential-process', '--url', stack.url, '--role', 'admin']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /others may write to it/);
    } finally {
      chmodSync(path.dirname(file), 0o700);
    }
  });

  it('refuses plain http to anything but this machine', async () => {
    const result = await runCli(['login', '--url', 'http://keywarden.example.com']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /must be reached over https/);
  });

  it('logs out: the token is revoked at keywarden and the file is gone', async () => {
    const token = JSON.parse(readFileSync(tokenFile(), 'utf8')).accessToken as string;
    const before = await fetch(`${stack.url}/auth/session`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(before.status, 200);
    const result = await runCli(['logout', '--url', stack.url]);
    assert.equal(result.code, 0, result.stderr);
    assert.throws(() => statSync(tokenFile()), /ENOENT/);
    const afterwards = await fetch(`${stack.url}/auth/session`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(afterwards.status, 401);
    assert.match(afterwards.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const again = await runCli(['credential-process', '--url', stack.url, '--role', 'admin']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not signed in to .*keywarden login --url/);
  });
});
