/**
 * Presigned URLs end to end over real HTTP: keywarden listening on loopback, a real OIDC
 * provider (browser sessions) and a real JWT issuer (mobile bearer tokens), and the AWS test
 * double verifying every SigV4 signature, POST policy and session policy. Uploads and
 * downloads use nothing but plain `fetch` and what keywarden answered, like a browser.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import request from 'supertest';
import { createApp } from '../src/app.ts';
import { createAwsClients } from '../src/aws/clients.ts';
import type { Config } from '../src/config/schema.ts';
import { createAuditLog } from '../src/observability/audit.ts';
import { createMetrics, type Metrics } from '../src/observability/metrics.ts';
import { createCallerS3Client } from '../src/presign/s3-presigner.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { ADMIN_ARN, credentialOverrides, GUEST_ARN, READER_ARN } from './fixtures/credentials/config.ts';
import {
  type AwsDouble,
  DEFAULT_DEVELOPER_PROVIDER_NAME,
  DEFAULT_IDENTITY_POOL_ID,
  DEFAULT_SERVICE_CREDENTIALS,
  startAwsDouble,
} from './support/aws-double/index.ts';
import { BrowserSession } from './support/browser-session.ts';
import { type JwksIssuer, startJwksIssuer } from './support/jwks-issuer.ts';
import { type CapturedLogs, captureLogs } from './support/logs.ts';
import { loginThroughIdp, startOidcProvider, type TestIdp } from './support/oidc-provider.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import { testConfig } from './support/test-config.ts';

const BUCKET = 'kw-photos';
const SMALL_BUCKET = 'kw-small';
const PUBLIC_URL = 'https://keywarden.test';
const API = 'https://api.keywarden.test';
const CLIENT_ID = 'keywarden-presign-e2e';
const CLIENT_SECRET = 'presign-e2e-client-secret-0123456789';
const MiB = 1024 * 1024;

let aws: AwsDouble;
let idp: TestIdp;
let issuer: JwksIssuer;
let server: Server;
let baseUrl: string;
let config: Readonly<Config>;
let logs: CapturedLogs;
let metrics: Metrics;
/** Every value that must never appear in a log line. */
const secrets = new Set<string>();

function isTree(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge(base: Record<string, unknown>, layer: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(layer)) {
    const current = out[key];
    out[key] = isTree(current) && isTree(value) ? merge(current, value) : value;
  }
  return out;
}

/** The session policy keywarden vends signing credentials with: the caller's prefix, nothing else. */
const PRESIGN_SCOPE = {
  description: 'presigned URLs: objects under the caller prefix only',
  policy: {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: [
          `arn:aws:s3:::${BUCKET}/users/\${identityId}/*`,
          `arn:aws:s3:::${SMALL_BUCKET}/users/\${identityId}/*`,
        ],
      },
    ],
  },
};

function overrides(): Record<string, unknown> {
  const base = credentialOverrides({ endpoint: aws.url });
  return merge(base, {
    aws: {
      pool: {
        identityPoolId: DEFAULT_IDENTITY_POOL_ID,
        developerProviderName: DEFAULT_DEVELOPER_PROVIDER_NAME,
      },
    },
    credentials: { scopes: { ...(base.credentials as { scopes: object }).scopes, presign: PRESIGN_SCOPE } },
    server: { publicUrl: PUBLIC_URL, trustProxyHops: 1 },
    session: { secret: 'presign-e2e-session-secret-0123456789abcdef' },
    auth: {
      providers: {
        corp: { kind: 'oidc', issuer: idp.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      },
    },
    bearer: { issuers: { mobile: { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: [API] } } },
    presign: {
      buckets: [
        {
          name: BUCKET,
          region: aws.region,
          endpoint: aws.url,
          forcePathStyle: true,
          credentialScope: 'presign',
          maxObjectBytes: '12mb',
          contentTypes: ['image/*', 'text/plain', 'application/octet-stream'],
          defaultExpiresSeconds: 300,
          maxExpiresSeconds: 3600,
        },
        {
          name: SMALL_BUCKET,
          region: aws.region,
          endpoint: aws.url,
          forcePathStyle: true,
          credentialScope: 'presign',
          maxObjectBytes: '6mb',
          operations: { roles: { admin: ['getObject'] } },
        },
      ],
    },
  });
}

before(async () => {
  aws = await startAwsDouble({
    buckets: [BUCKET, SMALL_BUCKET],
    roles: {
      [READER_ARN]: { maxSessionDuration: 3600 },
      [ADMIN_ARN]: { maxSessionDuration: 7200 },
      [GUEST_ARN]: { maxSessionDuration: 3600 },
    },
    poolRoles: { authenticated: READER_ARN, unauthenticated: GUEST_ARN },
  });
  idp = await startOidcProvider({
    clients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: [`${PUBLIC_URL}/auth/callback/corp`],
      },
    ],
  });
  issuer = await startJwksIssuer();
  config = testConfig(overrides());
  logs = captureLogs();
  metrics = createMetrics({ collectProcessMetrics: false });
  const app = await createApp({
    config,
    store: new MemoryStore(),
    logger: logs.logger,
    metrics,
    audit: createAuditLog(logs.logger),
    awsClients: createAwsClients(config.aws, { credentials: DEFAULT_SERVICE_CREDENTIALS }),
  });
  server = createServer(app);
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const vended of aws?.credentials.values() ?? [])
    secrets.add(vended.secretAccessKey).add(vended.sessionToken);
  logs?.assertNoneContain(secrets);
  await new Promise<void>((resolve) => {
    server?.close(() => resolve());
    server?.closeAllConnections();
  });
  await issuer?.close();
  await idp?.stop();
  await aws?.close();
});

