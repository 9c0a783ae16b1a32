import type { S3Client } from '@aws-sdk/client-s3';
import type { Principal } from '../auth/principal.ts';
import { awsErrorName } from '../aws/aws-call.ts';
import {
  type BucketConfig,
  type PresignConfig,
  type PresignOperation,
  S3_MAX_SINGLE_UPLOAD_BYTES,
} from '../config/buckets-schema.ts';
import { BadRequestError, ForbiddenError } from '../http/errors.ts';
import type { StateStore } from '../store/types.ts';
import { type PrefixTemplate, parsePrefixTemplate } from './key-prefix.ts';
import { MultipartUploads } from './multipart-uploads.ts';
import { confineKey } from './object-key.ts';
import type { ObjectUrlSigner } from './object-url-signer.ts';
import { toPresignError } from './s3-errors.ts';
import type { S3ClientOptions, UploadedPart } from './s3-presigner.ts';

type S3Sdk = typeof import('./s3-sdk.ts');

import type { CallerCredentialSource, CallerCredentials, CallerCredentialsRequest } from './types.ts';
import { checkRequestedLifetime, urlLifetime } from './url-lifetime.ts';

/**
 * Presigned URLs for one caller: pick the bucket, check what the request asks against the
 * bucket's rules, get the caller's own scoped credentials, confine the key to the caller's
 * prefix, then sign. Every check runs before anything is signed; a refused request signs
 * nothing and calls S3 for nothing.
 */

/** Who asks, as the credential source needs to know them. */
export type Caller = CallerCredentialsRequest;

interface Common {
  key: string;
  bucket?: string | undefined;
  /** Optional claim of the caller's prefix; anything but their own is 403 forbidden_prefix. */
  prefix?: string | undefined;
}

export interface PresignRequest extends Common {
  operation: 'getObject' | 'putObject' | 'postObject';
  contentType?: string | undefined;
  contentLength?: number | undefined;
  expiresIn?: number | undefined;
}

export type MultipartRequest = Common &
  (
    | { action: 'create'; contentType?: string | undefined; contentLength?: number | undefined }
    | { action: 'signParts'; uploadId: string; partNumbers: number[]; expiresIn?: number | undefined }
    | { action: 'complete'; uploadId: string; parts: Array<{ partNumber: number; etag: string }> }
    | { action: 'abort'; uploadId: string }
    | { action: 'listParts'; uploadId: string }
  );

export interface PresignedUrl {
  url: string;
  method: 'GET' | 'PUT' | 'POST';
  headers?: Record<string, string>;
  fields?: Record<string, string>;
  expiresAt: string;
  bucket: string;
  key: string;
}

export type MultipartResult = { bucket: string; key: string; uploadId: string } & (
  | { action: 'create' }
  | {
      action: 'signParts';
      expiresAt: string;
      parts: Array<{ partNumber: number; url: string; method: 'PUT' }>;
    }
  | { action: 'complete'; etag?: string | undefined }
  | { action: 'abort' }
  | { action: 'listParts'; parts: UploadedPart[] }
);

/** What the route records in the audit log. */
export interface Issued<T> {
  result: T;
  identityId: string;
  role: string;
  bucket: string;
  key: string;
}

export interface PresignService {
  presign(caller: Caller, request: PresignRequest): Promise<Issued<PresignedUrl>>;
  multipart(caller: Caller, request: MultipartRequest): Promise<Issued<MultipartResult>>;
  /** The bucket a request names (or the default), or 400 unknown_bucket. */
  bucketFor(name: string | undefined): BucketConfig;
}

export interface PresignServiceDeps {
  config: Readonly<PresignConfig>;
  store: StateStore;
  credentialsFor: CallerCredentialSource;
  s3?: S3ClientOptions;
  now?: () => Date;
}

const MAX_PART_NUMBER = 10_000;

function contentTypeAllowed(contentType: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const media = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  const [type] = media.split('/');
  return allowed.some((range) => {
    const lower = range.toLowerCase();
    return lower === media || (lower.endsWith('/*') && lower.slice(0, -2) === type);
  });
}

