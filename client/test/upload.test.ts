/**
 * upload() against a real keywarden and the AWS test double's S3 (SigV4 on every presigned
 * URL, S3's multipart rules and 5 MiB minimum part size): the bytes that arrive, the choice
 * of single PUT or multipart, progress, a failed part sent again, and an abort that leaves
 * nothing behind on S3.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createKeywardenClient,
  type KeywardenClient,
  KeywardenError,
  memoryGuestTokenStorage,
  type UploadProgress,
} from '../src/index.ts';
import { BUCKET, MiB, startKeywarden, type TestKeywarden } from './support/keywarden.ts';

let keywarden: TestKeywarden;

before(async () => {
  keywarden = await startKeywarden();
});

after(async () => {
  await keywarden?.close();
});

function bearerClient(sub: string): KeywardenClient {
  return createKeywardenClient({ baseUrl: keywarden.url, getToken: () => keywarden.tokenFor(sub) });
}

/** Bytes that differ at every offset modulo 251, so a misplaced part shows. */
function patterned(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let index = 0; index < size; index++) bytes[index] = (index * 7 + (index >>> 16)) % 251;
  return bytes;
}

function s3Calls(operation: string, keySuffix: string): number {
  return keywarden.aws.calls.filter(
    (call) =>
      call.operation === operation && String((call.params as { key?: string }).key ?? '').endsWith(keySuffix),
  ).length;
}

function stored(key: string): Uint8Array | undefined {
  const object = keywarden.aws.objects.get(`${BUCKET}/${key}`);
  return object ? new Uint8Array(object.body) : undefined;
}

describe('single presigned PUT', () => {
  it('uploads a small Blob under the caller prefix with its content type', async () => {
    const client = bearerClient('small-uploader');
    const events: UploadProgress[] = [];
    const result = await client.upload(new Blob(['hello, keywarden'], { type: 'text/plain' }), {
      key: 'notes/hello.txt',
      onProgress: (progress) => events.push(progress),
    });
    const { identityId } = await client.credentials()();
    assert.equal(result.bucket, BUCKET);
    assert.equal(result.key, `users/${identityId}/notes/hello.txt`);
    assert.equal(result.uploadId, undefined, 'not multipart');
    assert.match(result.etag ?? '', /^"[0-9a-f]{32}"$/);
    assert.equal(new TextDecoder().decode(stored(result.key)), 'hello, keywarden');
    assert.equal(keywarden.aws.objects.get(`${BUCKET}/${result.key}`)?.contentType, 'text/plain');
    // Node has no upload progress for a single PUT: start and end.
    assert.deepEqual(events, [
      { loaded: 0, total: 16 },
      { loaded: 16, total: 16 },
    ]);
  });

  it('a guest uploads under its own guest prefix', async () => {
    const client = createKeywardenClient({
      baseUrl: keywarden.url,
      guest: { storage: memoryGuestTokenStorage() },
    });
    const { identityId } = await client.credentials()();
    const result = await client.upload(new Blob([patterned(1000)]), { key: 'guest.bin' });
    assert.equal(result.key, `users/${identityId}/guest.bin`);
    assert.deepEqual(stored(result.key), patterned(1000));
  });

  it('S3 refusing the upload (not transient) is an upload_failed error with S3 code, not retried', async () => {
    keywarden.aws.failNext('PutObject', 'notAuthorized');
    const client = bearerClient('refused-uploader');
    const error = await client
      .upload(new Blob(['x']), { key: 'refused.txt' })
      .catch((thrown: unknown) => thrown);
    assert.ok(error instanceof KeywardenError);
    assert.equal(error.status, 403);
    assert.equal(error.code, 'upload_failed');
    assert.equal(error.s3Code, 'AccessDenied');
    assert.equal(s3Calls('PutObject', '/refused.txt'), 1);
  });

  it('keywarden refusing the key: its problem code and reason, nothing sent to S3', async () => {
    const client = bearerClient('hostile-uploader');
    const before = keywarden.aws.calls.length;
    await assert.rejects(client.upload(new Blob(['x']), { key: '../escape.txt' }), (error: unknown) => {
      assert.ok(error instanceof KeywardenError);
      assert.equal(error.status, 400);
      assert.equal(error.code, 'invalid_key');
      assert.equal(error.problem?.reason, 'dot_segment');
      return true;
    });
    assert.equal(keywarden.aws.calls.slice(before).filter((call) => call.service === 's3').length, 0);
  });
});

