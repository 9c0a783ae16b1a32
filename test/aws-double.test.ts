/**
 * Proves the AWS test double with the real AWS SDK v3 clients pointed at it.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
  GetOpenIdTokenCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
  LookupDeveloperIdentityCommand,
} from '@aws-sdk/client-cognito-identity';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import {
  type AwsDouble,
  DEFAULT_AUTHENTICATED_ROLE_ARN,
  DEFAULT_SERVICE_CREDENTIALS,
  DEFAULT_UNAUTHENTICATED_ROLE_ARN,
  startAwsDouble,
} from './support/aws-double/index.ts';

const BUCKET = 'kw-uploads';
const PROVIDER = 'login.keywarden.test';
const LONG_ROLE = 'arn:aws:iam::123456789012:role/keywarden-long-sessions';
const UNTRUSTED_ROLE = 'arn:aws:iam::123456789012:role/not-trusting-the-pool';

let aws: AwsDouble;
let cognito: CognitoIdentityClient;
let sts: STSClient;

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

async function rejects(p: Promise<unknown>, name: string, status?: number): Promise<any> {
  try {
    await p;
  } catch (e: any) {
    assert.equal(e.name, name, `expected ${name}, got ${e.name}: ${e.message}`);
    if (status !== undefined) assert.equal(e.$metadata?.httpStatusCode, status);
    return e;
  }
  assert.fail(`expected ${name} but the call succeeded`);
}

function s3For(credentials: Creds, extra: Record<string, unknown> = {}): S3Client {
  return new S3Client({
    endpoint: aws.url,
    region: aws.region,
    forcePathStyle: true,
    credentials,
    maxAttempts: 1,
    // presigned URLs must not carry the CRC32 of an empty body (see the "default checksum" test)
    requestChecksumCalculation: 'WHEN_REQUIRED',
    ...extra,
  });
}

async function devToken(user: string, extra: Record<string, unknown> = {}) {
  const out = await cognito.send(
    new GetOpenIdTokenForDeveloperIdentityCommand({
      IdentityPoolId: aws.identityPoolId,
      Logins: { [PROVIDER]: user },
      ...extra,
    }),
  );
  return { identityId: out.IdentityId!, token: out.Token! };
}

async function assume(token: string, extra: Record<string, unknown> = {}) {
  return sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: DEFAULT_AUTHENTICATED_ROLE_ARN,
      RoleSessionName: 'keywarden-test',
      WebIdentityToken: token,
      ...extra,
    }),
  );
}

function userPolicy(identityId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: `arn:aws:s3:::${BUCKET}/users/${identityId}/*`,
      },
    ],
  });
}

before(async () => {
  aws = await startAwsDouble({
    buckets: [BUCKET],
    roles: {
      [DEFAULT_AUTHENTICATED_ROLE_ARN]: { maxSessionDuration: 3600 },
      [DEFAULT_UNAUTHENTICATED_ROLE_ARN]: { maxSessionDuration: 3600 },
      [LONG_ROLE]: { maxSessionDuration: 43200 },
      [UNTRUSTED_ROLE]: { maxSessionDuration: 3600, trustsPool: false },
    },
    poolRoles: {
      authenticated: DEFAULT_AUTHENTICATED_ROLE_ARN,
      unauthenticated: DEFAULT_UNAUTHENTICATED_ROLE_ARN,
    },
  });
  cognito = new CognitoIdentityClient({
    endpoint: aws.url,
    region: aws.region,
    credentials: DEFAULT_SERVICE_CREDENTIALS,
    maxAttempts: 1,
  });
  sts = new STSClient({ endpoint: aws.url, region: aws.region, maxAttempts: 1 });
});

after(async () => {
  cognito?.destroy();
  sts?.destroy();
  await aws?.close();
});

describe('Cognito developer-authenticated identities', () => {
  it('returns a stable IdentityId per developer user and a well-formed OpenID token', async () => {
    const a1 = await devToken('alice', { PrincipalTags: { tenant: 'acme' } });
    const a2 = await devToken('alice');
    const b = await devToken('bob');
    assert.match(a1.identityId, /^us-east-1:[0-9a-f-]{36}$/);
    assert.equal(a2.identityId, a1.identityId);
    assert.notEqual(b.identityId, a1.identityId);

    const claims = decodeJwt(a1.token);
    assert.equal(claims.iss, 'https://cognito-identity.amazonaws.com');
    assert.equal(claims.aud, aws.identityPoolId);
    assert.equal(claims.sub, a1.identityId);
    assert.deepEqual((claims.amr as string[]).slice(0, 2), ['authenticated', PROVIDER]);
    assert.equal(claims.exp! - claims.iat!, 900);
    assert.deepEqual(claims['https://aws.amazon.com/tags'], { principal_tags: { tenant: ['acme'] } });

    const lookup = await cognito.send(
      new LookupDeveloperIdentityCommand({
        IdentityPoolId: aws.identityPoolId,
        DeveloperUserIdentifier: 'alice',
      }),
    );
    assert.equal(lookup.IdentityId, a1.identityId);
    assert.deepEqual(lookup.DeveloperUserIdentifierList, ['alice']);
  });

  it('enforces TokenDuration 1..86400', async () => {
    await rejects(devToken('alice', { TokenDuration: 0 }), 'InvalidParameterException', 400);
    await rejects(devToken('alice', { TokenDuration: 86401 }), 'InvalidParameterException', 400);
    const ok = await devToken('alice', { TokenDuration: 86400 });
    const claims = decodeJwt(ok.token);
    assert.equal(claims.exp! - claims.iat!, 86400);
  });

  it('rejects a wrong provider name, a wrong pool, a wrong secret, an unknown key and unsigned calls', async () => {
    await rejects(
      cognito.send(
        new GetOpenIdTokenForDeveloperIdentityCommand({
          IdentityPoolId: aws.identityPoolId,
          Logins: { 'evil.example': 'x' },
        }),
      ),
      'NotAuthorizedException',
    );
    await rejects(
      cognito.send(
        new GetOpenIdTokenForDeveloperIdentityCommand({
          IdentityPoolId: 'us-east-1:11111111-1111-4111-8111-111111111111',
          Logins: { [PROVIDER]: 'alice' },
        }),
      ),
      'ResourceNotFoundException',
    );
    const wrongSecret = new CognitoIdentityClient({
      endpoint: aws.url,
      region: aws.region,
      maxAttempts: 1,
      credentials: {
        accessKeyId: DEFAULT_SERVICE_CREDENTIALS.accessKeyId,
        secretAccessKey: 'not-the-secret',
      },
    });
    await rejects(
      wrongSecret.send(
        new GetOpenIdTokenForDeveloperIdentityCommand({
          IdentityPoolId: aws.identityPoolId,
          Logins: { [PROVIDER]: 'alice' },
        }),
      ),
      'InvalidSignatureException',
      400,
    );
    const unknownKey = new CognitoIdentityClient({
      endpoint: aws.url,
      region: aws.region,
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'whatever' },
    });
    await rejects(
      unknownKey.send(
        new GetOpenIdTokenForDeveloperIdentityCommand({
          IdentityPoolId: aws.identityPoolId,
          Logins: { [PROVIDER]: 'alice' },
        }),
      ),
      'UnrecognizedClientException',
      400,
    );
    const unsigned = await fetch(aws.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSCognitoIdentityService.GetOpenIdTokenForDeveloperIdentity',
      },
      body: JSON.stringify({ IdentityPoolId: aws.identityPoolId, Logins: { [PROVIDER]: 'alice' } }),
    });
    assert.equal(unsigned.status, 400);
    assert.equal(((await unsigned.json()) as any).__type, 'MissingAuthenticationTokenException');
    wrongSecret.destroy();
    unknownKey.destroy();
  });

  it('supports guests: GetId + GetOpenIdToken, then links the developer login to the guest identity', async () => {
    const guest = await cognito.send(new GetIdCommand({ IdentityPoolId: aws.identityPoolId }));
    const other = await cognito.send(new GetIdCommand({ IdentityPoolId: aws.identityPoolId }));
    assert.notEqual(guest.IdentityId, other.IdentityId);
    const guestToken = await cognito.send(new GetOpenIdTokenCommand({ IdentityId: guest.IdentityId }));
    assert.deepEqual(decodeJwt(guestToken.Token!).amr, ['unauthenticated']);

    const upgraded = await devToken('carol', { IdentityId: guest.IdentityId });
    assert.equal(upgraded.identityId, guest.IdentityId);
    // once authenticated, the identity no longer gets tokens without logins
    await rejects(
      cognito.send(new GetOpenIdTokenCommand({ IdentityId: guest.IdentityId })),
      'NotAuthorizedException',
    );
    // ... but does with its Cognito token
    const refreshed = await cognito.send(
      new GetOpenIdTokenCommand({
        IdentityId: guest.IdentityId,
        Logins: { 'cognito-identity.amazonaws.com': upgraded.token },
      }),
    );
    assert.equal(decodeJwt(refreshed.Token!).sub, guest.IdentityId);
  });

  it('merges a guest into the existing identity of an already-linked user; conflicts for authenticated identities', async () => {
    const dave = await devToken('dave');
    const guest = await cognito.send(new GetIdCommand({ IdentityPoolId: aws.identityPoolId }));
    const merged = await devToken('dave', { IdentityId: guest.IdentityId });
    assert.equal(merged.identityId, dave.identityId, 'the existing identity wins');
    const erin = await devToken('erin');
    await rejects(devToken('dave', { IdentityId: erin.identityId }), 'ResourceConflictException', 400);
  });

  it('refuses unauthenticated identities when the pool does not allow them', async () => {
    const strict = await startAwsDouble({ allowUnauthenticated: false });
    const client = new CognitoIdentityClient({ endpoint: strict.url, region: strict.region, maxAttempts: 1 });
    try {
      await rejects(
        client.send(new GetIdCommand({ IdentityPoolId: strict.identityPoolId })),
        'NotAuthorizedException',
      );
    } finally {
      client.destroy();
      await strict.close();
    }
  });

  it('vends credentials with GetCredentialsForIdentity (enhanced flow)', async () => {
    const frank = await devToken('frank');
    await rejects(
      cognito.send(new GetCredentialsForIdentityCommand({ IdentityId: frank.identityId })),
      'NotAuthorizedException',
    );
    const out = await cognito.send(
      new GetCredentialsForIdentityCommand({
        IdentityId: frank.identityId,
        Logins: { 'cognito-identity.amazonaws.com': frank.token },
      }),
    );
    assert.equal(out.IdentityId, frank.identityId);
    assert.match(out.Credentials!.AccessKeyId!, /^ASIA/);
    const ttl = out.Credentials!.Expiration!.getTime() - Date.now();
    assert.ok(ttl > 3500_000 && ttl <= 3600_000, `ttl ${ttl}`);
    assert.equal(aws.credentials.get(out.Credentials!.AccessKeyId!)?.roleArn, DEFAULT_AUTHENTICATED_ROLE_ARN);

    // a token for another identity is refused
    const other = await devToken('grace');
    await rejects(
      cognito.send(
        new GetCredentialsForIdentityCommand({
          IdentityId: frank.identityId,
          Logins: { 'cognito-identity.amazonaws.com': other.token },
        }),
      ),
      'NotAuthorizedException',
    );

    const guest = await cognito.send(new GetIdCommand({ IdentityPoolId: aws.identityPoolId }));
    const guestCreds = await cognito.send(
      new GetCredentialsForIdentityCommand({ IdentityId: guest.IdentityId }),
    );
    assert.equal(
      aws.credentials.get(guestCreds.Credentials!.AccessKeyId!)?.roleArn,
      DEFAULT_UNAUTHENTICATED_ROLE_ARN,
    );

    // the vended credentials really work against the double (no session policy: allowed)
    const s3 = s3For({
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretKey!,
      sessionToken: out.Credentials!.SessionToken!,
    });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'anywhere/frank.txt', Body: 'hi' }));
    s3.destroy();
  });
});

describe('STS AssumeRoleWithWebIdentity', () => {
  it('exchanges a Cognito token for ASIA credentials', async () => {
    const { identityId, token } = await devToken('henry');
    const out = await assume(token, { DurationSeconds: 900 });
    assert.match(out.Credentials!.AccessKeyId!, /^ASIA/);
    assert.ok(out.Credentials!.SecretAccessKey);
    assert.ok(out.Credentials!.SessionToken);
    const ttl = out.Credentials!.Expiration!.getTime() - Date.now();
    assert.ok(ttl > 880_000 && ttl <= 900_000, `ttl ${ttl}`);
    assert.equal(out.SubjectFromWebIdentityToken, identityId);
    assert.equal(out.Audience, aws.identityPoolId);
    assert.equal(out.Provider, 'cognito-identity.amazonaws.com');
    assert.equal(
      out.AssumedRoleUser!.Arn,
      'arn:aws:sts::123456789012:assumed-role/keywarden-authenticated/keywarden-test',
    );
    assert.match(out.AssumedRoleUser!.AssumedRoleId!, /^AROA[A-Z0-9]+:keywarden-test$/);
    const record = aws.credentials.get(out.Credentials!.AccessKeyId!);
    assert.equal(record?.identityId, identityId);
    assert.equal(record?.source, 'sts');

    const who = new STSClient({
      endpoint: aws.url,
      region: aws.region,
      maxAttempts: 1,
      credentials: {
        accessKeyId: out.Credentials!.AccessKeyId!,
        secretAccessKey: out.Credentials!.SecretAccessKey!,
        sessionToken: out.Credentials!.SessionToken!,
      },
    });
    const caller = await who.send(new GetCallerIdentityCommand({}));
    assert.equal(caller.Arn, out.AssumedRoleUser!.Arn);
    who.destroy();
  });

  it('enforces DurationSeconds 900..MaxSessionDuration', async () => {
    const { token } = await devToken('henry');
    await rejects(assume(token, { DurationSeconds: 899 }), 'ValidationError', 400);
    await rejects(assume(token, { DurationSeconds: 3601 }), 'ValidationError', 400);
    await assume(token, { DurationSeconds: 3600 });
    const long = await assume(token, { RoleArn: LONG_ROLE, DurationSeconds: 43200 });
    assert.ok(long.Credentials!.Expiration!.getTime() - Date.now() > 43000_000);
    await rejects(assume(token, { RoleArn: LONG_ROLE, DurationSeconds: 43201 }), 'ValidationError', 400);
  });

  it('validates the session policy (JSON, <= 2048 characters) and the session name', async () => {
    const { identityId, token } = await devToken('henry');
    await assume(token, { Policy: userPolicy(identityId) });
    const big = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/${'x'.repeat(2100)}` },
      ],
    });
    assert.ok(big.length > 2048);
    await rejects(assume(token, { Policy: big }), 'PackedPolicyTooLargeException', 400);
    await rejects(
      assume(token, { Policy: '{"Version": "2012-10-17", "Statement": [' }),
      'MalformedPolicyDocumentException',
      400,
    );
    await rejects(assume(token, { RoleSessionName: 'a' }), 'ValidationError', 400);
    await rejects(assume(token, { RoleSessionName: 'has space' }), 'ValidationError', 400);
  });

  it('rejects forged, tampered and expired tokens, unknown/untrusted roles, and guests on the auth role', async () => {
    const { identityId, token } = await devToken('ivan');
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ amr: ['authenticated'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'forged' })
      .setIssuer('https://cognito-identity.amazonaws.com')
      .setAudience(aws.identityPoolId)
      .setSubject(identityId)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    await rejects(assume(forged), 'InvalidIdentityTokenException', 400);
    // a token with its payload swapped (signature no longer matches)
    const [h, , s] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ ...decodeJwt(token), sub: 'us-east-1:other' })).toString(
      'base64url',
    );
    await rejects(assume(`${h}.${payload}.${s}`), 'InvalidIdentityTokenException', 400);

    await rejects(assume(token, { RoleArn: 'arn:aws:iam::123456789012:role/unknown' }), 'AccessDenied', 403);
    await rejects(assume(token, { RoleArn: UNTRUSTED_ROLE }), 'AccessDenied', 403);

    const guest = await cognito.send(new GetIdCommand({ IdentityPoolId: aws.identityPoolId }));
    const guestToken = (await cognito.send(new GetOpenIdTokenCommand({ IdentityId: guest.IdentityId })))
      .Token!;
    await rejects(assume(guestToken), 'AccessDenied', 403);
    await assume(guestToken, { RoleArn: DEFAULT_UNAUTHENTICATED_ROLE_ARN });

    const short = await devToken('ivan', { TokenDuration: 1 });
    aws.advanceClock(5_000);
    try {
      await rejects(assume(short.token), 'ExpiredTokenException', 400);
    } finally {
      aws.advanceClock(-5_000);
    }
  });
});

describe('fault injection, latency and call recording', () => {
  it('surfaces injected throttling as the SDK errors', async () => {
    aws.failNext('GetOpenIdTokenForDeveloperIdentity', 'throttle');
    await rejects(devToken('judy'), 'TooManyRequestsException', 400);
    await devToken('judy'); // only the next call was affected

    const { token } = await devToken('judy');
    aws.failNext('AssumeRoleWithWebIdentity', 'throttle', 2);
    await rejects(assume(token), 'Throttling', 400);
    await rejects(assume(token), 'Throttling', 400);
    await assume(token);
  });

  it('injects internal errors and notAuthorized', async () => {
    aws.failNext('GetId', 'internal');
    await rejects(
      cognito.send(new GetIdCommand({ IdentityPoolId: aws.identityPoolId })),
      'InternalErrorException',
      500,
    );
    aws.failNext('GetOpenIdTokenForDeveloperIdentity', 'notAuthorized');
    await rejects(devToken('judy'), 'NotAuthorizedException', 400);
    const { token } = await devToken('judy');
    aws.failNext('AssumeRoleWithWebIdentity', 'notAuthorized');
    await rejects(assume(token), 'AccessDenied', 403);
    aws.failNext('AssumeRoleWithWebIdentity', 'internal');
    await rejects(assume(token), 'InternalFailure', 500);
  });

  it('holds a response past the client timeout, and applies latency', async () => {
    aws.failNext('GetOpenIdTokenForDeveloperIdentity', 'timeout');
    const started = Date.now();
    await assert.rejects(
      cognito.send(
        new GetOpenIdTokenForDeveloperIdentityCommand({
          IdentityPoolId: aws.identityPoolId,
          Logins: { [PROVIDER]: 'kim' },
        }),
        { abortSignal: AbortSignal.timeout(300) },
      ),
      (e: any) => /abort|timeout/i.test(`${e.name} ${e.message}`),
    );
    assert.ok(Date.now() - started >= 290);
    await devToken('kim');

    aws.setLatency(200);
    const t0 = Date.now();
    await devToken('kim');
    assert.ok(Date.now() - t0 >= 195);
    aws.reset();
    const t1 = Date.now();
    await devToken('kim');
    assert.ok(Date.now() - t1 < 195);
  });

  it('records calls without secrets', async () => {
    aws.reset();
    const { token } = await devToken('leo');
    await assume(token);
    await cognito.send(
      new GetIdCommand({
        IdentityPoolId: aws.identityPoolId,
        Logins: { 'cognito-identity.amazonaws.com': token },
      }),
    );
    assert.deepEqual(
      aws.calls.map((c) => `${c.service}:${c.operation}`),
      ['cognito:GetOpenIdTokenForDeveloperIdentity', 'sts:AssumeRoleWithWebIdentity', 'cognito:GetId'],
    );
    const serialized = JSON.stringify(aws.calls);
    assert.ok(!serialized.includes(token), 'tokens must not be recorded');
    assert.ok(!serialized.includes(DEFAULT_SERVICE_CREDENTIALS.secretAccessKey));
    assert.equal((aws.calls[1]!.params as any).RoleArn, DEFAULT_AUTHENTICATED_ROLE_ARN);
  });
});

describe('S3', () => {
  let identityId: string;
  let creds: Creds;
  let s3: S3Client;

  before(async () => {
    const dev = await devToken('mallory-s3');
    identityId = dev.identityId;
    const out = await assume(dev.token, { Policy: userPolicy(identityId) });
    creds = {
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
    };
    s3 = s3For(creds);
  });

  after(() => s3?.destroy());

  it('round-trips bytes through a presigned PUT and a presigned GET', async () => {
    const key = `users/${identityId}/photo.bin`;
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    const putUrl = await getSignedUrl(
      s3,
      new PutObjectCommand({ Bucket: BUCKET, Key: key, ContentType: 'image/png' }),
      {
        expiresIn: 300,
      },
    );
    const put = await fetch(putUrl, { method: 'PUT', body: bytes, headers: { 'content-type': 'image/png' } });
    assert.equal(put.status, 200, await put.text());
    assert.equal(aws.objects.get(`${BUCKET}/${key}`)?.contentType, 'image/png');

    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: key }), {
      expiresIn: 300,
    });
    const got = await fetch(getUrl);
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), bytes);
    assert.equal(got.headers.get('content-type'), 'image/png');

    // header-auth SDK calls on the same object
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal(head.ContentLength, 1000);
    const obj = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.deepEqual(Buffer.from(await obj.Body!.transformToByteArray()), bytes);
  });

  it('rejects tampered signatures, expired URLs, wrong secrets and expired credentials', async () => {
    const key = `users/${identityId}/x.txt`;
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: key }), {
      expiresIn: 300,
    });
    const tampered = url.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
    );
    const r1 = await fetch(tampered, { method: 'PUT', body: 'x' });
    assert.equal(r1.status, 403);
    assert.match(await r1.text(), /<Code>SignatureDoesNotMatch<\/Code>/);

    const otherKey = url.replace('/x.txt?', '/y.txt?');
    const r2 = await fetch(otherKey, { method: 'PUT', body: 'x' });
    assert.equal(r2.status, 403, 'the signature covers the path');

    const expired = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: key }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 120_000),
    });
    const r3 = await fetch(expired, { method: 'PUT', body: 'x' });
    assert.equal(r3.status, 403);
    const text = await r3.text();
    assert.match(text, /<Code>AccessDenied<\/Code>/);
    assert.match(text, /Request has expired/);

    const wrong = s3For({ ...creds, secretAccessKey: 'wrong' });
    await rejects(
      wrong.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' })),
      'SignatureDoesNotMatch',
      403,
    );
    wrong.destroy();
    const badToken = s3For({ ...creds, sessionToken: 'forged' });
    await rejects(
      badToken.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' })),
      'InvalidToken',
      400,
    );
    badToken.destroy();
    const unknown = s3For({ accessKeyId: 'ASIAUNKNOWNUNKNOWN00', secretAccessKey: 's', sessionToken: 't' });
    await rejects(
      unknown.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' })),
      'InvalidAccessKeyId',
      403,
    );
    unknown.destroy();

    aws.advanceClock(2 * 3600_000);
    try {
      await rejects(
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' })),
        'ExpiredToken',
        400,
      );
    } finally {
      aws.advanceClock(-2 * 3600_000);
    }
  });

  it('authorises with the session policy: users/<id>/* only', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `users/${identityId}/ok.txt`, Body: 'ok' }));
    const denied = await rejects(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'users/someone-else/evil.txt', Body: 'x' })),
      'AccessDenied',
      403,
    );
    assert.match(denied.message, /not authorized to perform: s3:PutObject/);
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'anywhere/frank.txt' }));
    assert.equal((await fetch(url)).status, 403);
    // DeleteObject is not in the policy
    await rejects(
      s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `users/${identityId}/ok.txt` })),
      'AccessDenied',
      403,
    );
    // nor is ListBucket
    await rejects(
      s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `users/${identityId}/` })),
      'AccessDenied',
      403,
    );
  });

  it('supports policy variables and explicit Deny', async () => {
    const { token } = await devToken('mallory-s3');
    const out = await assume(token, {
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 's3:*',
            Resource: `arn:aws:s3:::${BUCKET}/users/\${cognito-identity.amazonaws.com:sub}/*`,
          },
          { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' },
          {
            Effect: 'Allow',
            Action: 's3:ListBucket',
            Resource: `arn:aws:s3:::${BUCKET}`,
            // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS placeholder
            Condition: { StringLike: { 's3:prefix': 'users/${cognito-identity.amazonaws.com:sub}/*' } },
          },
        ],
      }),
    });
    const client = s3For({
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
    });
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `users/${identityId}/v.txt`, Body: 'v' }));
    await rejects(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'users/x/v.txt', Body: 'v' })),
      'AccessDenied',
    );
    await rejects(
      client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `users/${identityId}/v.txt` })),
      'AccessDenied',
    );
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `users/${identityId}/` }),
    );
    assert.ok(listed.Contents?.some((o) => o.Key === `users/${identityId}/v.txt`));
    await rejects(
      client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'users/' })),
      'AccessDenied',
    );
    client.destroy();
  });

  it('reports NoSuchKey and NoSuchBucket', async () => {
    await rejects(
      s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `users/${identityId}/missing` })),
      'NoSuchKey',
      404,
    );
    await rejects(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })), 'NoSuchBucket', 404);
  });

  it('handles awkward keys and streaming (aws-chunked) bodies', async () => {
    const key = `users/${identityId}/dir with space/ü+plus&amp=1~(x).txt`;
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'awkward', ContentType: 'text/plain' }),
    );
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'awkward');

    const streaming = s3For(creds, { requestChecksumCalculation: 'WHEN_SUPPORTED' });
    const streamKey = `users/${identityId}/stream.txt`;
    await streaming.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: streamKey,
        Body: Readable.from([Buffer.from('chunk-1,'), Buffer.from('chunk-2')]),
        ContentLength: 15,
      }),
    );
    assert.equal(aws.objects.get(`${BUCKET}/${streamKey}`)?.body.toString(), 'chunk-1,chunk-2');
    streaming.destroy();
  });

  it('catches the SDK default-checksum trap in presigned PUT URLs (CRC32 of an empty body)', async () => {
    const naive = s3For(creds, { requestChecksumCalculation: 'WHEN_SUPPORTED' });
    const url = await getSignedUrl(
      naive,
      new PutObjectCommand({ Bucket: BUCKET, Key: `users/${identityId}/c.txt` }),
    );
    assert.match(url, /x-amz-checksum-crc32=AAAAAA/);
    const res = await fetch(url, { method: 'PUT', body: 'not empty' });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /<Code>BadDigest<\/Code>/);
    naive.destroy();
  });

  it('accepts a browser POST within the policy and enforces content-length-range', async () => {
    const { url, fields } = await createPresignedPost(s3, {
      Bucket: BUCKET,
      Key: `users/${identityId}/post.txt`,
      Conditions: [
        ['content-length-range', 1, 100],
        ['starts-with', '$Content-Type', 'text/'],
      ],
      Fields: { 'Content-Type': 'text/plain' },
      Expires: 300,
    });
    const post = (body: string, override: Record<string, string> = {}) => {
      const form = new FormData();
      for (const [k, v] of Object.entries({ ...fields, ...override })) form.append(k, v);
      form.append('file', new Blob([body]), 'post.txt');
      return fetch(url, { method: 'POST', body: form });
    };
    const ok = await post('hello from the browser');
    assert.equal(ok.status, 204, await ok.text());
    assert.equal(
      aws.objects.get(`${BUCKET}/users/${identityId}/post.txt`)?.body.toString(),
      'hello from the browser',
    );
    assert.equal(aws.objects.get(`${BUCKET}/users/${identityId}/post.txt`)?.contentType, 'text/plain');

    const big = await post('x'.repeat(101));
    assert.equal(big.status, 400);
    assert.match(await big.text(), /<Code>EntityTooLarge<\/Code>/);

    const otherKey = await post('hi', { key: `users/${identityId}/other.txt` });
    assert.equal(otherKey.status, 403);
    assert.match(await otherKey.text(), /Policy Condition failed/);

    const badType = await post('hi', { 'Content-Type': 'application/x-sh' });
    assert.equal(badType.status, 403);

    const forgedSig = await post('hi', { 'X-Amz-Signature': '0'.repeat(64) });
    assert.equal(forgedSig.status, 403);
    assert.match(await forgedSig.text(), /SignatureDoesNotMatch/);
  });

  it('completes a 2-part multipart upload with presigned UploadPart URLs', async () => {
    const key = `users/${identityId}/big.bin`;
    const part1 = Buffer.alloc(5 * 1024 * 1024, 0xab);
    const part2 = Buffer.from('the tail');
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ContentType: 'application/zip' }),
    );
    assert.ok(UploadId);
    const etags: string[] = [];
    for (const [i, body] of [part1, part2].entries()) {
      const partUrl: string = await getSignedUrl(
        s3,
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1 }),
        { expiresIn: 300 },
      );
      const res: Response = await fetch(partUrl, { method: 'PUT', body });
      assert.equal(res.status, 200, await res.text());
      etags.push(res.headers.get('etag')!);
    }
    const parts = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId }));
    assert.deepEqual(
      parts.Parts?.map((p) => [p.PartNumber, p.Size]),
      [
        [1, part1.length],
        [2, part2.length],
      ],
    );
    await rejects(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: '"deadbeef"' },
              { PartNumber: 2, ETag: etags[1] },
            ],
          },
        }),
      ),
      'InvalidPart',
      400,
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) },
      }),
    );
    assert.match(done.ETag!, /-2"$/);
    const stored = aws.objects.get(`${BUCKET}/${key}`)!;
    assert.deepEqual(stored.body, Buffer.concat([part1, part2]));
    assert.equal(stored.contentType, 'application/zip');

    // parts other than the last must be >= 5 MiB; aborting releases the upload
    const small = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const tags: string[] = [];
    for (const n of [1, 2]) {
      const r = await s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: small.UploadId,
          PartNumber: n,
          Body: 'tiny',
        }),
      );
      tags.push(r.ETag!);
    }
    await rejects(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: small.UploadId,
          MultipartUpload: { Parts: tags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) },
        }),
      ),
      'EntityTooSmall',
      400,
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: small.UploadId }));
    await rejects(
      s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: small.UploadId })),
      'NoSuchUpload',
      404,
    );
  });
});