/** Content type and size rules for an upload, checked before credentials are fetched. */
function checkUpload(
  bucket: BucketConfig,
  upload: { contentType?: string | undefined; contentLength?: number | undefined },
  singleRequest: boolean,
): void {
  if (upload.contentType === undefined) {
    if (bucket.contentTypes.length > 0) {
      throw new BadRequestError(
        'contentType is required for uploads to this bucket.',
        'content_type_required',
      );
    }
  } else if (!contentTypeAllowed(upload.contentType, bucket.contentTypes)) {
    throw new BadRequestError(
      'This content type may not be uploaded to this bucket.',
      'content_type_not_allowed',
      {
        extensions: { allowed: bucket.contentTypes },
      },
    );
  }
  const max = singleRequest
    ? Math.min(bucket.maxObjectBytes, S3_MAX_SINGLE_UPLOAD_BYTES)
    : bucket.maxObjectBytes;
  if (upload.contentLength !== undefined && upload.contentLength > max) {
    throw new BadRequestError('The object is larger than this bucket allows.', 'object_too_large', {
      extensions: { maxBytes: max },
    });
  }
}

function checkOperationAllowed(
  bucket: BucketConfig,
  principal: Principal,
  role: string,
  operation: PresignOperation,
): void {
  const allowed =
    principal.kind === 'guest'
      ? bucket.operations.guest
      : Object.hasOwn(bucket.operations.roles, role)
        ? (bucket.operations.roles[role] ?? [])
        : bucket.operations.authenticated;
  if (!allowed.includes(operation)) {
    throw new ForbiddenError(
      'This operation is not allowed on this bucket for your role.',
      'operation_not_allowed',
    );
  }
}

function checkPartNumbers(partNumbers: readonly number[], maxPerRequest: number): void {
  if (partNumbers.length === 0 || partNumbers.length > maxPerRequest) {
    throw new BadRequestError(
      `Ask for 1 to ${maxPerRequest} part numbers at a time.`,
      'invalid_part_numbers',
    );
  }
  const valid = partNumbers.every((n) => Number.isInteger(n) && n >= 1 && n <= MAX_PART_NUMBER);
  if (!valid || new Set(partNumbers).size !== partNumbers.length) {
    throw new BadRequestError(
      `Part numbers must be distinct integers from 1 to ${MAX_PART_NUMBER}.`,
      'invalid_part_numbers',
    );
  }
}

function lifetimeOf(signing: { expiresInSeconds: number; signingDate: Date }) {
  return { expiresInSeconds: signing.expiresInSeconds, signingDate: signing.signingDate };
}

/** ETags compare without their quotes: clients echo them with or without. */
function normalizeEtag(etag: string | undefined): string | undefined {
  return etag?.replace(/^"|"$/g, '');
}

