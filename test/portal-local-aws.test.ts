/**
 * The portal in development with the local AWS: the credentials it hands out work against the
 * local AWS only, so the snippets a developer copies must point the AWS SDKs and CLI there
 * (AWS_ENDPOINT_URL, `endpoint_url`). Proven the way a developer uses them: the shell export
 * lines, pasted into a shell that runs a Node script with the AWS SDK, reach keywarden's
 * local STS and S3. Without the local AWS, no endpoint line is written.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import {
  credentialProcessProfile,
  powerShellVariables,
  shellExports,
} from '../src/portal/credential-snippets.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { csrfTokenIn } from './fixtures/portal/stack.ts';
import { BrowserSession } from './support/browser-session.ts';
import { captureLogs } from './support/logs.ts';
import { loginThroughIdp } from './support/oidc-provider.ts';
import { freePort } from './support/redis-server.ts';
import { repoRoot } from './support/service-process.ts';

const run = promisify(execFile);

let server: Server;
let baseUrl: string;
let dataDir: string;

function unescapeHtml(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The text of the copy block with this id (a <pre> on the credentials page). */
function copyBlockText(html: string, id: string): string {
  const match = new RegExp(`<pre[^>]*id="${id}"[^>]*>(?:<code[^>]*>)?([\\s\\S]*?)(?:</code>)?</pre>`).exec(
    html,
  );
  assert.ok(match?.[1], `no copy block #${id}`);
  return unescapeHtml(match[1]);
}

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'kw-portal-local-aws-'));
  const port = await freePort();
  baseUrl = `http://localhost:${port}`;
  const config = loadConfig({
    env: { NODE_ENV: 'development' },
    overrides: {
      server: { publicUrl: baseUrl, port },
      rateLimit: { enabled: false },
      localAws: { dataDir },
    },
  });
  assert.equal(config.localAws.enabled, true);
  const logs = captureLogs();
  server = createServer(await createApp({ config, store: new MemoryStore(), logger: logs.logger }));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('portal credential snippets with the local AWS', () => {
  it('name the local endpoint, and the pasted export lines work with the AWS SDK', async () => {
    const browser = new BrowserSession(baseUrl, { forwardedProto: undefined });
    const { callback } = await loginThroughIdp(browser, '/auth/login/dev?returnTo=/portal', 'snippet-user');
    assert.equal(callback?.status, 303);
    const home = await browser.get('/portal').expect(200);
    const page = await browser
      .post('/portal/credentials')
      .set('Origin', baseUrl)
      .type('form')
      .send({ role: 'developer', _csrf: csrfTokenIn(home.text) });
    assert.equal(page.status, 200, page.text.slice(0, 500));

    const endpoint = `${baseUrl}/local-aws`;
    const exports = copyBlockText(page.text, 'exports');
    assert.match(exports, new RegExp(`^export AWS_ENDPOINT_URL='${endpoint}'$`, 'm'));
    assert.match(
      copyBlockText(page.text, 'powershell'),
      new RegExp(`^\\$Env:AWS_ENDPOINT_URL = '${endpoint}'$`, 'm'),
    );
    assert.match(copyBlockText(page.text, 'config'), new RegExp(`^endpoint_url = ${endpoint}$`, 'm'));
    assert.match(page.text, /credentials for keywarden(?:&#39;|')s local AWS/);

    // A developer pastes the lines and runs a script with the AWS SDK, which reads
    // AWS_ENDPOINT_URL: STS knows the caller, and S3 takes an object under their prefix.
    const script = `
      import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
      import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
      const me = await new STSClient({ region: 'us-east-1' }).send(new GetCallerIdentityCommand({}));
      // keywarden names the STS session after the identity id, ':' made '.' (src/broker/credential-flows.ts).
      const identityId = me.Arn.split('/').at(-1).replace('.', ':');
      const s3 = new S3Client({ region: 'us-east-1', forcePathStyle: true });
      await s3.send(new PutObjectCommand({ Bucket: 'keywarden-local', Key: 'users/' + identityId + '/pasted.txt', Body: 'ok' }));
      console.log(me.Arn);
    `;
    const { stdout } = await run(
      '/bin/sh',
      ['-c', `${exports}\nexec "${process.execPath}" --input-type=module -e "$SCRIPT"`],
      { cwd: repoRoot, env: { PATH: process.env.PATH, HOME: dataDir, SCRIPT: script }, timeout: 30_000 },
    );
    assert.match(stdout, /^arn:aws:sts::\d{12}:assumed-role\/keywarden-local-developer\//);
  });
});

describe('portal credential snippets without the local AWS', () => {
  it('write no endpoint', () => {
    const credentials = {
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'token',
      expiration: new Date('2030-01-01T00:00:00Z'),
    };
    assert.doesNotMatch(shellExports(credentials), /ENDPOINT/);
    assert.doesNotMatch(powerShellVariables(credentials), /ENDPOINT/);
    assert.doesNotMatch(
      credentialProcessProfile({ command: 'keywarden', url: 'https://kw.example.com', role: 'admin' }),
      /endpoint_url|addressing_style/,
    );
  });
});
