import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import type { BucketConfig } from '../config/buckets-schema.ts';
import type { SigningCredentials } from './types.ts';

/**
 * Thin wrappers over the AWS SDK's presigners and the four multipart calls keywarden makes
 * itself. Every function gets an S3 client holding the *caller's* scoped credentials, so a
 * URL can never grant more than the caller's own session policy allows.
 */

export interface S3ClientOptions {
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxAttempts?: number;
}

/** One client per request: it holds one caller's credentials and nothing else. */
export function createCallerS3Client(
  bucket: Pick<BucketConfig, 'region' | 'endpoint' | 'forcePathStyle'>,
  credentials: SigningCredentials,
  options: S3ClientOptions = {},
): S3Client {
  return new S3Client({
    region: bucket.region,
    ...(bucket.endpoint ? { endpoint: bucket.endpoint } : {}),
    forcePathStyle: bucket.forcePathStyle,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
      expiration: credentials.expiration,
    },
    // Without these the SDK bakes a CRC32 of an empty body into presigned PUT URLs, and S3
    // answers BadDigest to the client's real upload.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs ?? 1_000,
      requestTimeout: options.requestTimeoutMs ?? 5_000,
      // Without this the handler only logs a warning when the time is up and keeps waiting.
      throwOnRequestTimeout: true,
    },
  });
}

interface Signing {
  bucket: string;
  key: string;
  expiresInSeconds: number;
  signingDate: Date;
}

export type PostPolicyCondition =
  | ['content-length-range', number, number]
  | ['eq', string, string]
  | ['starts-with', string, string];

/**
 * The POST policy for one exact key: S3 checks the size range, the Content-Type and the key
 * against the signed policy. createPresignedPost adds `{bucket}`, `{key}` and the X-Amz-*
 * fields itself; the key never ends in `${filename}` (object-key.ts refuses `${`), so the
 * library's `starts-with` escape hatch is never taken.
 */
export function postPolicyConditions(options: {
  maxBytes: number;
  contentType?: string | undefined;
}): PostPolicyCondition[] {
  const conditions: PostPolicyCondition[] = [['content-length-range', 0, options.maxBytes]];
  if (options.contentType) conditions.push(['eq', '$Content-Type', options.contentType]);
  return conditions;
}

export async function presignPostObject(
  client: S3Client,
  signing: Signing & { maxBytes: number; contentType?: string | undefined },
): Promise<{ url: string; fields: Record<string, string> }> {
  if (signing.key.includes('${')) throw new Error('refusing to sign a POST policy for a templated key');
  // createPresignedPost reads the clock itself, a moment after `signingDate`: the policy
  // outlives the reported expiresAt by those milliseconds, never the other way round.
  return createPresignedPost(client, {
    Bucket: signing.bucket,
    Key: signing.key,
    Conditions: postPolicyConditions(signing),
    Fields: signing.contentType ? { 'Content-Type': signing.contentType } : {},
    Expires: signing.expiresInSeconds,
  });
}

interface Target {
  bucket: string;
  key: string;
}

export async function createMultipartUpload(
  client: S3Client,
  target: Target & { contentType?: string | undefined },
): Promise<string> {
  const out = await client.send(
    new CreateMultipartUploadCommand({
      Bucket: target.bucket,
      Key: target.key,
      ...(target.contentType ? { ContentType: target.contentType } : {}),
    }),
  );
  if (!out.UploadId) throw new Error('CreateMultipartUpload answered without an UploadId');
  return out.UploadId;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
}

/** Every part uploaded so far (follows S3's pagination). */
export async function listUploadedParts(
  client: S3Client,
  target: Target & { uploadId: string },
): Promise<UploadedPart[]> {
  const parts: UploadedPart[] = [];
  let marker: string | undefined;
  for (;;) {
    const out = await client.send(
      new ListPartsCommand({
        Bucket: target.bucket,
        Key: target.key,
        UploadId: target.uploadId,
        ...(marker ? { PartNumberMarker: marker } : {}),
      }),
    );
    for (const part of out.Parts ?? []) {
      if (part.PartNumber === undefined || part.ETag === undefined) continue;
      parts.push({ partNumber: part.PartNumber, etag: part.ETag, size: part.Size ?? 0 });
    }
    if (!out.IsTruncated || !out.NextPartNumberMarker) return parts;
    marker = out.NextPartNumberMarker;
  }
}

export async function completeMultipartUpload(
  client: S3Client,
  target: Target & { uploadId: string; parts: ReadonlyArray<{ partNumber: number; etag: string }> },
): Promise<{ etag?: string | undefined }> {
  const out = await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: target.bucket,
      Key: target.key,
      UploadId: target.uploadId,
      MultipartUpload: {
        Parts: target.parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })),
      },
    }),
  );
  return { etag: out.ETag };
}

export async function abortMultipartUpload(
  client: S3Client,
  target: Target & { uploadId: string },
): Promise<void> {
  await client.send(
    new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: target.uploadId }),
  );
}
