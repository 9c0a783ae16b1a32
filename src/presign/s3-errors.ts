import { awsErrorName, classifyAwsError } from '../aws/aws-call.ts';
import { BadRequestError, ForbiddenError, KeywardenError, ServiceUnavailableError } from '../http/errors.ts';
import { UploadNotFoundError } from './multipart-uploads.ts';

/**
 * S3 errors from the calls keywarden makes itself (multipart create/list/complete/abort)
 * → keywarden errors. The SDK has already retried what is retryable. The multipart errors a
 * client can cause get their own codes; the rest is classified as for every AWS call
 * (aws-call.ts). The client sees a stable code, never S3's message (it names role ARNs and
 * request ids).
 */

/** S3's names for credentials it will not take, beyond the generic AccessDenied. */
const S3_DENIED = new Set(['InvalidAccessKeyId', 'ExpiredToken', 'InvalidToken']);

export function toPresignError(error: unknown, operation: string): KeywardenError {
  if (error instanceof KeywardenError) return error;
  const name = awsErrorName(error);
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
  }
  const failure = S3_DENIED.has(name) ? 'denied' : classifyAwsError(error);
  switch (failure) {
    case 'denied':
      return new ForbiddenError('S3 refused the request for this identity.', 's3_access_denied', cause);
    case 'throttled':
      return new ServiceUnavailableError('S3 is throttling requests; retry later.', 2, cause);
    case 'unavailable':
      return new ServiceUnavailableError('S3 is unavailable; retry later.', 5, cause);
    case 'misconfigured':
      return new KeywardenError(500, 's3_error', `${operation} failed: ${name}`, { expose: false, ...cause });
  }
}
