import type { Problem } from './api-types.ts';

/**
 * Every failure this package reports: keywarden's problem documents (RFC 9457), S3's
 * answers to an upload, and the network itself. Branch on `code`, as keywarden's contract
 * asks: its codes are stable, and the package adds three of its own —
 * `network_error` (no answer; `status` 0), `unexpected_response` (an answer that is not a
 * problem document, e.g. from a proxy) and `upload_failed` (S3 refused a presigned request;
 * `s3Code` holds S3's error code).
 */
export class KeywardenError extends Error {
  override readonly name = 'KeywardenError';
  /** The HTTP status, or 0 when no answer came. */
  readonly status: number;
  readonly code: string;
  /** keywarden's request id (quote it in support requests), or S3's for upload failures. */
  readonly requestId: string | undefined;
  /** Seconds to wait before retrying, from `Retry-After`. */
  readonly retryAfter: number | undefined;
  /** The problem document as keywarden sent it (extension members such as `reason` included). */
  readonly problem: Problem | undefined;
  /** S3's error code (`AccessDenied`, `SlowDown`...) for `upload_failed`. */
  readonly s3Code: string | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    details: {
      requestId?: string | undefined;
      retryAfter?: number | undefined;
      problem?: Problem | undefined;
      s3Code?: string | undefined;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = status;
    this.code = code;
    this.requestId = details.requestId;
    this.retryAfter = details.retryAfter;
    this.problem = details.problem;
    this.s3Code = details.s3Code;
  }
}

/** `Retry-After` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterOf(response: Response): number | undefined {
  const value = response.headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function isProblem(value: unknown): value is Problem {
  const problem = value as Partial<Problem> | null;
  return typeof problem === 'object' && problem !== null && typeof problem.code === 'string';
}

/** The error for a keywarden answer that is not 2xx. */
export async function errorFromResponse(response: Response): Promise<KeywardenError> {
  const retryAfter = retryAfterOf(response);
  const headerRequestId = response.headers.get('x-request-id') ?? undefined;
  let body: unknown;
  try {
    body = /json/i.test(response.headers.get('content-type') ?? '') ? await response.json() : undefined;
  } catch {
    body = undefined;
  }
  if (!isProblem(body)) {
    return new KeywardenError(
      response.status,
      'unexpected_response',
      `keywarden answered ${response.status} without a problem document`,
      { requestId: headerRequestId, retryAfter },
    );
  }
  return new KeywardenError(response.status, body.code, body.detail ?? body.title, {
    requestId: body.requestId ?? headerRequestId,
    retryAfter,
    problem: body,
  });
}

/** S3's XML error answer to a presigned request. */
export function uploadError(status: number, body: string, requestId: string | null): KeywardenError {
  const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1];
  const s3Code = field('Code');
  return new KeywardenError(
    status,
    'upload_failed',
    `S3 refused the upload (${status}${s3Code ? ` ${s3Code}` : ''}${field('Message') ? `: ${field('Message')}` : ''})`,
    { requestId: requestId ?? field('RequestId'), s3Code },
  );
}

export function networkError(cause: unknown): KeywardenError {
  return new KeywardenError(0, 'network_error', 'The request got no answer', { cause });
}
