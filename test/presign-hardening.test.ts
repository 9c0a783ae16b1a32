import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { Principal } from '../src/auth/principal.ts';
import { KeywardenError } from '../src/http/errors.ts';
import { createPresignService, type PresignService } from '../src/presign/presign-service.ts';
import { toPresignError } from '../src/presign/s3-errors.ts';
import { presignConfinementWarnings } from '../src/presign/scope-confinement.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { testConfig } from './support/test-config.ts';

/**
 * Multipart completion found in review: the size check counted the parts S3 listed, but
 * completed whatever ETags the client named, so a part replaced (or named) after the listing
 * escaped the bucket's size limit.
 */

const IDENTITY = 'us-east-1:11111111-2222-4333-8444-555555555555';
const BUCKET = 'keywarden-review-bucket';
const MiB = 1024 * 1024;
const user: Principal = { provider: 'corp', subject: 'alice', kind: 'user', claims: {} };

async function rejection(promise: Promise<unknown>): Promise<KeywardenError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeywardenError, `expected a KeywardenError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

describe('multipart complete pins the parts it measured', () => {
  let s3: ReturnType<typeof mockClient>;
  let service: PresignService;
  let uploadId: string;

  beforeEach(async () => {
    s3 = mockClient(S3Client);
    const config = testConfig({
      presign: { buckets: [{ name: BUCKET, region: 'us-east-1', maxObjectBytes: 12 * MiB }] },
    });
    service = createPresignService({
      config: config.presign,
      store: new MemoryStore(),
      credentialsFor: async () => ({
        identityId: IDENTITY,
        role: 'reader',
        credentials: {
          accessKeyId: 'ASIAMOCK',
          secretAccessKey: 'mock-secret',
          sessionToken: 'mock-token',
          expiration: new Date(Date.now() + 3600_000),
        },
      }),
    });
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3.on(ListPartsCommand).resolves({
      IsTruncated: false,
      Parts: [
        { PartNumber: 1, ETag: '"aaaa"', Size: 6 * MiB },
        { PartNumber: 2, ETag: '"bbbb"', Size: 5 * MiB },
      ],
    });
    s3.on(CompleteMultipartUploadCommand).resolves({ ETag: '"done-2"' });
    s3.on(AbortMultipartUploadCommand).resolves({});
    const created = await service.multipart({ principal: user }, { action: 'create', key: 'big.bin' });
    uploadId = created.result.uploadId;
  });
  afterEach(() => s3.restore());

  it('completes when every named part is the listed one (ETags with or without quotes)', async () => {
    const done = await service.multipart(
      { principal: user },
      {
        action: 'complete',
        key: 'big.bin',
        uploadId,
        parts: [
          { partNumber: 1, etag: '"aaaa"' },
          { partNumber: 2, etag: 'bbbb' },
        ],
      },
    );
    assert.equal(done.result.action, 'complete');
    assert.equal(s3.commandCalls(CompleteMultipartUploadCommand).length, 1);
  });

  it('a part whose ETag differs from the listing (replaced since) is refused and nothing completes', async () => {
    const error = await rejection(
      service.multipart(
        { principal: user },
        {
          action: 'complete',
          key: 'big.bin',
          uploadId,
          parts: [
            { partNumber: 1, etag: '"aaaa"' },
            { partNumber: 2, etag: '"etag-of-a-5-GiB-replacement"' },
          ],
        },
      ),
    );
    assert.equal(error.status, 400);
    assert.equal(error.code, 'invalid_part');
    assert.equal(s3.commandCalls(CompleteMultipartUploadCommand).length, 0);
  });

  it('a part S3 did not list (uploaded after the listing) is refused, not counted as 0 bytes', async () => {
    const error = await rejection(
      service.multipart(
        { principal: user },
        {
          action: 'complete',
          key: 'big.bin',
          uploadId,
          parts: [
            { partNumber: 1, etag: '"aaaa"' },
            { partNumber: 2, etag: '"bbbb"' },
            { partNumber: 3, etag: '"cccc"' },
          ],
        },
      ),
    );
    assert.equal(error.code, 'invalid_part');
    assert.equal(s3.commandCalls(CompleteMultipartUploadCommand).length, 0);
  });
});

describe('bucket operations by role name', () => {
  it('a role named like an Object.prototype member falls back to the authenticated list', async () => {
    const config = testConfig({
      presign: {
        buckets: [{ name: BUCKET, region: 'us-east-1', operations: { authenticated: ['getObject'] } }],
      },
    });
    const service = createPresignService({
      config: config.presign,
      store: new MemoryStore(),
      credentialsFor: async () => ({
        identityId: IDENTITY,
        role: 'constructor',
        credentials: {
          accessKeyId: 'ASIAMOCK',
          secretAccessKey: 's',
          expiration: new Date(Date.now() + 3600_000),
        },
      }),
    });
    const issued = await service.presign({ principal: user }, { operation: 'getObject', key: 'a.txt' });
    assert.equal(issued.result.method, 'GET');
    const error = await rejection(
      service.presign({ principal: user }, { operation: 'putObject', key: 'a.txt', contentLength: 1 }),
    );
    assert.equal(error.code, 'operation_not_allowed');
  });
});

describe('start-up warning: is each bucket confined by S3 too?', () => {
  const statement = (Resource: unknown, Action: unknown = ['s3:GetObject', 's3:PutObject']) => ({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action, Resource }],
  });
  const warningsFor = (policy: Record<string, unknown> | undefined, flow: 'basic' | 'enhanced' = 'basic') =>
    presignConfinementWarnings(
      testConfig({
        aws: { pool: { flow } },
        credentials: policy ? { scopes: { signing: { policy } } } : {},
        presign: {
          buckets: [
            {
              name: BUCKET,
              region: 'us-east-1',
              ...(policy ? { credentialScope: 'signing' } : {}),
            },
          ],
        },
      }),
    );

  it('a scope confined to the prefix (keywarden or IAM variable) gives no warning', () => {
    assert.deepEqual(warningsFor(statement(`arn:aws:s3:::${BUCKET}/users/\${identityId}/*`)), []);
    assert.deepEqual(
      warningsFor(statement(`arn:aws:s3:::${BUCKET}/users/\${cognito-identity.amazonaws.com:sub}/*`)),
      [],
    );
    assert.deepEqual(warningsFor(statement('*', ['dynamodb:GetItem'])), [], 'not an S3 object grant');
    assert.deepEqual(warningsFor(statement(`arn:aws:s3:::${BUCKET}`, 's3:ListBucket')), []);
  });

  const wide: Array<[string, Record<string, unknown>]> = [
    ['the whole bucket', statement(`arn:aws:s3:::${BUCKET}/*`)],
    ['every user prefix', statement(`arn:aws:s3:::${BUCKET}/users/*`)],
    ['a wildcard identity', statement(`arn:aws:s3:::${BUCKET}/users/us-east-1:*/*`)],
    ['every resource', statement('*', 's3:*')],
    ['every bucket', statement('arn:aws:s3:::*/*', 's3:Get*')],
    [
      'a NotResource grant',
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', NotResource: 'x' }] },
    ],
  ];
  for (const [name, policy] of wide) {
    it(`a scope granting ${name} is reported`, () => {
      const warnings = warningsFor(policy);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /grants object access beyond users\/\$\{identityId\}\//);
    });
  }

  it('no scope at all, or the enhanced flow, is reported', () => {
    assert.match(warningsFor(undefined).join('\n'), /no credentialScope/);
    assert.match(warningsFor(undefined, 'enhanced').join('\n'), /enhanced flow has no session policy/);
  });
});

describe('S3 errors from multipart calls', () => {
  const s3Error = (name: string, httpStatusCode: number, fault: 'client' | 'server' = 'client') =>
    Object.assign(new Error(`raw S3 text naming arn:aws:iam::123456789012:role/x, request id ABC`), {
      name,
      $fault: fault,
      $metadata: { httpStatusCode },
    });
  const cases: Array<[string, Error, number, string]> = [
    ['NoSuchUpload', s3Error('NoSuchUpload', 404), 404, 'upload_not_found'],
    ['InvalidPart', s3Error('InvalidPart', 400), 400, 'invalid_part'],
    ['InvalidPartOrder', s3Error('InvalidPartOrder', 400), 400, 'invalid_part_order'],
    ['EntityTooSmall', s3Error('EntityTooSmall', 400), 400, 'part_too_small'],
    ['AccessDenied', s3Error('AccessDenied', 403), 403, 's3_access_denied'],
    ['ExpiredToken', s3Error('ExpiredToken', 400), 403, 's3_access_denied'],
    ['InvalidAccessKeyId', s3Error('InvalidAccessKeyId', 403), 403, 's3_access_denied'],
    ['SlowDown', s3Error('SlowDown', 503, 'server'), 503, 'service_unavailable'],
    ['InternalError', s3Error('InternalError', 500, 'server'), 503, 'service_unavailable'],
    ['TimeoutError', Object.assign(new Error('t'), { name: 'TimeoutError' }), 503, 'service_unavailable'],
    ['ECONNREFUSED', Object.assign(new Error('c'), { code: 'ECONNREFUSED' }), 503, 'service_unavailable'],
    ['MalformedXML', s3Error('MalformedXML', 400), 500, 's3_error'],
  ];
  for (const [name, error, status, code] of cases) {
    it(`${name} → ${status} ${code}, without S3's text`, () => {
      const mapped = toPresignError(error, 'CompleteMultipartUpload');
      assert.equal(mapped.status, status);
      assert.equal(mapped.code, code);
      if (status === 503) assert.ok(mapped.headers['Retry-After'], 'Retry-After');
      assert.doesNotMatch(mapped.expose ? mapped.message : '', /arn:|request id/);
    });
  }
});
