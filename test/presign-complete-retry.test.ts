/**
 * Completing a multipart upload when S3's answer is lost. keywarden's CompleteMultipartUpload
 * can time out after S3 has completed the upload; the SDK then tries again and S3 answers
 * NoSuchUpload, since the upload is now an object. The caller must hear "completed", with
 * the object's ETag, and never 404 for an object that exists. An upload that is really gone
 * stays a 404, even when an older object sits under the same key.
 *
 * Real HTTP against the AWS test double (SigV4, session policies, multipart rules), which can
 * let an operation take effect and then lose its answer.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  CognitoIdentityClient,
  GetOpenIdTokenForDeveloperIdentityCommand,
} from '@aws-sdk/client-cognito-identity';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Principal } from '../src/auth/principal.ts';
import { KeywardenError } from '../src/http/errors.ts';
import { multipartEtag } from '../src/presign/completed-upload.ts';
import { createPresignService, type PresignService } from '../src/presign/presign-service.ts';
import type { CallerCredentials } from '../src/presign/types.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import {
  type AwsDouble,
  DEFAULT_AUTHENTICATED_ROLE_ARN,
  DEFAULT_DEVELOPER_PROVIDER_NAME,
  DEFAULT_SERVICE_CREDENTIALS,
  startAwsDouble,
} from './support/aws-double/index.ts';
import { testConfig } from './support/test-config.ts';

const BUCKET = 'kw-complete-retry';
const MiB = 1024 * 1024;
const user: Principal = { provider: 'corp', subject: 'alice', kind: 'user', claims: {} };

let aws: AwsDouble;
let service: PresignService;
/** The same keywarden, with no retries of its own: a lost answer reaches the caller as a 503. */
let serviceWithoutRetries: PresignService;
let vended: CallerCredentials;

/** Credentials as keywarden's broker vends them: Cognito's token, then STS with a session policy on the prefix. */
async function vend(): Promise<CallerCredentials> {
  const cognito = new CognitoIdentityClient({
    endpoint: aws.url,
    region: aws.region,
    credentials: DEFAULT_SERVICE_CREDENTIALS,
  });
  const { IdentityId, Token } = await cognito.send(
    new GetOpenIdTokenForDeveloperIdentityCommand({
      IdentityPoolId: aws.identityPoolId,
      Logins: { [DEFAULT_DEVELOPER_PROVIDER_NAME]: 'alice' },
    }),
  );
  const sts = new STSClient({ endpoint: aws.url, region: aws.region });
  const { Credentials } = await sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: DEFAULT_AUTHENTICATED_ROLE_ARN,
      RoleSessionName: 'alice',
      WebIdentityToken: Token,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: [
              's3:GetObject',
              's3:PutObject',
              's3:AbortMultipartUpload',
              's3:ListMultipartUploadParts',
            ],
            Resource: `arn:aws:s3:::${BUCKET}/users/${IdentityId}/*`,
          },
        ],
      }),
    }),
  );
  return {
    identityId: IdentityId!,
    role: 'reader',
    credentials: {
      accessKeyId: Credentials!.AccessKeyId!,
      secretAccessKey: Credentials!.SecretAccessKey!,
      sessionToken: Credentials!.SessionToken!,
      expiration: Credentials!.Expiration!,
    },
  };
}

function bytes(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let index = 0; index < size; index++) out[index] = (index * 31 + seed) % 251;
  return out;
}

/** Creates an upload through keywarden and sends two parts to S3 with the URLs it signed. */
async function uploadParts(
  key: string,
): Promise<{ uploadId: string; parts: Array<{ partNumber: number; etag: string }> }> {
  const created = await service.multipart({ principal: user }, { action: 'create', key });
  const { uploadId } = created.result as { uploadId: string };
  const signed = await service.multipart(
    { principal: user },
    { action: 'signParts', key, uploadId, partNumbers: [1, 2] },
  );
  const parts: Array<{ partNumber: number; etag: string }> = [];
  for (const part of (signed.result as { parts: Array<{ partNumber: number; url: string }> }).parts) {
    const sent = await fetch(part.url, {
      method: 'PUT',
      body: part.partNumber === 1 ? bytes(5 * MiB, 1) : bytes(MiB, 2),
    });
    assert.equal(sent.status, 200, await sent.text());
    parts.push({ partNumber: part.partNumber, etag: sent.headers.get('etag')! });
  }
  return { uploadId, parts };
}

