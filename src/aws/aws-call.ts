import type { Logger } from 'pino';
import { ForbiddenError, KeywardenError, ServiceUnavailableError } from '../http/errors.ts';
import type { Metrics } from '../observability/metrics.ts';

/**
 * One place where AWS errors become keywarden errors. By the time an error gets here the
 * SDK has already retried what is retryable (throttling, 5xx, timeouts), so:
 *  - the caller is not allowed (NotAuthorized, AccessDenied, a rejected token) → 403;
 *  - AWS is throttling, failing or unreachable → 503 with Retry-After;
 *  - anything else means keywarden or the pool is misconfigured (missing pool, role not
 *    trusted, bad service credentials, a parameter AWS refuses) → 500, logged with detail.
 * The client never sees AWS's own message.
 */

const DENIED = new Set([
  'NotAuthorizedException',
  'AccessDenied',
  'AccessDeniedException',
  'InvalidIdentityToken',
  'InvalidIdentityTokenException',
  'IDPRejectedClaim',
  'IDPRejectedClaimException',
  'ExpiredTokenException',
]);

const THROTTLED = new Set([
  'TooManyRequestsException',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'SlowDown',
  'PriorRequestNotComplete',
]);

/** Server-side or upstream trouble AWS models as a 4xx-looking error name. */
const UPSTREAM_FAILED = new Set([
  'InternalErrorException',
  'InternalFailure',
  'ServiceUnavailable',
  'ExternalServiceException',
  'IDPCommunicationError',
  'IDPCommunicationErrorException',
  'ConcurrentModificationException',
]);

const UNREACHABLE = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export type AwsFailure = 'denied' | 'throttled' | 'unavailable' | 'misconfigured';

interface AwsErrorShape {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

export function classifyAwsError(error: unknown): AwsFailure {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as AwsErrorShape;
  const name = typeof shape.name === 'string' ? shape.name : '';
  const code = typeof shape.code === 'string' ? shape.code : '';
  const status =
    typeof shape.$metadata?.httpStatusCode === 'number' ? shape.$metadata.httpStatusCode : undefined;
  if (DENIED.has(name)) return 'denied';
  if (THROTTLED.has(name)) return 'throttled';
  if (UNREACHABLE.has(name) || UNREACHABLE.has(code) || name === 'AbortError') return 'unavailable';
  if (UPSTREAM_FAILED.has(name)) return 'unavailable';
  if (status !== undefined && status >= 500) return 'unavailable';
  if (shape.$fault === 'server') return 'unavailable';
  return 'misconfigured';
}

/** The AWS error's name for logs and metrics (never its message, which can echo input). */
export function awsErrorName(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { name, code } = error as AwsErrorShape;
    if (typeof name === 'string' && name !== 'Error') return name;
    if (typeof code === 'string') return code;
  }
  return 'UnknownError';
}

/** Thrown for a misconfiguration: 500 to the client, detail in the log. */
export class AwsConfigurationError extends KeywardenError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(500, 'credentials_misconfigured', message, { ...options, expose: false });
  }
}

function toHttpError(error: unknown, operation: string): KeywardenError {
  if (error instanceof KeywardenError) return error;
  switch (classifyAwsError(error)) {
    case 'denied':
      return new ForbiddenError('AWS refused to issue credentials for this identity.', 'aws_access_denied', {
        cause: error,
      });
    case 'throttled':
      return new ServiceUnavailableError('AWS is throttling requests; retry later.', 2, { cause: error });
    case 'unavailable':
      return new ServiceUnavailableError('AWS is unavailable; retry later.', 5, { cause: error });
    case 'misconfigured':
      return new AwsConfigurationError(`${operation} failed: ${awsErrorName(error)}`, { cause: error });
  }
}

export interface AwsCallContext {
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/**
 * Runs one AWS operation with metrics (count by outcome, latency) and error mapping. The
 * SDK's own retries happen inside `send`, so the latency includes them.
 */
export async function callAws<T>(
  context: AwsCallContext,
  operation: string,
  send: () => Promise<T>,
): Promise<T> {
  const stop = context.metrics.awsCallDuration.startTimer({ operation });
  try {
    const result = await send();
    context.metrics.awsCalls.inc({ operation, outcome: 'success' });
    return result;
  } catch (error) {
    const failure = classifyAwsError(error);
    context.metrics.awsCalls.inc({ operation, outcome: failure });
    const attempts = (error as { $metadata?: { attempts?: unknown } }).$metadata?.attempts;
    context.logger[failure === 'denied' ? 'info' : 'warn'](
      { operation, awsError: awsErrorName(error), failure, attempts },
      'AWS call failed',
    );
    throw toHttpError(error, operation);
  } finally {
    stop();
  }
}
