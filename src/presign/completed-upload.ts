import { createHash } from 'node:crypto';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsErrorName } from '../aws/aws-call.ts';

/**
 * Recognises a multipart upload that S3 has already completed. keywarden's own
 * CompleteMultipartUpload can time out after S3 has completed the upload; the SDK's retry (or
 * the caller's, after a 503) then meets NoSuchUpload although the object is there. Telling the
 * caller 404 `upload_not_found` would have it upload everything again, or give up on an object
 * that exists.
 *
 * The object is this upload's when its ETag is the one S3 gives a multipart object: the MD5
 * of the parts' MD5s, then `-<number of parts>`, over the parts the caller named (which
 * keywarden checked against S3's own listing before it first asked S3 to complete). Another
 * object under the key (an older upload) has another ETag.
 */

type Part = { readonly partNumber: number; readonly etag: string };

function unquoted(etag: string): string {
  return etag.replace(/^"|"$/g, '');
}

/**
 * The ETag S3 gives the object these parts make, or undefined when a part's ETag is no MD5
 * (SSE-KMS and SSE-C objects): then nothing can be recognised.
 */
export function multipartEtag(parts: readonly Part[]): string | undefined {
  const digests: Buffer[] = [];
  for (const part of parts) {
    const hex = unquoted(part.etag);
    if (!/^[0-9a-f]{32}$/i.test(hex)) return undefined;
    digests.push(Buffer.from(hex, 'hex'));
  }
  return `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${parts.length}`;
}

/**
 * The ETag of the object at the key when it is the one these parts make; undefined when there
 * is no such object, another one, or one these credentials may not read (a scope without
 * `s3:GetObject`). Other failures (throttling, S3 down) are thrown: the answer is not known yet.
 */
export async function completedUploadEtag(
  client: S3Client,
  target: { bucket: string; key: string },
  parts: readonly Part[],
): Promise<string | undefined> {
  const expected = multipartEtag(parts);
  if (expected === undefined) return undefined;
  let etag: string | undefined;
  try {
    ({ ETag: etag } = await client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: target.key })));
  } catch (error) {
    // A HEAD answer has no body, so S3's error code is not there to read: its status says it.
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || status === 403 || awsErrorName(error) === 'NotFound') return undefined;
    throw error;
  }
  return etag !== undefined && unquoted(etag) === expected ? etag : undefined;
}