describe('multipart upload', () => {
  it('uploads 20 MiB in parallel parts with progress events, and S3 holds exactly those bytes', async () => {
    const client = bearerClient('video-uploader');
    const bytes = patterned(20 * MiB);
    const events: UploadProgress[] = [];
    const before = keywarden.received('POST', '/presign/multipart');
    const result = await client.upload(new Blob([bytes], { type: 'application/octet-stream' }), {
      key: 'videos/clip.bin',
      onProgress: (progress) => events.push(progress),
    });
    assert.ok(result.uploadId, 'multipart');
    assert.match(result.etag ?? '', /-3"$/, 'three parts: 8 MiB, 8 MiB, 4 MiB');
    assert.deepEqual(stored(result.key), bytes);
    assert.equal(s3Calls('UploadPart', '/videos/clip.bin'), 3);
    assert.equal(s3Calls('CompleteMultipartUpload', '/videos/clip.bin'), 1);
    assert.equal(
      keywarden.received('POST', '/presign/multipart') - before,
      3,
      'create, one signParts, complete',
    );
    // Node: progress moves as parts complete (browsers report bytes as they go).
    assert.equal(events.length, 4);
    assert.deepEqual(events[0], { loaded: 0, total: 20 * MiB });
    assert.deepEqual(events.at(-1), { loaded: 20 * MiB, total: 20 * MiB });
    for (let index = 1; index < events.length; index++) {
      assert.ok(events[index]!.loaded > events[index - 1]!.loaded, 'never backwards');
    }
  });

  it('a part S3 fails is sent again with a freshly signed URL', async () => {
    const client = bearerClient('retry-uploader');
    const bytes = patterned(12 * MiB);
    keywarden.aws.failNext('UploadPart', 'internal');
    const result = await client.upload(new Blob([bytes]), {
      key: 'retried.bin',
      multipartThreshold: 5 * MiB,
      partSize: 5 * MiB,
    });
    assert.deepEqual(stored(result.key), bytes);
    assert.equal(s3Calls('UploadPart', '/retried.bin'), 4, 'three parts, one of them twice');
  });

  it('abort in the middle: the upload rejects with AbortError and is aborted on S3, its parts gone', async () => {
    const client = bearerClient('aborting-uploader');
    const controller = new AbortController();
    let upload: { id: string; parts: number } | undefined;
    const promise = client.upload(new Blob([patterned(20 * MiB)]), {
      key: 'abort/me.bin',
      partSize: 5 * MiB,
      concurrency: 2,
      signal: controller.signal,
      onProgress: ({ loaded }) => {
        if (loaded === 0 || upload) return;
        // A part is done and another is on its way: S3 holds an upload with parts now.
        const [id, inProgress] = [...keywarden.aws.uploads].find(([, entry]) =>
          entry.key.endsWith('/abort/me.bin'),
        )!;
        upload = { id, parts: inProgress.parts.size };
        controller.abort();
      },
    });
    await assert.rejects(promise, { name: 'AbortError' });
    assert.ok(upload && upload.parts >= 1, 'aborted after S3 had parts');
    assert.equal(keywarden.aws.uploads.has(upload.id), false, 'S3 no longer has the upload, nor its parts');
    assert.equal(s3Calls('AbortMultipartUpload', '/abort/me.bin'), 1);
    assert.equal(s3Calls('CompleteMultipartUpload', '/abort/me.bin'), 0);
    assert.ok(s3Calls('UploadPart', '/abort/me.bin') < 4, 'the remaining parts were not sent');
    assert.ok(![...keywarden.aws.objects.keys()].some((key) => key.endsWith('/abort/me.bin')), 'no object');
    // keywarden forgot the upload id as well.
    await assert.rejects(
      client.presignMultipart({ action: 'listParts', key: 'abort/me.bin', uploadId: upload.id }),
      { status: 404, code: 'upload_not_found' },
    );
  });

  it('an already aborted signal: nothing is asked of keywarden', async () => {
    const client = bearerClient('never-uploader');
    const before = keywarden.received('POST', '/presign');
    await assert.rejects(client.upload(new Blob(['x']), { key: 'never.txt', signal: AbortSignal.abort() }), {
      name: 'AbortError',
    });
    assert.equal(keywarden.received('POST', '/presign'), before);
  });
});
