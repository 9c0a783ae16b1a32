import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type AdminStack, startAdminStack } from './fixtures/admin/stack.ts';

/**
 * `keywarden admin …` run from the checkout as a child process, with the CLI token of a device
 * sign-in: the server decides admin-ness of the token's user by the portal's rules.
 */

const CLI = path.resolve(import.meta.dirname, '../src/cli/keywarden.ts');
const run = promisify(execFile);

let stack: AdminStack;
let configHome: string;

/** Stores a CLI token where `keywarden login` would have, for the instance's host. */
function signedInAs(token: string | undefined): NodeJS.ProcessEnv {
  const dir = path.join(configHome, 'keywarden');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${new URL(stack.a.url).host.replace(':', '_')}.json`);
  rmSync(file, { force: true });
  if (token) {
    writeFileSync(
      file,
      JSON.stringify({ url: stack.a.url, accessToken: token, expiresAt: Date.now() + 3_600_000 }),
      {
        mode: 0o600,
      },
    );
  }
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: configHome };
  delete env.KEYWARDEN_URL;
  return env;
}

async function cli(args: string[], env: NodeJS.ProcessEnv) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'admin', ...args, '--url', stack.a.url], {
      env,
      timeout: 20_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

before(async () => {
  stack = await startAdminStack();
  configHome = mkdtempSync(path.join(tmpdir(), 'kw-admin-cli-'));
});

after(async () => {
  stack?.a.logs.assertNoneContain(stack.secrets);
  await stack?.close();
  if (configHome) rmSync(configHome, { recursive: true, force: true });
});

describe('keywarden admin', () => {
  it('looks up, cuts off, lifts and erases a user with an admin’s CLI sign-in', async () => {
    const root = await stack.signIn(stack.a, 'root');
    const env = signedInAs(await stack.cliToken(root));
    stack.idp.setAccount('kim', { groups: ['staff'] });
    const kim = await stack.signIn(stack.b, 'kim');
    const kimBearer = await stack.bearer('kim');

    const lookup = await cli(['lookup', 'corp:kim'], env);
    assert.equal(lookup.code, 0, lookup.stderr);
    const found = JSON.parse(lookup.stdout) as { user: string; sessions: unknown[] };
    assert.equal(found.user, 'corp:kim');
    assert.equal(found.sessions.length, 1);
    assert.match(lookup.stderr, /corp:kim: 1 session\(s\), 0 CLI sign-in\(s\)/);

    const until = new Date(Date.now() + 3_600_000).toISOString();
    const revoked = await cli(['revoke', 'corp:kim', '--until', until, '--reason', 'INC-9'], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((JSON.parse(revoked.stdout) as { suspendedUntil: string }).suspendedUntil, until);
    assert.match(revoked.stderr, /corp:kim is cut off until/);
    assert.equal((await kim.get('/auth/session')).status, 401);
    const refused = await fetch(`${stack.b.url}/credentials`, {
      headers: { authorization: `Bearer ${kimBearer}` },
    });
    assert.equal(refused.status, 403);

    const lifted = await cli(['unsuspend', 'corp:kim'], env);
    assert.equal(lifted.code, 0, lifted.stderr);
    assert.match(lifted.stderr, /suspension is lifted/);
    const allowed = await fetch(`${stack.b.url}/credentials`, {
      headers: { authorization: `Bearer ${kimBearer}` },
    });
    assert.equal(allowed.status, 200);
    const allowedBody = (await allowed.json()) as {
      credentials: { secretAccessKey: string; sessionToken: string };
    };
    stack.secrets.push(allowedBody.credentials.secretAccessKey, allowedBody.credentials.sessionToken);

    const unconfirmed = await cli(['delete-identity', 'corp:kim'], env);
    assert.equal(unconfirmed.code, 2);
    assert.match(unconfirmed.stderr, /add --yes/);
    assert.ok(!stack.aws.calls.some((call) => call.operation === 'DeleteIdentities'), 'nothing was erased');
    const erased = await cli(['delete-identity', 'corp:kim', '--yes'], env);
    assert.equal(erased.code, 0, erased.stderr);
    assert.ok(stack.aws.calls.some((call) => call.operation === 'DeleteIdentities'));
  });

  it('refuses a non-admin, someone not signed in, and malformed commands', async () => {
    stack.idp.setAccount('lou', { groups: ['staff'] });
    const lou = await stack.signIn(stack.a, 'lou');
    const notAdmin = await cli(['lookup', 'corp:kim'], signedInAs(await stack.cliToken(lou)));
    assert.equal(notAdmin.code, 1);
    assert.match(notAdmin.stderr, /not an administrator/);
    assert.equal(notAdmin.stdout, '');

    const nobody = await cli(['lookup', 'corp:kim'], signedInAs(undefined));
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /not signed in/);

    const env = signedInAs(undefined);
    assert.equal((await cli(['explode', 'corp:kim'], env)).code, 2);
    assert.equal((await cli(['lookup', 'kim'], env)).code, 2);
    assert.equal((await cli(['revoke', 'corp:kim', '--until', 'tomorrow'], env)).code, 2);
  });
});
