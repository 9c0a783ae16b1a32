import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { BrowserSession } from './support/browser-session.ts';
import { loginThroughIdp } from './support/oidc-provider.ts';
import { freePort } from './support/redis-server.ts';
import { type ServiceProcess, startService } from './support/service-process.ts';

/**
 * The newcomer's whole path on a real process with the embedded development defaults and a
 * port of their choosing: `PORT=<any> npm start` → sign in at the development IdP →
 * /credentials → presigned PUT → presigned GET, then the same credentials with the AWS SDK
 * pointed at the local AWS as the start-up log says (AWS_ENDPOINT_URL), and after a restart
 * the object, the identity and the credentials are still there.
 */

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

const SPA_ORIGIN = 'http://localhost:5173';
let dataDir: string;
let service: ServiceProcess | undefined;

async function start(port: number): Promise<{ base: string; service: ServiceProcess }> {
  const started = startService({
    env: {
      PORT: String(port),
      KEYWARDEN_LOCAL_AWS__DATA_DIR: dataDir,
      KEYWARDEN_CORS__ORIGINS: `[${SPA_ORIGIN}]`,
    },
  });
  service = started;
  assert.equal(await started.listening, port);
  return { base: `http://localhost:${port}`, service: started };
}

async function stop(): Promise<void> {
  if (!service) return;
  service.child.kill('SIGTERM');
  assert.equal((await service.exited).code, 0);
  service = undefined;
}

async function signIn(base: string, username: string): Promise<BrowserSession> {
  const browser = new BrowserSession(base, { forwardedProto: undefined });
  const { callback } = await loginThroughIdp(browser, '/auth/login/dev', username);
  assert.equal(callback?.status, 303);
  return browser;
}

async function vend(browser: BrowserSession): Promise<{ identityId: string; credentials: Credentials }> {
  const response = await browser.post('/credentials').set('X-CSRF', '1').send({});
  assert.equal(response.status, 200, JSON.stringify(response.body));
  // As docs/local-aws.md shows: the SDK takes the expiration as a Date.
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = response.body.credentials;
  return {
    identityId: response.body.identityId,
    credentials: { accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiration) },
  };
}

async function presign(
  browser: BrowserSession,
  body: Record<string, unknown>,
): Promise<{ url: string; method: string; headers?: Record<string, string>; key: string }> {
  const response = await browser.post('/presign').set('X-CSRF', '1').send(body);
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body;
}

function s3(endpoint: string, credentials: Credentials): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
}

before(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'kw-local-aws-'));
});

