// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${identityId} is the key prefix template syntax under test
/**
 * Unit tests for what goes into a signature: URL lifetimes (bucket default and maximum, the
 * signing credentials' remaining life), the POST policy's conditions, the headers bound into
 * a presigned PUT, and the presign config rules checked at load.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ConfigError } from '../src/config/load.ts';
import { KeywardenError } from '../src/http/errors.ts';
import { ObjectUrlSigner } from '../src/presign/object-url-signer.ts';
import {
  createCallerS3Client,
  postPolicyConditions,
  presignPostObject,
} from '../src/presign/s3-presigner.ts';
import { SIGV4_MAX_EXPIRES_SECONDS, urlLifetime } from '../src/presign/url-lifetime.ts';
import { testConfig } from './support/test-config.ts';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const limits = { defaultExpiresSeconds: 900, maxExpiresSeconds: 3600 };
const inSeconds = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

const credentials = {
  accessKeyId: 'ASIAPRESIGNUNITTEST1',
  secretAccessKey: 'presign/unit/test/secret/0000000000000000',
  sessionToken: 'presign-unit-test-session-token-value',
  expiration: inSeconds(3600),
};
const bucket = { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true };

function expectProblem(fn: () => unknown, status: number, code: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof KeywardenError, String(error));
    assert.equal(error.status, status);
    assert.equal(error.code, code);
    return true;
  });
}

describe('URL lifetime', () => {
  const lifetime = (requested: number | undefined, credentialsLeft = 3600) =>
    urlLifetime({ requested, limits, credentialsExpiration: inSeconds(credentialsLeft), now: NOW });

  it('uses the bucket default when none is asked', () => {
    assert.deepEqual(lifetime(undefined), { expiresInSeconds: 900, expiresAt: inSeconds(900) });
  });

  it('grants what is asked within 1..max', () => {
    assert.equal(lifetime(1).expiresInSeconds, 1);
    assert.equal(lifetime(3600).expiresInSeconds, 3600);
  });

  it('refuses 0, negatives, fractions and anything over the bucket maximum with 400', () => {
    for (const bad of [0, -5, 1.5, 3601, SIGV4_MAX_EXPIRES_SECONDS + 1]) {
      expectProblem(() => lifetime(bad), 400, 'invalid_expires_in');
    }
  });

  it('never outlives the signing credentials (clamped, expiresAt tells the truth)', () => {
    assert.deepEqual(lifetime(3600, 1200), { expiresInSeconds: 1200, expiresAt: inSeconds(1200) });
    assert.deepEqual(lifetime(undefined, 600), { expiresInSeconds: 600, expiresAt: inSeconds(600) });
    // Partial seconds are dropped: the URL dies no later than the credentials.
    const partial = urlLifetime({
      requested: 3600,
      limits,
      credentialsExpiration: new Date(NOW.getTime() + 10_999),
      now: NOW,
    });
    assert.equal(partial.expiresInSeconds, 10);
  });

  it('answers 503 when the credentials have (almost) run out', () => {
    expectProblem(() => lifetime(60, 0), 503, 'service_unavailable');
    expectProblem(() => lifetime(60, -30), 503, 'service_unavailable');
  });

  it('never exceeds SigV4 seven days even if a bucket allowed it', () => {
    const long = urlLifetime({
      requested: undefined,
      limits: {
        defaultExpiresSeconds: SIGV4_MAX_EXPIRES_SECONDS,
        maxExpiresSeconds: SIGV4_MAX_EXPIRES_SECONDS,
      },
      credentialsExpiration: inSeconds(30 * 24 * 3600),
      now: NOW,
    });
    assert.equal(long.expiresInSeconds, SIGV4_MAX_EXPIRES_SECONDS);
  });
});

describe('POST policy', () => {
  it('binds the size range and the exact content type', () => {
    assert.deepEqual(postPolicyConditions({ maxBytes: 1024, contentType: 'image/png' }), [
      ['content-length-range', 0, 1024],
      ['eq', '$Content-Type', 'image/png'],
    ]);
    assert.deepEqual(postPolicyConditions({ maxBytes: 5 }), [['content-length-range', 0, 5]]);
  });

  it('signs a policy with the exact key, bucket, range, type, expiry and the caller token', async () => {
    const client = createCallerS3Client(bucket, credentials);
    const key = 'users/us-east-1:11111111-1111-4111-8111-111111111111/a.png';
    const before = Date.now();
    const post = await presignPostObject(client, {
      bucket: 'kw-bucket',
      key,
      expiresInSeconds: 300,
      signingDate: new Date(),
      maxBytes: 2048,
      contentType: 'image/png',
    });
    client.destroy();
    assert.equal(post.url, 'http://127.0.0.1:9/kw-bucket');
    const policy = JSON.parse(Buffer.from(post.fields.Policy!, 'base64').toString('utf8')) as {
      expiration: string;
      conditions: unknown[];
    };
    const expiresAt = Date.parse(policy.expiration);
    assert.ok(expiresAt >= Math.floor(before / 1000) * 1000 + 299_000 && expiresAt <= Date.now() + 300_000);
    assert.deepEqual(policy.conditions, [
      ['content-length-range', 0, 2048],
      ['eq', '$Content-Type', 'image/png'],
      { 'Content-Type': 'image/png' },
      { bucket: 'kw-bucket' },
      { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' },
      { 'X-Amz-Credential': post.fields['X-Amz-Credential'] },
      { 'X-Amz-Date': post.fields['X-Amz-Date'] },
      { 'X-Amz-Security-Token': credentials.sessionToken },
      { key },
    ]);
    assert.equal(post.fields.key, key);
    assert.equal(post.fields['Content-Type'], 'image/png');
    assert.match(
      post.fields['X-Amz-Credential']!,
      /^ASIAPRESIGNUNITTEST1\/\d{8}\/us-east-1\/s3\/aws4_request$/,
    );
    assert.match(post.fields['X-Amz-Signature']!, /^[0-9a-f]{64}$/);
  });

  it('refuses to sign a key with the ${filename} placeholder (it would become starts-with)', async () => {
    const client = createCallerS3Client(bucket, credentials);
    await assert.rejects(
      presignPostObject(client, {
        bucket: 'kw-bucket',
        key: 'users/x/${filename}',
        expiresInSeconds: 60,
        signingDate: new Date(),
        maxBytes: 1,
      }),
      /templated key/,
    );
    client.destroy();
  });
});

describe('presigned URLs', () => {
  const signing = {
    bucket: 'kw-bucket',
    key: 'users/us-east-1:11111111-1111-4111-8111-111111111111/photo 1.jpg',
    expiresInSeconds: 120,
    signingDate: NOW,
  };
  const signer = new ObjectUrlSigner({ name: 'kw-bucket', ...bucket });
  const common = { key: signing.key, expiresInSeconds: 120, signingDate: NOW };

  it('PUT binds Content-Length and Content-Type into the signature and carries no empty-body checksum', async () => {
    const url = new URL(
      await signer.sign(credentials, {
        operation: 'PutObject',
        ...common,
        signedHeaders: { 'Content-Length': '1234', 'Content-Type': 'image/jpeg' },
      }),
    );
    assert.equal(
      url.pathname,
      '/kw-bucket/users/us-east-1%3A11111111-1111-4111-8111-111111111111/photo%201.jpg',
    );
    assert.equal(url.searchParams.get('X-Amz-SignedHeaders'), 'content-length;content-type;host');
    assert.equal(url.searchParams.get('X-Amz-Expires'), '120');
    assert.equal(url.searchParams.get('X-Amz-Date'), '20300101T000000Z');
    assert.equal(url.searchParams.get('X-Amz-Security-Token'), credentials.sessionToken);
    assert.equal(url.searchParams.get('x-amz-checksum-crc32'), null);
    assert.equal(url.searchParams.get('x-amz-sdk-checksum-algorithm'), null);
  });

  it('PUT without a content type binds the length alone', async () => {
    const url = await signer.sign(credentials, {
      operation: 'PutObject',
      ...common,
      signedHeaders: { 'Content-Length': '0' },
    });
    assert.equal(new URL(url).searchParams.get('X-Amz-SignedHeaders'), 'content-length;host');
  });

  it('GET and UploadPart sign only the host', async () => {
    const get = new URL(await signer.sign(credentials, { operation: 'GetObject', ...common }));
    const part = new URL(
      await signer.sign(credentials, {
        operation: 'UploadPart',
        ...common,
        query: { partNumber: '7', uploadId: 'up-1' },
      }),
    );
    assert.equal(get.searchParams.get('X-Amz-SignedHeaders'), 'host');
    assert.equal(part.searchParams.get('X-Amz-SignedHeaders'), 'host');
    assert.equal(part.searchParams.get('partNumber'), '7');
    assert.equal(part.searchParams.get('uploadId'), 'up-1');
  });

  it('are the URLs the AWS SDK itself presigns, signature included, for every bucket style and hostile key', async () => {
    // keywarden presigns through the SDK's S3RequestPresigner with an address learned once per
    // bucket, instead of getSignedUrl with a client per request; the SDK is the oracle.
    const corpus = JSON.parse(
      readFileSync(new URL('./fixtures/presign/hostile-keys.json', import.meta.url), 'utf8'),
    ) as { valid: Array<{ key: string }>; invalid: Array<{ key: string }> };
    const keys = [
      signing.key,
      ...corpus.valid.map((entry) => `users/x/${entry.key}`),
      ...corpus.invalid.map((entry) => `users/x/${entry.key}`),
      "users/x/a b+c%2F(d)!'*~é漢/😀.jpg",
      // Keys that are not well-formed Unicode cannot be URL-encoded at all (confineKey refuses them first).
    ].filter((key) => !key.includes('MAXLEN') && !key.includes('LONG') && key.isWellFormed());
    const styles = [
      {
        name: 'kw-bucket',
        region: 'eu-west-1',
        endpoint: 'http://127.0.0.1:9000/local-aws',
        forcePathStyle: true,
      },
      { name: 'kw-bucket', region: 'eu-west-1', forcePathStyle: false },
      { name: 'kw.dotted.bucket', region: 'us-west-2', forcePathStyle: false },
      { name: 'kw-bucket', region: 'us-east-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: false },
    ];
    const same = (ours: string, sdk: string, what: string) => {
      const a = new URL(ours);
      const b = new URL(sdk);
      assert.equal(a.origin, b.origin, what);
      assert.equal(decodeURIComponent(a.pathname), decodeURIComponent(b.pathname), what);
      assert.deepEqual([...a.searchParams].sort(), [...b.searchParams].sort(), what);
    };
    for (const style of styles) {
      const ours = new ObjectUrlSigner(style);
      const client = new S3Client({
        region: style.region,
        ...(style.endpoint ? { endpoint: style.endpoint } : {}),
        forcePathStyle: style.forcePathStyle,
        credentials,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      const options = { expiresIn: 120, signingDate: NOW };
      for (const key of keys) {
        const what = `${style.name} ${style.endpoint ?? 'aws'}: ${JSON.stringify(key)}`;
        same(
          await ours.sign(credentials, { operation: 'GetObject', ...common, key }),
          await getSignedUrl(client, new GetObjectCommand({ Bucket: style.name, Key: key }), options),
          `GET ${what}`,
        );
        same(
          await ours.sign(credentials, {
            operation: 'PutObject',
            ...common,
            key,
            signedHeaders: { 'Content-Length': '42', 'Content-Type': 'image/png' },
          }),
          await getSignedUrl(
            client,
            new PutObjectCommand({
              Bucket: style.name,
              Key: key,
              ContentLength: 42,
              ContentType: 'image/png',
            }),
            { ...options, signableHeaders: new Set(['content-type', 'content-length']) },
          ),
          `PUT ${what}`,
        );
        same(
          await ours.sign(credentials, {
            operation: 'UploadPart',
            ...common,
            key,
            query: { partNumber: '3', uploadId: 'up/+=1' },
          }),
          await getSignedUrl(
            client,
            new UploadPartCommand({ Bucket: style.name, Key: key, UploadId: 'up/+=1', PartNumber: 3 }),
            options,
          ),
          `UploadPart ${what}`,
        );
      }
      client.destroy();
    }
  });
});

describe('presign configuration', () => {
  const bucketEntry = (extra: Record<string, unknown> = {}) => ({
    name: 'kw-photos',
    region: 'us-east-1',
    ...extra,
  });
  const load = (presign: Record<string, unknown>, more: Record<string, unknown> = {}) =>
    testConfig({ presign, ...more });
  const problems = (presign: Record<string, unknown>, more: Record<string, unknown> = {}) => {
    try {
      load(presign, more);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems.join('\n');
    }
    assert.fail('the configuration was accepted');
  };

  it('fills defaults: users/${identityId}/ prefix, 15 min default, 1 h max, every operation for users, none for guests', () => {
    const config = load({ buckets: [bucketEntry({ maxObjectBytes: '5gb' })] });
    const [only] = config.presign.buckets;
    assert.ok(only);
    assert.equal(only.keyPrefix, 'users/${identityId}/');
    assert.equal(only.defaultExpiresSeconds, 900);
    assert.equal(only.maxExpiresSeconds, 3600);
    assert.equal(only.maxObjectBytes, 5 * 1024 ** 3);
    assert.equal(only.forcePathStyle, false);
    assert.deepEqual(only.operations, {
      authenticated: ['getObject', 'putObject', 'postObject', 'multipart'],
      guest: [],
      roles: {},
    });
    assert.equal(config.presign.multipart.maxPartsPerRequest, 100);
  });

  it('reports every field problem at once', () => {
    const report = problems({
      buckets: [
        bucketEntry({ maxExpiresSeconds: SIGV4_MAX_EXPIRES_SECONDS + 1 }),
        bucketEntry({ name: 'Not_A_Bucket', contentTypes: ['images'] }),
        bucketEntry({ name: 'kw-roles', operations: { guest: ['deleteObject'] }, maxObjectBytes: '5pb' }),
      ],
    });
    assert.match(report, /presign\.buckets\.0\.maxExpiresSeconds/);
    assert.match(report, /presign\.buckets\.1\.name: expected an S3 bucket name/);
    assert.match(report, /presign\.buckets\.1\.contentTypes\.0: expected type\/subtype/);
    assert.match(report, /presign\.buckets\.2\.operations\.guest\.0/);
    assert.match(report, /presign\.buckets\.2\.maxObjectBytes/);
  });

  it('reports every cross-field problem at once', () => {
    const report = problems({
      buckets: [
        bucketEntry({ keyPrefix: 'users/${sub}/', defaultExpiresSeconds: 7200 }),
        bucketEntry({ keyPrefix: '../${identityId}' }),
        bucketEntry({ name: 'kw-huge', maxObjectBytes: '6tb', credentialScope: 'nope' }),
        bucketEntry({ name: 'kw-roles', operations: { roles: { ghost: ['getObject'] } } }),
      ],
    });
    assert.match(report, /presign\.buckets\.0\.keyPrefix: unknown variable \$\{sub\}/);
    assert.match(report, /presign\.buckets\.0\.keyPrefix: must contain \$\{identityId\} exactly once/);
    assert.match(report, /presign\.buckets\.0\.defaultExpiresSeconds: must not exceed maxExpiresSeconds/);
    assert.match(report, /presign\.buckets\.1\.name: bucket "kw-photos" is listed twice/);
    assert.match(report, /presign\.buckets\.1\.keyPrefix: must end with \//);
    assert.match(report, /presign\.buckets\.1\.keyPrefix: must not contain \. or \.\. segments/);
    assert.match(report, /presign\.buckets\.2\.maxObjectBytes: S3 objects are at most 5 TiB/);
    assert.match(report, /presign\.buckets\.2\.credentialScope: no scope named "nope"/);
    assert.match(report, /presign\.buckets\.3\.operations\.roles\.ghost: no role named "ghost"/);
  });

  it('accepts roles and scopes defined in the credentials section', () => {
    const config = load(
      {
        buckets: [
          bucketEntry({ credentialScope: 'own-prefix', operations: { roles: { reader: ['getObject'] } } }),
        ],
      },
      {
        credentials: {
          roles: { reader: { arn: 'arn:aws:iam::123456789012:role/reader' } },
          scopes: { 'own-prefix': { policy: { Version: '2012-10-17', Statement: [] } } },
        },
      },
    );
    assert.deepEqual(config.presign.buckets[0]?.operations.roles, { reader: ['getObject'] });
  });
});