/** Secret parts of a presigned URL or POST form, remembered for the log check. */
function remember(body: {
  url?: string;
  fields?: Record<string, string>;
  parts?: Array<{ url?: string }>;
}): void {
  const urls = [body.url, ...(body.parts ?? []).map((part) => part.url)].filter((url) => url !== undefined);
  for (const url of urls) {
    const params = new URL(url).searchParams;
    for (const name of ['X-Amz-Signature', 'X-Amz-Security-Token']) {
      const value = params.get(name);
      if (value) secrets.add(value);
    }
    secrets.add(url);
  }
  for (const name of ['X-Amz-Signature', 'X-Amz-Security-Token', 'Policy']) {
    const value = body.fields?.[name];
    if (value) secrets.add(value);
  }
}

async function signInBrowser(username: string): Promise<BrowserSession> {
  idp.setAccount(username, { sub: username, email: `${username}@example.com` });
  const browser = new BrowserSession(baseUrl);
  const { callback } = await loginThroughIdp(browser, '/auth/login/corp?returnTo=/app', username);
  assert.equal(callback?.status, 303, `sign-in failed: ${JSON.stringify(callback?.body)}`);
  return browser;
}

/** A mobile caller: every request carries a fresh bearer token for `sub`. */
function mobile(sub: string, claims: Record<string, unknown> = {}) {
  const call = async (path: string, body: unknown) => {
    const jwt = await issuer.sign({ aud: API, sub, ...claims });
    secrets.add(jwt);
    const response = await request(baseUrl)
      .post(path)
      .set('Authorization', `Bearer ${jwt}`)
      .send(body as object);
    if (response.status === 200) remember(response.body);
    return response;
  };
  return {
    presign: (body: Record<string, unknown>) => call('/presign', body),
    multipart: (body: Record<string, unknown>) => call('/presign/multipart', body),
  };
}

/** Sends what a browser would: the returned headers except Content-Length, which fetch sets from the body. */
async function send(
  url: string,
  method: string,
  headers: Record<string, string> = {},
  body?: Uint8Array<ArrayBuffer> | string,
) {
  const sent = Object.fromEntries(
    Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'content-length'),
  );
  return fetch(url, { method, headers: sent, ...(body !== undefined ? { body } : {}) });
}

function accessKeyOf(url: string): string {
  return (new URL(url).searchParams.get('X-Amz-Credential') ?? '').split('/')[0] ?? '';
}

