import { BadRequestError, ForbiddenError, KeywardenError, ServiceUnavailableError } from '../http/errors.ts';
import { UploadNotFoundError } from './multipart-uploads.ts';

/**
 * S3 errors from the calls keywarden makes itself (multipart create/list/complete/abort)
 * → keywarden errors. The SDK has already retried what is retryable. The client sees a
 * stable code, never S3's message (it names role ARNs and request ids).
 */

const THROTTLED = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);
const UNREACHABLE = new Set([
  'TimeoutError',
  'RequestTimeout',
  'AbortError',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The error's name, safe for logs and metrics (never its message). */
export function s3ErrorName(error: unknown): string {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as ErrorShape;
  if (typeof shape.name === 'string' && shape.name !== 'Error') return shape.name;
  if (typeof shape.code === 'string') return shape.code;
  return 'UnknownError';
}

export function toPresignError(error: unknown, operation: string): KeywardenError {
  if (error instanceof KeywardenError) return error;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as ErrorShape;
  const name = s3ErrorName(error);
  const status =
    typeof shape.$metadata?.httpStatusCode === 'number' ? shape.$metadata.httpStatusCode : undefined;
  const cause = { cause: error };
  switch (name) {
    case 'NoSuchUpload':
      return new UploadNotFoundError();
    case 'InvalidPart':
      return new BadRequestError('A part is missing or its ETag does not match.', 'invalid_part', cause);
    case 'InvalidPartOrder':
      return new BadRequestError(
        'Parts must be listed in ascending part number order.',
        'invalid_part_order',
        cause,
      );
    case 'EntityTooSmall':
      return new BadRequestError('Every part but the last must be at least 5 MiB.', 'part_too_small', cause);
    case 'AccessDenied':
    case 'InvalidAccessKeyId':
    case 'ExpiredToken':
    case 'InvalidToken':
      return new ForbiddenError('S3 refused the request for this identity.', 's3_access_denied', cause);
  }
  if (THROTTLED.has(name))
    return new ServiceUnavailableError('S3 is throttling requests; retry later.', 2, cause);
  if (
    UNREACHABLE.has(name) ||
    (typeof shape.code === 'string' && UNREACHABLE.has(shape.code)) ||
    (status !== undefined && status >= 500) ||
    shape.$fault === 'server'
  ) {
    return new ServiceUnavailableError('S3 is unavailable; retry later.', 5, cause);
  }
  return new KeywardenError(500, 's3_error', `${operation} failed: ${name}`, { expose: false, ...cause });
}