after(async () => {
  if (service) service.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start on the embedded defaults with any PORT (real process)', () => {
  let firstKey: string;
  let firstIdentity: string;
  let firstCredentials: Credentials;

  it('signs in, vends local credentials and round-trips an object through presigned URLs', async () => {
    const port = await freePort();
    const { base, service: started } = await start(port);
    const output = started.output();
    assert.match(output, new RegExp(`development sign-in: open http://localhost:${port}/auth/login/dev`));
    assert.match(output, /LOCAL credentials that work only against keywarden's local AWS, not AWS/);
    assert.match(output, new RegExp(`AWS_ENDPOINT_URL=http://localhost:${port}/local-aws`));

    const browser = await signIn(base, 'newcomer');
    const vended = await vend(browser);
    assert.match(vended.identityId, /^us-east-1:/);
    assert.match(vended.credentials.accessKeyId, /^ASIA/);
    firstIdentity = vended.identityId;
    firstCredentials = vended.credentials;

    const body = 'hello from the newcomer';
    const put = await presign(browser, {
      operation: 'putObject',
      key: 'notes/hello.txt',
      contentType: 'text/plain',
      contentLength: body.length,
    });
    assert.ok(put.url.startsWith(`${base}/local-aws/keywarden-local/users/`), put.url);
    const uploaded = await fetch(put.url, {
      method: 'PUT',
      headers: put.headers,
      body,
    });
    assert.equal(uploaded.status, 200, await uploaded.text());
    firstKey = put.key;

    const get = await presign(browser, { operation: 'getObject', key: 'notes/hello.txt' });
    const downloaded = await fetch(get.url);
    assert.equal(downloaded.status, 200);
    assert.equal(await downloaded.text(), 'hello from the newcomer');
    assert.equal(downloaded.headers.get('content-type'), 'text/plain');
    // Served from keywarden's own origin: an uploaded page must not run as that origin.
    assert.equal(downloaded.headers.get('content-security-policy'), 'sandbox');
    assert.equal(downloaded.headers.get('x-content-type-options'), 'nosniff');

    // A presigned URL is bound to its key: the same signature for another key is refused.
    const tampered = await fetch(get.url.replace('hello.txt', 'other.txt'));
    assert.equal(tampered.status, 403);
  });

  it('answers a browser on a configured origin with CORS, and only that origin', async () => {
    const base = `http://localhost:${await startedPort()}`;
    const browser = await signIn(base, 'spa-user');
    const put = await presign(browser, {
      operation: 'putObject',
      key: 'spa.txt',
      contentType: 'text/plain',
      contentLength: 'from the SPA'.length,
    });
    const preflight = await fetch(put.url, {
      method: 'OPTIONS',
      headers: {
        origin: SPA_ORIGIN,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.equal(preflight.status, 200);
    assert.equal(preflight.headers.get('access-control-allow-origin'), SPA_ORIGIN);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /\bPUT\b/);
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type');

    const refused = await fetch(put.url, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'PUT' },
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('access-control-allow-origin'), null);

    const uploaded = await fetch(put.url, {
      method: 'PUT',
      headers: { origin: SPA_ORIGIN, 'content-type': 'text/plain' },
      body: 'from the SPA',
    });
    assert.equal(uploaded.status, 200);
    assert.equal(uploaded.headers.get('access-control-allow-origin'), SPA_ORIGIN);
    assert.match(uploaded.headers.get('access-control-expose-headers') ?? '', /ETag/);
    // Real S3 sends no Cross-Origin-Resource-Policy; keywarden's own pages do (helmet).
    assert.equal(uploaded.headers.get('cross-origin-resource-policy'), null);
  });

  it('lets the AWS SDK use the vended credentials against AWS_ENDPOINT_URL, within the scope only', async () => {
    const endpoint = `http://localhost:${await startedPort()}/local-aws`;
    // What docs/local-aws.md tells developers: the SDK reads AWS_ENDPOINT_URL itself.
    process.env.AWS_ENDPOINT_URL = endpoint;
    try {
      const client = new S3Client({
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: firstCredentials,
        maxAttempts: 1,
      });
      const object = await client.send(new GetObjectCommand({ Bucket: 'keywarden-local', Key: firstKey }));
      assert.equal(await object.Body?.transformToString(), 'hello from the newcomer');

      const prefix = `users/${firstIdentity}/`;
      await client.send(
        new PutObjectCommand({
          Bucket: 'keywarden-local',
          Key: `${prefix}sdk.txt`,
          Body: 'written by the SDK',
        }),
      );
      const listed = await client.send(
        new ListObjectsV2Command({ Bucket: 'keywarden-local', Prefix: prefix }),
      );
      assert.deepEqual(
        listed.Contents?.map((entry) => entry.Key),
        [`${prefix}notes/hello.txt`, `${prefix}sdk.txt`],
      );

      // The session policy (scope own-prefix) confines the credentials to the caller's prefix.
      await assert.rejects(
        client.send(
          new PutObjectCommand({ Bucket: 'keywarden-local', Key: 'users/someone-else/x.txt', Body: 'x' }),
        ),
        (error: Error) => error.name === 'AccessDenied',
      );

      const sts = new STSClient({ region: 'us-east-1', credentials: firstCredentials, maxAttempts: 1 });
      const caller = await sts.send(new GetCallerIdentityCommand({}));
      assert.match(caller.Arn ?? '', /:assumed-role\/keywarden-local-developer\//);
      assert.equal(caller.Account, '000000000000', 'the account of the configured role ARN');
    } finally {
      delete process.env.AWS_ENDPOINT_URL;
    }
  });

  it('keeps objects, identities and unexpired credentials in the data folder across a restart on another port', async () => {
    await stop();
    assert.ok(statSync(path.join(dataDir, 'identities.json')).isFile());
    assert.equal(statSync(path.join(dataDir, 'identities.json')).mode & 0o077, 0, 'not readable by others');

    const port = await freePort();
    const { base } = await start(port);
    const browser = await signIn(base, 'newcomer');
    const vended = await vend(browser);
    assert.equal(vended.identityId, firstIdentity, 'the same user keeps the same identity (and S3 prefix)');

    const get = await presign(browser, { operation: 'getObject', key: 'notes/hello.txt' });
    assert.equal(await (await fetch(get.url)).text(), 'hello from the newcomer');

    const before = await s3(`${base}/local-aws`, firstCredentials).send(
      new GetObjectCommand({ Bucket: 'keywarden-local', Key: `users/${firstIdentity}/sdk.txt` }),
    );
    assert.equal(await before.Body?.transformToString(), 'written by the SDK');
    await stop();
  });
});

describe('PORT=0 (real process)', () => {
  it('derives publicUrl, the development IdP issuer and the local AWS endpoint from the port bound', async () => {
    const zero = startService({ env: { PORT: '0', KEYWARDEN_LOCAL_AWS__DATA_DIR: dataDir } });
    try {
      const port = await zero.listening;
      assert.notEqual(port, 0);
      assert.match(zero.output(), new RegExp(`open http://localhost:${port}/auth/login/dev`));
      assert.match(zero.output(), new RegExp(`AWS_ENDPOINT_URL=http://localhost:${port}/local-aws`));
      const discovery = await fetch(`http://localhost:${port}/dev-idp/.well-known/openid-configuration`);
      assert.equal((await discovery.json()).issuer, `http://localhost:${port}/dev-idp`);
      const start = await fetch(`http://localhost:${port}/auth/login/dev`, { redirect: 'manual' });
      assert.equal(start.status, 303);
      assert.ok(start.headers.get('location')?.startsWith(`http://localhost:${port}/dev-idp/auth?`));
    } finally {
      zero.child.kill('SIGTERM');
      await zero.exited;
    }
  });
});

/** The port of the running service. */
async function startedPort(): Promise<number> {
  assert.ok(service, 'the service runs');
  return service.listening;
}
