import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../src/app.ts';
import { createAwsClients } from '../src/aws/clients.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { BUCKET, credentialOverrides, DEVELOPER_PROVIDER } from './fixtures/credentials/config.ts';
import { type AwsDouble, DEFAULT_SERVICE_CREDENTIALS, startAwsDouble } from './support/aws-double/index.ts';
import { type JwksIssuer, startJwksIssuer } from './support/jwks-issuer.ts';
import { type CapturedLogs, captureLogs } from './support/logs.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import { testConfig } from './support/test-config.ts';

/**
 * The mobile client's whole path, with nothing mocked inside keywarden: a JWT from a real
 * issuer on loopback → who-am-I → scoped credentials from the AWS test double (Cognito
 * developer identity + STS with the session policy) → those credentials used against S3.
 */

const API = 'https://api.keywarden.test';

let idp: JwksIssuer;
let aws: AwsDouble;
let app: Express;
let logs: CapturedLogs;
const secrets: string[] = [];

describe('mobile round trip with a bearer token', () => {
  before(async () => {
    idp = await startJwksIssuer();
    aws = await startAwsDouble({ buckets: [BUCKET] });
    const config = testConfig({
      ...credentialOverrides({ endpoint: aws.url }),
      bearer: { issuers: { mobile: { issuer: idp.issuer, jwksUri: idp.jwksUri, audiences: [API] } } },
      presign: {
        buckets: [
          {
            name: BUCKET,
            region: aws.region,
            endpoint: aws.url,
            forcePathStyle: true,
            credentialScope: 'own',
            contentTypes: ['text/plain'],
          },
        ],
      },
    });
    logs = captureLogs();
    app = await createApp({
      config,
      store: new MemoryStore(),
      logger: logs.logger,
      metrics: createMetrics({ collectProcessMetrics: false }),
      awsClients: createAwsClients(config.aws, { credentials: DEFAULT_SERVICE_CREDENTIALS }),
    });
  });
  after(async () => {
    logs.assertNoneContain(secrets);
    await aws.close();
    await idp.close();
  });

  async function token(sub: string, claims: Record<string, unknown> = {}): Promise<string> {
    const jwt = await idp.sign({ aud: API, sub, email: `${sub}@example.com`, ...claims });
    secrets.push(jwt);
    return jwt;
  }

  it('answers who-am-I for the bearer caller', async () => {
    const response = await request(app)
      .get('/auth/session')
      .set('Authorization', `Bearer ${await token('kim')}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assertMatchesOpenApi(response, { method: 'get', path: '/auth/session' });
    assert.equal(response.body.provider, 'mobile');
    assert.equal(response.body.subject, 'kim');
    assert.equal(response.body.kind, 'user');
    assert.equal(response.body.authMethod, 'bearer');
    assert.deepEqual(response.body.allowedRoles, ['reader']);
  });

  it('vends scoped credentials to a bearer caller without cookie or CSRF header, and they work on S3', async () => {
    const jwt = await token('u-42');
    const response = await request(app)
      .post('/credentials')
      .set('Authorization', `Bearer ${jwt}`)
      .send({ scope: 'own' });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assertMatchesOpenApi(response, { method: 'post', path: '/credentials' });
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.equal(response.headers['set-cookie'], undefined, 'a bearer call gets no session cookie');
    const { identityId, role, credentials } = response.body;
    assert.equal(role, 'reader');
    secrets.push(credentials.secretAccessKey, credentials.sessionToken);

    // The developer user identifier is namespaced by the issuer entry's name.
    const developerCall = aws.calls.find((call) => call.operation === 'GetOpenIdTokenForDeveloperIdentity');
    assert.ok(developerCall, 'keywarden asked Cognito for a developer identity');
    assert.deepEqual((developerCall.params as { Logins?: unknown }).Logins, {
      [DEVELOPER_PROVIDER]: 'mobile:u-42',
    });

    const s3 = new S3Client({
      endpoint: aws.url,
      region: aws.region,
      forcePathStyle: true,
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      },
    });
    const own = `users/${identityId}/photo.txt`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: own, Body: 'hello' }));
    const read = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: own }));
    assert.equal(await read.Body?.transformToString(), 'hello');
    await assert.rejects(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'users/someone-else/photo.txt', Body: 'x' })),
      /AccessDenied|denied/i,
      'the session policy confines the credentials to the caller prefix',
    );

    // The same user again (a later token) resolves to the same identity, from the cache.
    const again = await request(app)
      .get('/credentials')
      .query({ scope: 'own', format: 'aws-container' })
      .set('Authorization', `Bearer ${await token('u-42')}`);
    assert.equal(again.status, 200);
    assertMatchesOpenApi(again, { method: 'get', path: '/credentials' });
    assert.equal(again.body.AccessKeyId, credentials.accessKeyId);
  });

  it('presigns an upload and a download under the caller prefix: token → presigned URL → S3', async () => {
    const jwt = await token('ana');
    const upload = await request(app)
      .post('/presign')
      .set('Authorization', `Bearer ${jwt}`)
      .send({ operation: 'putObject', key: 'notes/today.txt', contentType: 'text/plain', contentLength: 5 });
    assert.equal(upload.status, 200, JSON.stringify(upload.body));
    assertMatchesOpenApi(upload, { method: 'post', path: '/presign' });
    assert.equal(upload.body.method, 'PUT');
    assert.match(upload.body.key, /^users\/[^/]+\/notes\/today\.txt$/);
    const put = await fetch(upload.body.url, {
      method: 'PUT',
      headers: upload.body.headers ?? {},
      body: 'hello',
    });
    assert.equal(put.status, 200, await put.text());

    const download = await request(app)
      .post('/presign')
      .set('Authorization', `Bearer ${await token('ana')}`)
      .send({ operation: 'getObject', key: 'notes/today.txt' });
    assert.equal(download.status, 200, JSON.stringify(download.body));
    assertMatchesOpenApi(download, { method: 'post', path: '/presign' });
    assert.equal(download.body.key, upload.body.key);
    const got = await fetch(download.body.url);
    assert.equal(await got.text(), 'hello');

    const breakout = await request(app)
      .post('/presign')
      .set('Authorization', `Bearer ${jwt}`)
      .send({ operation: 'getObject', key: '../someone-else/secret.txt' });
    assert.equal(breakout.status, 400);
    assertMatchesOpenApi(breakout, { method: 'post', path: '/presign' });
    assert.equal(breakout.body.url, undefined);
  });

  it('keeps bearer and guest identities apart: a guest token does not ride along a bad bearer token', async () => {
    const guest = await request(app).post('/identities/guest').send({});
    assert.equal(guest.status, 201, JSON.stringify(guest.body));
    assertMatchesOpenApi(guest, { method: 'post', path: '/identities/guest' });
    secrets.push(guest.body.guestToken);
    const expired = await idp.sign({ aud: API, sub: 'late', exp: Math.floor(Date.now() / 1000) - 600 });
    const response = await request(app)
      .post('/credentials')
      .set('Authorization', `Bearer ${expired}`)
      .set('X-Guest-Token', guest.body.guestToken);
    assert.equal(response.status, 401);
    assert.equal(response.body.code, 'invalid_token');
    assertMatchesOpenApi(response, { method: 'post', path: '/credentials' });
  });
});