export function createPresignService(deps: PresignServiceDeps): PresignService {
  const { config, credentialsFor } = deps;
  const now = deps.now ?? (() => new Date());
  const uploads = new MultipartUploads(deps.store, config.multipart.uploadTtlSeconds);
  const templates = new Map<string, PrefixTemplate>(
    config.buckets.map((bucket) => [bucket.name, parsePrefixTemplate(bucket.keyPrefix)]),
  );
  // The S3 SDK is loaded at the first presign, not at start-up (s3-sdk.ts).
  let sdk: Promise<S3Sdk> | undefined;
  const s3Sdk = () => (sdk ??= import('./s3-sdk.ts'));
  const signers = new Map<string, Promise<ObjectUrlSigner>>();
  const signerFor = (bucket: BucketConfig): Promise<ObjectUrlSigner> => {
    let signer = signers.get(bucket.name);
    if (!signer) {
      signer = s3Sdk().then(({ ObjectUrlSigner }) => new ObjectUrlSigner(bucket));
      signers.set(bucket.name, signer);
    }
    return signer;
  };

  function bucketFor(name: string | undefined): BucketConfig {
    const bucket = name === undefined ? config.buckets[0] : config.buckets.find((b) => b.name === name);
    if (!bucket) throw new BadRequestError('No such bucket is configured.', 'unknown_bucket');
    return bucket;
  }

  /** Credentials, the operation check and the confined key: everything signing needs. */
  async function prepare(caller: Caller, bucket: BucketConfig, operation: PresignOperation, request: Common) {
    const issued: CallerCredentials = await credentialsFor({ ...caller, scope: bucket.credentialScope });
    checkOperationAllowed(bucket, caller.principal, issued.role, operation);
    const { fullKey } = confineKey(request.key, {
      template: templates.get(bucket.name)!,
      identityId: issued.identityId,
      claimedPrefix: request.prefix,
    });
    return { issued, fullKey };
  }

  async function withClient<T>(
    bucket: BucketConfig,
    issued: CallerCredentials,
    use: (client: S3Client, s3: S3Sdk) => Promise<T>,
  ) {
    const s3 = await s3Sdk();
    const client = s3.createCallerS3Client(bucket, issued.credentials, deps.s3);
    try {
      return await use(client, s3);
    } finally {
      client.destroy();
    }
  }

  return {
    bucketFor,

    async presign(caller, request) {
      const bucket = bucketFor(request.bucket);
      checkRequestedLifetime(request.expiresIn, bucket);
      if (request.operation === 'putObject' && request.contentLength === undefined) {
        // Without a signed length a PUT URL would accept an object of any size.
        throw new BadRequestError('contentLength is required for putObject.', 'content_length_required');
      }
      if (request.operation !== 'getObject') checkUpload(bucket, request, true);
      const { issued, fullKey } = await prepare(caller, bucket, request.operation, request);
      const signingDate = now();
      const lifetime = urlLifetime({
        requested: request.expiresIn,
        limits: bucket,
        credentialsExpiration: issued.credentials.expiration,
        now: signingDate,
      });
      const signing = {
        bucket: bucket.name,
        key: fullKey,
        expiresInSeconds: lifetime.expiresInSeconds,
        signingDate,
      };
      const base = { expiresAt: lifetime.expiresAt.toISOString(), bucket: bucket.name, key: fullKey };
      const signer = await signerFor(bucket);
      let result: PresignedUrl;
      switch (request.operation) {
        case 'getObject':
          result = {
            url: await signer.sign(issued.credentials, {
              operation: 'GetObject',
              key: fullKey,
              ...lifetimeOf(signing),
            }),
            method: 'GET',
            ...base,
          };
          break;
        case 'putObject': {
          // Content-Length (and Content-Type when given) are signed: S3 refuses an upload whose
          // length or type differs. The client must send these headers (browsers set the length).
          const headers: Record<string, string> = { 'Content-Length': String(request.contentLength ?? 0) };
          if (request.contentType) headers['Content-Type'] = request.contentType;
          const url = await signer.sign(issued.credentials, {
            operation: 'PutObject',
            key: fullKey,
            signedHeaders: headers,
            ...lifetimeOf(signing),
          });
          result = { url, method: 'PUT', headers, ...base };
          break;
        }
        case 'postObject': {
          const maxBytes = Math.min(
            request.contentLength ?? bucket.maxObjectBytes,
            bucket.maxObjectBytes,
            S3_MAX_SINGLE_UPLOAD_BYTES,
          );
          result = await withClient(bucket, issued, async (client, s3) => {
            const signed = await s3.presignPostObject(client, {
              ...signing,
              maxBytes,
              contentType: request.contentType,
            });
            return { url: signed.url, method: 'POST' as const, fields: signed.fields, ...base };
          });
          break;
        }
      }
      return { result, identityId: issued.identityId, role: issued.role, bucket: bucket.name, key: fullKey };
    },

    async multipart(caller, request) {
      const bucket = bucketFor(request.bucket);
      if (request.action === 'create') checkUpload(bucket, request, false);
      if (request.action === 'signParts') {
        checkRequestedLifetime(request.expiresIn, bucket);
        checkPartNumbers(request.partNumbers, config.multipart.maxPartsPerRequest);
      }
      const { issued, fullKey } = await prepare(caller, bucket, 'multipart', request);
      const target = { bucket: bucket.name, key: fullKey };
      const issuedFor = (result: MultipartResult): Issued<MultipartResult> => ({
        result,
        identityId: issued.identityId,
        role: issued.role,
        bucket: bucket.name,
        key: fullKey,
      });

      if (request.action === 'create') {
        const uploadId = await withClient(bucket, issued, (client, s3) =>
          s3
            .createMultipartUpload(client, { ...target, contentType: request.contentType })
            .catch((error: unknown) => {
              throw toPresignError(error, 'CreateMultipartUpload');
            }),
        );
        await uploads.remember(uploadId, {
          ...target,
          identityId: issued.identityId,
          createdAt: now().toISOString(),
        });
        return issuedFor({ action: 'create', uploadId, ...target });
      }

      const { uploadId } = request;
      await uploads.require(uploadId, { ...target, identityId: issued.identityId });
      const call = async <T>(
        operation: string,
        use: (client: S3Client, s3: S3Sdk) => Promise<T>,
      ): Promise<T> => {
        try {
          return await withClient(bucket, issued, use);
        } catch (error) {
          const mapped = toPresignError(error, operation);
          if (mapped.code === 'upload_not_found') await uploads.forget(uploadId);
          throw mapped;
        }
      };

      switch (request.action) {
        case 'signParts': {
          const signingDate = now();
          const lifetime = urlLifetime({
            requested: request.expiresIn,
            limits: bucket,
            credentialsExpiration: issued.credentials.expiration,
            now: signingDate,
          });
          const signer = await signerFor(bucket);
          const parts = await Promise.all(
            request.partNumbers.map(async (partNumber) => ({
              partNumber,
              method: 'PUT' as const,
              url: await signer.sign(issued.credentials, {
                operation: 'UploadPart',
                key: fullKey,
                query: { partNumber: String(partNumber), uploadId },
                expiresInSeconds: lifetime.expiresInSeconds,
                signingDate,
              }),
            })),
          );
          return issuedFor({
            action: 'signParts',
            uploadId,
            ...target,
            expiresAt: lifetime.expiresAt.toISOString(),
            parts,
          });
        }
        case 'listParts': {
          const parts = await call('ListParts', (client, s3) =>
            s3.listUploadedParts(client, { ...target, uploadId }),
          );
          return issuedFor({ action: 'listParts', uploadId, ...target, parts });
        }
        case 'abort': {
          await call('AbortMultipartUpload', (client, s3) =>
            s3.abortMultipartUpload(client, { ...target, uploadId }),
          );
          await uploads.forget(uploadId);
          return issuedFor({ action: 'abort', uploadId, ...target });
        }
        case 'complete': {
          const measureAndComplete = async (client: S3Client, s3: S3Sdk) => {
            // Part URLs cannot bind a size, so the object's size is checked here, from S3's own
            // record of the parts, before the upload becomes an object.
            const uploaded = await s3.listUploadedParts(client, { ...target, uploadId });
            const listed = new Map(uploaded.map((part) => [part.partNumber, part]));
            // Each part named must be the one just listed (same ETag): a part URL can still
            // replace a part between this listing and the completion, and S3 completes only
            // parts whose ETag matches, so pinning the listed ETags pins the sizes counted.
            const unlisted = request.parts.some(
              (part) => normalizeEtag(listed.get(part.partNumber)?.etag) !== normalizeEtag(part.etag),
            );
            if (unlisted) {
              throw new BadRequestError('A part is missing or its ETag does not match.', 'invalid_part');
            }
            const total = request.parts.reduce(
              (sum, part) => sum + (listed.get(part.partNumber)?.size ?? 0),
              0,
            );
            if (total > bucket.maxObjectBytes) {
              await s3.abortMultipartUpload(client, { ...target, uploadId });
              await uploads.forget(uploadId);
              throw new BadRequestError(
                'The object is larger than this bucket allows; the upload was aborted.',
                'object_too_large',
                {
                  extensions: { maxBytes: bucket.maxObjectBytes },
                },
              );
            }
            return s3.completeMultipartUpload(client, { ...target, uploadId, parts: request.parts });
          };
          const completed = await call('CompleteMultipartUpload', async (client, s3) => {
            try {
              return await measureAndComplete(client, s3);
            } catch (error) {
              // S3 may have completed it on an earlier try whose answer was lost (completed-upload.ts).
              if (awsErrorName(error) !== 'NoSuchUpload') throw error;
              const etag = await s3.completedUploadEtag(client, target, request.parts);
              if (etag === undefined) throw error;
              return { etag };
            }
          });
          await uploads.forget(uploadId);
          return issuedFor({ action: 'complete', uploadId, ...target, etag: completed.etag });
        }
      }
    },
  };
}