describe('presigned PUT and GET from a signed-in browser', () => {
  it('uploads with plain fetch and reads the same bytes back, signed with the caller own scoped credentials', async () => {
    const browser = await signInBrowser('alice');
    const noCsrf = await browser.post('/presign').send({ operation: 'getObject', key: 'x.txt' });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.code, 'csrf_header_missing');

    const bytes = new Uint8Array(2048).map((_, index) => (index * 31) % 251);
    const put = await browser.post('/presign').set('X-CSRF', '1').send({
      operation: 'putObject',
      key: 'photos/cat.png',
      contentType: 'image/png',
      contentLength: bytes.length,
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    remember(put.body);
    assertMatchesOpenApi(put, { method: 'post', path: '/presign' });
    assert.equal(put.headers['cache-control'], 'no-store');
    const session = await browser.get('/auth/session');
    const identityId = session.body.identityId as string;
    assert.match(identityId, /^us-east-1:[0-9a-f-]{36}$/);
    assert.equal(put.body.method, 'PUT');
    assert.equal(put.body.bucket, BUCKET);
    assert.equal(put.body.key, `users/${identityId}/photos/cat.png`);
    assert.deepEqual(put.body.headers, { 'Content-Length': '2048', 'Content-Type': 'image/png' });

    // Signed with credentials the double vended for this identity, confined by the scope's session policy.
    const vended = aws.credentials.get(accessKeyOf(put.body.url));
    assert.ok(vended, 'the URL is signed with credentials vended by STS');
    assert.equal(vended.identityId, identityId);
    assert.deepEqual(vended.sessionPolicy?.Statement[0]?.Resource, [
      `arn:aws:s3:::${BUCKET}/users/${identityId}/*`,
      `arn:aws:s3:::${SMALL_BUCKET}/users/${identityId}/*`,
    ]);
    assert.ok(
      Date.parse(put.body.expiresAt) <= vended.expiration,
      'the URL does not outlive its credentials',
    );

    const uploaded = await send(put.body.url, 'PUT', put.body.headers, bytes);
    assert.equal(uploaded.status, 200, await uploaded.text());

    const get = await browser
      .post('/presign')
      .set('X-CSRF', '1')
      .send({ operation: 'getObject', key: 'photos/cat.png' });
    assert.equal(get.status, 200, JSON.stringify(get.body));
    remember(get.body);
    assertMatchesOpenApi(get, { method: 'post', path: '/presign' });
    assert.equal(get.body.method, 'GET');
    assert.equal(get.body.headers, undefined);
    const downloaded = await fetch(get.body.url);
    assert.equal(downloaded.status, 200);
    assert.equal(downloaded.headers.get('content-type'), 'image/png');
    assert.deepEqual(new Uint8Array(await downloaded.arrayBuffer()), bytes);
  });

  it('S3 refuses an upload whose length or type differs from what was signed', async () => {
    const user = mobile('len-checker');
    const put = await user.presign({
      operation: 'putObject',
      key: 'a.txt',
      contentType: 'text/plain',
      contentLength: 5,
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const longer = await send(put.body.url, 'PUT', put.body.headers, 'hello world');
    assert.equal(longer.status, 403);
    assert.match(await longer.text(), /SignatureDoesNotMatch/);
    const otherType = await send(put.body.url, 'PUT', { 'Content-Type': 'text/html' }, 'hello');
    assert.equal(otherType.status, 403);
    const exact = await send(put.body.url, 'PUT', put.body.headers, 'hello');
    assert.equal(exact.status, 200);
  });

  it('an expired URL is refused by S3', async () => {
    const user = mobile('late-reader');
    const put = await user.presign({
      operation: 'putObject',
      key: 'old.txt',
      contentType: 'text/plain',
      contentLength: 3,
    });
    assert.equal((await send(put.body.url, 'PUT', put.body.headers, 'old')).status, 200);
    const get = await user.presign({ operation: 'getObject', key: 'old.txt', expiresIn: 60 });
    assert.equal(get.status, 200);
    assert.equal(new URL(get.body.url).searchParams.get('X-Amz-Expires'), '60');
    assert.equal((await fetch(get.body.url)).status, 200);
    aws.advanceClock(61_000);
    try {
      const expired = await fetch(get.body.url);
      assert.equal(expired.status, 403);
      assert.match(await expired.text(), /expired/i);
    } finally {
      aws.advanceClock(-61_000);
    }
  });
});

describe('presigned POST (browser form upload)', () => {
  async function postForm(
    body: { url: string; fields: Record<string, string> },
    file: Blob,
    extra: Record<string, string> = {},
  ) {
    const form = new FormData();
    for (const [name, value] of Object.entries({ ...body.fields, ...extra })) form.append(name, value);
    form.append('file', file, 'upload.bin');
    return fetch(body.url, { method: 'POST', body: form });
  }

  it('uploads a multipart form to the exact key, then reads it back', async () => {
    const user = mobile('poster');
    const post = await user.presign({
      operation: 'postObject',
      key: 'forms/note.txt',
      contentType: 'text/plain',
      contentLength: 64,
    });
    assert.equal(post.status, 200, JSON.stringify(post.body));
    assertMatchesOpenApi(post, { method: 'post', path: '/presign' });
    assert.equal(post.body.method, 'POST');
    assert.equal(post.body.url, `${aws.url}/${BUCKET}`);
    assert.equal(post.body.fields.key, post.body.key);
    assert.match(post.body.key, /^users\/us-east-1:[0-9a-f-]{36}\/forms\/note\.txt$/);
    const policy = JSON.parse(Buffer.from(post.body.fields.Policy, 'base64').toString('utf8'));
    assert.deepEqual(policy.conditions.slice(0, 2), [
      ['content-length-range', 0, 64],
      ['eq', '$Content-Type', 'text/plain'],
    ]);

    const uploaded = await postForm(post.body, new Blob(['posted by form'], { type: 'text/plain' }));
    assert.equal(uploaded.status, 204, await uploaded.text());
    const get = await user.presign({ operation: 'getObject', key: 'forms/note.txt' });
    const read = await fetch(get.body.url);
    assert.equal(await read.text(), 'posted by form');
  });

  it('S3 rejects an oversize POST (EntityTooLarge), another content type and another key', async () => {
    const user = mobile('oversize-poster');
    const post = await user.presign({
      operation: 'postObject',
      key: 'small.bin',
      contentType: 'application/octet-stream',
      contentLength: 16,
    });
    assert.equal(post.status, 200, JSON.stringify(post.body));
    const tooLarge = await postForm(post.body, new Blob([new Uint8Array(17)]));
    assert.equal(tooLarge.status, 400);
    assert.match(await tooLarge.text(), /EntityTooLarge/);
    const wrongType = await postForm(post.body, new Blob([new Uint8Array(4)]), {
      'Content-Type': 'text/html',
    });
    assert.equal(wrongType.status, 403);
    assert.match(await wrongType.text(), /Policy Condition failed/);
    const otherKey = await postForm(post.body, new Blob([new Uint8Array(4)]), {
      key: `${post.body.key}.evil`,
    });
    assert.equal(otherKey.status, 403);
    assert.equal(aws.objects.has(`${BUCKET}/${post.body.key}.evil`), false);
    const fits = await postForm(post.body, new Blob([new Uint8Array(16)]));
    assert.equal(fits.status, 204);
  });

  it('caps a POST without contentLength at the bucket maximum', async () => {
    const post = await mobile('no-length').presign({
      operation: 'postObject',
      key: 'any.png',
      contentType: 'image/png',
    });
    assert.equal(post.status, 200, JSON.stringify(post.body));
    const policy = JSON.parse(Buffer.from(post.body.fields.Policy, 'base64').toString('utf8'));
    assert.deepEqual(policy.conditions[0], ['content-length-range', 0, 12 * MiB]);
  });
});

describe('multipart upload', () => {
  it('creates, signs part URLs, uploads parts with fetch, lists, completes, and reads the object back', async () => {
    const user = mobile('big-uploader');
    const create = await user.multipart({
      action: 'create',
      key: 'videos/clip.bin',
      contentType: 'application/octet-stream',
    });
    assert.equal(create.status, 200, JSON.stringify(create.body));
    assertMatchesOpenApi(create, { method: 'post', path: '/presign/multipart' });
    const { uploadId, key } = create.body;
    assert.equal(typeof uploadId, 'string');
    assert.match(key, /\/videos\/clip\.bin$/);

    const signed = await user.multipart({
      action: 'signParts',
      key: 'videos/clip.bin',
      uploadId,
      partNumbers: [1, 2, 3],
    });
    assert.equal(signed.status, 200, JSON.stringify(signed.body));
    assertMatchesOpenApi(signed, { method: 'post', path: '/presign/multipart' });
    assert.equal(signed.headers['cache-control'], 'no-store');
    assert.deepEqual(
      signed.body.parts.map((part: { partNumber: number; method: string }) => [part.partNumber, part.method]),
      [
        [1, 'PUT'],
        [2, 'PUT'],
        [3, 'PUT'],
      ],
    );

    const bodies = [
      new Uint8Array(5 * MiB).fill(1),
      new Uint8Array(5 * MiB).fill(2),
      new Uint8Array(1000).fill(3),
    ];
    const parts: Array<{ partNumber: number; etag: string }> = [];
    for (const [index, part] of (signed.body.parts as Array<{ partNumber: number; url: string }>).entries()) {
      const uploaded = await send(part.url, 'PUT', {}, bodies[index]);
      assert.equal(uploaded.status, 200, await uploaded.text());
      parts.push({ partNumber: part.partNumber, etag: uploaded.headers.get('etag') ?? '' });
    }

    const listed = await user.multipart({ action: 'listParts', key: 'videos/clip.bin', uploadId });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assertMatchesOpenApi(listed, { method: 'post', path: '/presign/multipart' });
    assert.deepEqual(
      listed.body.parts.map((part: { partNumber: number; size: number }) => [part.partNumber, part.size]),
      [
        [1, 5 * MiB],
        [2, 5 * MiB],
        [3, 1000],
      ],
    );

    // Another identity cannot use this upload id, not even with the same relative key.
    const intruder = await mobile('intruder').multipart({
      action: 'complete',
      key: 'videos/clip.bin',
      uploadId,
      parts,
    });
    assert.equal(intruder.status, 404);
    assert.equal(intruder.body.code, 'upload_not_found');
    // Nor can the owner point it at another key.
    const otherKey = await user.multipart({
      action: 'signParts',
      key: 'videos/other.bin',
      uploadId,
      partNumbers: [1],
    });
    assert.equal(otherKey.status, 404);

    const completed = await user.multipart({ action: 'complete', key: 'videos/clip.bin', uploadId, parts });
    assert.equal(completed.status, 200, JSON.stringify(completed.body));
    assertMatchesOpenApi(completed, { method: 'post', path: '/presign/multipart' });
    assert.match(completed.body.etag, /-3"$/);

    const get = await user.presign({ operation: 'getObject', key: 'videos/clip.bin' });
    const object = new Uint8Array(await (await fetch(get.body.url)).arrayBuffer());
    assert.equal(object.length, 10 * MiB + 1000);
    assert.deepEqual([object[0], object[5 * MiB], object[10 * MiB]], [1, 2, 3]);

    const reused = await user.multipart({ action: 'listParts', key: 'videos/clip.bin', uploadId });
    assert.equal(reused.status, 404, 'a completed upload is forgotten');
  });

  it('S3 enforces the 5 MiB minimum part size; abort removes the upload', async () => {
    const user = mobile('small-parts');
    const create = await user.multipart({
      action: 'create',
      key: 'tiny.bin',
      contentType: 'application/octet-stream',
    });
    const { uploadId } = create.body;
    const signed = await user.multipart({
      action: 'signParts',
      key: 'tiny.bin',
      uploadId,
      partNumbers: [1, 2],
    });
    const parts = [];
    for (const part of signed.body.parts as Array<{ partNumber: number; url: string }>) {
      const uploaded = await send(part.url, 'PUT', {}, new Uint8Array(1024));
      parts.push({ partNumber: part.partNumber, etag: uploaded.headers.get('etag') ?? '' });
    }
    const tooSmall = await user.multipart({ action: 'complete', key: 'tiny.bin', uploadId, parts });
    assert.equal(tooSmall.status, 400);
    assert.equal(tooSmall.body.code, 'part_too_small');
    assertMatchesOpenApi(tooSmall, { method: 'post', path: '/presign/multipart' });

    const aborted = await user.multipart({ action: 'abort', key: 'tiny.bin', uploadId });
    assert.equal(aborted.status, 200, JSON.stringify(aborted.body));
    assertMatchesOpenApi(aborted, { method: 'post', path: '/presign/multipart' });
    const gone = await user.multipart({ action: 'listParts', key: 'tiny.bin', uploadId });
    assert.equal(gone.status, 404);
    assertMatchesOpenApi(gone, { method: 'post', path: '/presign/multipart' });
  });

  it('an upload larger than the bucket allows is aborted at completion', async () => {
    const user = mobile('over-quota');
    const create = await user.multipart({ action: 'create', bucket: SMALL_BUCKET, key: 'big.bin' });
    assert.equal(create.status, 200, JSON.stringify(create.body));
    const { uploadId } = create.body;
    const signed = await user.multipart({
      action: 'signParts',
      bucket: SMALL_BUCKET,
      key: 'big.bin',
      uploadId,
      partNumbers: [1, 2],
    });
    const parts = [];
    for (const [index, part] of (signed.body.parts as Array<{ partNumber: number; url: string }>).entries()) {
      const uploaded = await send(part.url, 'PUT', {}, new Uint8Array(index === 0 ? 5 * MiB : 2 * MiB));
      parts.push({ partNumber: part.partNumber, etag: uploaded.headers.get('etag') ?? '' });
    }
    const done = await user.multipart({
      action: 'complete',
      bucket: SMALL_BUCKET,
      key: 'big.bin',
      uploadId,
      parts,
    });
    assert.equal(done.status, 400);
    assert.equal(done.body.code, 'object_too_large');
    assert.equal(aws.objects.has(`${SMALL_BUCKET}/${create.body.key}`), false);
    assert.ok(aws.calls.some((call) => call.operation === 'AbortMultipartUpload'));
  });

  it('refuses bad part number batches before signing', async () => {
    const user = mobile('batcher');
    const create = await user.multipart({
      action: 'create',
      key: 'batch.bin',
      contentType: 'application/octet-stream',
    });
    const { uploadId } = create.body;
    for (const partNumbers of [
      [],
      [0],
      [10_001],
      [1, 1],
      [1.5],
      Array.from({ length: 101 }, (_, i) => i + 1),
    ]) {
      const response = await user.multipart({ action: 'signParts', key: 'batch.bin', uploadId, partNumbers });
      assert.equal(response.status, 400, JSON.stringify(partNumbers));
      assert.equal(response.body.code, 'invalid_part_numbers');
    }
  });
});

describe('confinement across users', () => {
  it("user A's URL cannot read user B's object; B's key is refused; S3 denies A's credentials on B's prefix", async () => {
    const alice = mobile('cross-alice');
    const bob = mobile('cross-bob');
    const bobPut = await bob.presign({
      operation: 'putObject',
      key: 'diary.txt',
      contentType: 'text/plain',
      contentLength: 6,
    });
    assert.equal((await send(bobPut.body.url, 'PUT', bobPut.body.headers, 'secret')).status, 200);
    const bobKey = bobPut.body.key as string;
    const bobIdentity = bobKey.split('/')[1]!;

    // Asking for Bob's key, however spelled, is refused before anything is signed.
    const callsBefore = aws.calls.length;
    for (const key of [bobKey, `/${bobKey}`, `users%2F${bobIdentity}%2Fdiary.txt`]) {
      const refused = await alice.presign({ operation: 'getObject', key });
      assert.equal(refused.status, 403, key);
      assert.equal(refused.body.code, 'forbidden_prefix');
      assert.equal(refused.body.url, undefined);
      assertMatchesOpenApi(refused, { method: 'post', path: '/presign' });
    }
    const claimed = await alice.presign({
      operation: 'getObject',
      key: 'diary.txt',
      prefix: `users/${bobIdentity}/`,
    });
    assert.equal(claimed.status, 403);
    assert.equal(claimed.body.code, 'forbidden_prefix');
    assert.equal(
      aws.calls.slice(callsBefore).filter((call) => call.service === 's3').length,
      0,
      'no S3 request was made for a refused key',
    );

    // Alice's own URL, edited to point at Bob's object, no longer matches its signature.
    const aliceGet = await alice.presign({ operation: 'getObject', key: 'diary.txt' });
    const aliceKey = aliceGet.body.key as string;
    const edited = aliceGet.body.url.replace(
      encodeURIComponent(aliceKey.split('/')[1]!),
      encodeURIComponent(bobIdentity),
    );
    assert.notEqual(edited, aliceGet.body.url);
    assert.equal((await fetch(edited)).status, 403);

    // Even if keywarden's own checks were bypassed: Alice's signing credentials, used directly
    // for Bob's key, are refused by S3 because their session policy confines them to her prefix.
    const vended = aws.credentials.get(accessKeyOf(aliceGet.body.url));
    assert.ok(vended);
    const aliceS3 = createCallerS3Client(config.presign.buckets[0]!, {
      accessKeyId: vended.accessKeyId,
      secretAccessKey: vended.secretAccessKey,
      sessionToken: vended.sessionToken,
      expiration: new Date(vended.expiration),
    });
    const bypass = await getSignedUrl(aliceS3, new GetObjectCommand({ Bucket: BUCKET, Key: bobKey }), {
      expiresIn: 60,
    });
    aliceS3.destroy();
    secrets.add(bypass);
    const denied = await fetch(bypass);
    assert.equal(denied.status, 403);
    assert.match(await denied.text(), /AccessDenied/);
  });
});

describe('requests refused before anything is signed', () => {
  it('hostile keys → 400 invalid_key with the rule, audited, nothing signed', async () => {
    const user = mobile('hostile');
    const callsBefore = aws.calls.filter((call) => call.service === 's3').length;
    const cases: Array<[string, string]> = [
      ['../etc/passwd', 'dot_segment'],
      ['%2e%2e/x', 'dot_segment'],
      ['..%2fx', 'dot_segment'],
      ['%252e%252e/x', 'dot_segment'],
      ['..\\x', 'backslash'],
      ['a\u0000b', 'control_character'],
      ['/abs', 'leading_slash'],
      ['a//b', 'empty_segment'],
      ['dir/', 'trailing_slash'],
      ['\u2024\u2024/x', 'lookalike_character'],
      ['\uff0e\uff0e\uff0fx', 'lookalike_character'],
      ['a\u202eb', 'format_character'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the POST-policy placeholder is the hostile input
      ['x/${filename}', 'template_syntax'],
      ['a'.repeat(1000), 'too_long'],
    ];
    for (const [key, reason] of cases) {
      for (const operation of ['getObject', 'postObject'] as const) {
        const response = await user.presign({ operation, key, contentType: 'text/plain', contentLength: 1 });
        assert.equal(response.status, 400, `${JSON.stringify(key)}: ${JSON.stringify(response.body)}`);
        assert.equal(response.body.code, 'invalid_key');
        assert.equal(response.body.reason, reason, JSON.stringify(key));
        assert.equal(response.body.url, undefined);
        assert.equal(response.body.fields, undefined);
        assertMatchesOpenApi(response, { method: 'post', path: '/presign' });
      }
    }
    const multipart = await user.multipart({ action: 'create', key: '../x', contentType: 'text/plain' });
    assert.equal(multipart.status, 400);
    assert.equal(multipart.body.code, 'invalid_key');
    assert.equal(aws.calls.filter((call) => call.service === 's3').length, callsBefore);
    const denied = logs.records().filter((record) => record.event === 'presign.denied');
    assert.ok(denied.some((record) => record.reason === 'invalid_key:dot_segment'));
    assert.ok(
      denied.every((record) => !JSON.stringify(record).includes('passwd')),
      'the rejected key is not logged',
    );
  });

  it('checks bucket, operation, content type, size, lifetime and body before signing', async () => {
    const user = mobile('validator');
    const expect = async (body: Record<string, unknown>, status: number, code: string) => {
      const response = await user.presign(body);
      assert.equal(response.status, status, `${JSON.stringify(body)}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.code, code, JSON.stringify(body));
      assertMatchesOpenApi(response, { method: 'post', path: '/presign' });
    };
    await expect({ operation: 'getObject', key: 'a', bucket: 'not-configured' }, 400, 'unknown_bucket');
    await expect({ operation: 'deleteObject', key: 'a' }, 400, 'invalid_request');
    await expect({ operation: 'getObject', key: 'a', extra: true }, 400, 'invalid_request');
    await expect(
      { operation: 'putObject', key: 'a', contentType: 'text/plain' },
      400,
      'content_length_required',
    );
    await expect({ operation: 'putObject', key: 'a', contentLength: 1 }, 400, 'content_type_required');
    await expect(
      { operation: 'putObject', key: 'a', contentType: 'text/html', contentLength: 1 },
      400,
      'content_type_not_allowed',
    );
    await expect(
      { operation: 'putObject', key: 'a', contentType: 'image/png', contentLength: 12 * MiB + 1 },
      400,
      'object_too_large',
    );
    await expect({ operation: 'getObject', key: 'a', expiresIn: 3601 }, 400, 'invalid_expires_in');
    await expect({ operation: 'getObject', key: 'a', expiresIn: 0 }, 400, 'invalid_expires_in');
    await expect(
      { operation: 'putObject', key: 'a', contentType: 'text/plain\r\nX-Evil: 1', contentLength: 1 },
      400,
      'invalid_request',
    );
    // Admins may only read from the small bucket; readers may do everything there.
    const admin = mobile('an-admin', { groups: ['admins'] });
    const adminPut = await admin.presign({
      operation: 'putObject',
      bucket: SMALL_BUCKET,
      key: 'a',
      contentLength: 1,
    });
    assert.equal(adminPut.status, 403);
    assert.equal(adminPut.body.code, 'operation_not_allowed');
    const adminGet = await admin.presign({ operation: 'getObject', bucket: SMALL_BUCKET, key: 'a' });
    assert.equal(adminGet.status, 200, JSON.stringify(adminGet.body));
  });

  it('needs authentication, JSON, and refuses guests the bucket does not allow', async () => {
    const anonymous = await request(baseUrl).post('/presign').send({ operation: 'getObject', key: 'a' });
    assert.equal(anonymous.status, 401);
    assertMatchesOpenApi(anonymous, { method: 'post', path: '/presign' });

    const jwt = await issuer.sign({ aud: API, sub: 'texter' });
    secrets.add(jwt);
    const text = await request(baseUrl)
      .post('/presign')
      .set('Authorization', `Bearer ${jwt}`)
      .set('Content-Type', 'text/plain')
      .send('operation=getObject&key=a');
    assert.equal(text.status, 415);

    const guest = await request(baseUrl).post('/identities/guest').send({});
    assert.equal(guest.status, 201, JSON.stringify(guest.body));
    secrets.add(guest.body.guestToken);
    const asGuest = await request(baseUrl)
      .post('/presign')
      .set('X-Guest-Token', guest.body.guestToken)
      .send({ operation: 'getObject', key: 'a' });
    assert.equal(asGuest.status, 403);
    assert.equal(asGuest.body.code, 'operation_not_allowed');
  });

  it('S3 and STS failures: 503 with Retry-After when throttled or down, 403 when denied, no AWS text', async () => {
    const user = mobile('unlucky');
    aws.failNext('CreateMultipartUpload', 'throttle', 5);
    const throttled = await user.multipart({
      action: 'create',
      key: 'f.bin',
      contentType: 'application/octet-stream',
    });
    aws.reset();
    assert.equal(throttled.status, 503, JSON.stringify(throttled.body));
    assert.ok(Number(throttled.headers['retry-after']) >= 1);
    assertMatchesOpenApi(throttled, { method: 'post', path: '/presign/multipart' });

    aws.failNext('CreateMultipartUpload', 'internal', 5);
    const down = await user.multipart({
      action: 'create',
      key: 'f.bin',
      contentType: 'application/octet-stream',
    });
    aws.reset();
    assert.equal(down.status, 503);

    // S3 hangs: each attempt is cut at aws.requestTimeoutMs (1 s here, 2 attempts), then 503.
    aws.failNext('CreateMultipartUpload', 'timeout', 5);
    const started = Date.now();
    const hung = await user.multipart({
      action: 'create',
      key: 'f.bin',
      contentType: 'application/octet-stream',
    });
    const waited = Date.now() - started;
    aws.reset();
    assert.equal(hung.status, 503, JSON.stringify(hung.body));
    assert.ok(hung.headers['retry-after']);
    assert.ok(waited < 6_000, `a hung S3 answered after ${waited} ms`);

    aws.failNext('CreateMultipartUpload', 'notAuthorized', 1);
    const denied = await user.multipart({
      action: 'create',
      key: 'f.bin',
      contentType: 'application/octet-stream',
    });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.code, 's3_access_denied');
    for (const body of [throttled.text, down.text, hung.text, denied.text]) {
      assert.doesNotMatch(body, /SlowDown|InternalError|AccessDenied|arn:aws|injected/);
    }

    // The signing credentials come from STS; a new caller while STS throttles gets a 503, not a URL.
    aws.failNext('AssumeRoleWithWebIdentity', 'throttle', 5);
    const noCredentials = await mobile('first-timer').presign({ operation: 'getObject', key: 'a' });
    aws.reset();
    assert.equal(noCredentials.status, 503, JSON.stringify(noCredentials.body));
    assert.ok(noCredentials.headers['retry-after']);
    assert.equal(noCredentials.body.url, undefined);
  });

  it('counts outcomes in metrics and audits issued URLs without the URL', async () => {
    const text = await metrics.registry.getSingleMetricAsString('keywarden_presign_requests_total');
    assert.match(text, /operation="putObject",outcome="issued"/);
    assert.match(text, /operation="multipart\.create",outcome="issued"/);
    assert.match(text, /operation="getObject",outcome="invalid"/);
    assert.match(text, /operation="getObject",outcome="denied"/);
    const issued = logs.records().filter((record) => record.event === 'presign.issued');
    assert.ok(issued.length > 5);
    for (const record of issued) {
      assert.equal(typeof record.key, 'string');
      assert.equal(typeof record.identityId, 'string');
      assert.equal(record.url, undefined);
    }
  });
});