async function rejection(promise: Promise<unknown>): Promise<KeywardenError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeywardenError, `expected a KeywardenError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

before(async () => {
  aws = await startAwsDouble({ buckets: [BUCKET] });
  vended = await vend();
  const config = testConfig({
    presign: {
      buckets: [{ name: BUCKET, region: aws.region, endpoint: aws.url, forcePathStyle: true }],
    },
  });
  const store = new MemoryStore();
  const deps = { config: config.presign, store, credentialsFor: async () => vended };
  // Short, so that a held answer times out quickly; three tries, as configured by default.
  service = createPresignService({ ...deps, s3: { requestTimeoutMs: 1_000, maxAttempts: 3 } });
  serviceWithoutRetries = createPresignService({ ...deps, s3: { requestTimeoutMs: 1_000, maxAttempts: 1 } });
});

beforeEach(() => aws.reset());

after(async () => {
  await aws.close();
});

describe('multipart complete when S3 completed the upload but its answer was lost', () => {
  it("answers completed with the object's ETag, not 404 upload_not_found", async () => {
    const key = 'videos/lost-answer.bin';
    const { uploadId, parts } = await uploadParts(key);
    aws.failNext('CompleteMultipartUpload', 'lostAnswer');

    const done = await service.multipart({ principal: user }, { action: 'complete', key, uploadId, parts });

    // S3 did complete it on the first try, and the SDK's retry met NoSuchUpload.
    const completes = aws.calls.filter((call) => call.operation === 'CompleteMultipartUpload');
    assert.equal(completes.length, 2, 'the SDK tried again after the lost answer');
    const stored = aws.objects.get(`${BUCKET}/${done.key}`);
    assert.ok(stored, 'the object exists');
    assert.equal(stored.body.length, 6 * MiB);
    assert.equal(done.result.action, 'complete');
    assert.equal((done.result as { etag?: string }).etag, stored.etag);
    assert.equal(stored.etag, `"${multipartEtag(parts)}"`);
    assert.ok(!aws.uploads.has(uploadId));

    // The upload is finished for keywarden too: no more parts can be signed for it.
    const later = await rejection(
      service.multipart({ principal: user }, { action: 'signParts', key, uploadId, partNumbers: [3] }),
    );
    assert.equal(later.code, 'upload_not_found');
  });

  it("the caller's own retry after a 503 (keywarden gave up waiting) is answered completed", async () => {
    const key = 'videos/caller-retry.bin';
    const { uploadId, parts } = await uploadParts(key);
    aws.failNext('CompleteMultipartUpload', 'lostAnswer');
    const gaveUp = await rejection(
      serviceWithoutRetries.multipart({ principal: user }, { action: 'complete', key, uploadId, parts }),
    );
    assert.equal(gaveUp.status, 503);
    assert.ok(aws.objects.has(`${BUCKET}/users/${vended.identityId}/${key}`), 'yet S3 completed it');

    // As @keywarden/client does after a 503 with Retry-After: the same request again. S3 no
    // longer knows the upload (ListParts: NoSuchUpload); the object is recognised as its own.
    const done = await service.multipart({ principal: user }, { action: 'complete', key, uploadId, parts });
    assert.equal((done.result as { etag?: string }).etag, `"${multipartEtag(parts)}"`);
  });

  it('an upload that is really gone is still 404, even with an older object under the key', async () => {
    const key = 'videos/gone.bin';
    const { uploadId, parts } = await uploadParts(key);
    // An earlier object under the same key, written with the caller's own credentials.
    const s3 = new S3Client({
      endpoint: aws.url,
      region: aws.region,
      forcePathStyle: true,
      credentials: vended.credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: `users/${vended.identityId}/${key}`, Body: 'older' }),
    );
    s3.destroy();
    // S3 forgets the upload (a lifecycle rule, an abort elsewhere) while keywarden still knows it.
    assert.ok(aws.uploads.delete(uploadId));

    const error = await rejection(
      service.multipart({ principal: user }, { action: 'complete', key, uploadId, parts }),
    );
    assert.equal(error.status, 404);
    assert.equal(error.code, 'upload_not_found');
    assert.equal(
      aws.objects.get(`${BUCKET}/users/${vended.identityId}/${key}`)?.etag,
      `"${createHash('md5').update('older').digest('hex')}"`,
      'the older object is untouched',
    );
  });
});

describe('multipartEtag', () => {
  it('is the MD5 of the parts’ MD5s and the part count, as S3 computes it; unknown for non-MD5 ETags', () => {
    const one = createHash('md5').update('a').digest();
    const two = createHash('md5').update('b').digest();
    assert.equal(
      multipartEtag([
        { partNumber: 1, etag: `"${one.toString('hex')}"` },
        { partNumber: 2, etag: two.toString('hex') },
      ]),
      `${createHash('md5')
        .update(Buffer.concat([one, two]))
        .digest('hex')}-2`,
    );
    assert.equal(multipartEtag([{ partNumber: 1, etag: '"not-an-md5"' }]), undefined);
  });
});
