/**
 * One error type for everything keywarden answers with: an HTTP status, a stable `code`
 * that clients and tests match on, and whether the message may be shown to the client.
 * The central handler (middleware/error-handler.ts) turns these into RFC 9457 problems.
 */
export interface KeywardenErrorOptions extends ErrorOptions {
  /** Safe to show to the client; defaults to true below 500. */
  expose?: boolean;
  headers?: Record<string, string>;
  /** Extra problem members (must be safe for clients). */
  extensions?: Record<string, unknown>;
}

export class KeywardenError extends Error {
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(status: number, code: string, message: string, options: KeywardenErrorOptions = {}) {
    super(message, options);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.expose = options.expose ?? status < 500;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

export class BadRequestError extends KeywardenError {
  constructor(
    message = 'The request is not valid.',
    code = 'invalid_request',
    options?: KeywardenErrorOptions,
  ) {
    super(400, code, message, options);
  }
}

export class UnauthorizedError extends KeywardenError {
  constructor(
    message = 'Authentication is required.',
    code = 'unauthenticated',
    options?: KeywardenErrorOptions,
  ) {
    super(401, code, message, options);
  }
}

export class ForbiddenError extends KeywardenError {
  constructor(message = 'This action is not allowed.', code = 'forbidden', options?: KeywardenErrorOptions) {
    super(403, code, message, options);
  }
}

export class NotFoundError extends KeywardenError {
  constructor(message = 'No such resource.', code = 'not_found', options?: KeywardenErrorOptions) {
    super(404, code, message, options);
  }
}

export class PayloadTooLargeError extends KeywardenError {
  constructor(message = 'The request body is too large.') {
    super(413, 'payload_too_large', message);
  }
}

export class UnsupportedMediaTypeError extends KeywardenError {
  constructor(message = 'The request body must be application/json.') {
    super(415, 'unsupported_media_type', message);
  }
}

export class RateLimitedError extends KeywardenError {
  constructor(retryAfterSeconds: number) {
    super(429, 'rate_limited', 'Too many requests; retry later.', {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}

/**
 * An admin revoked this user (or the identity a guest token names) and suspended them: every
 * route refuses them until the suspension ends or is lifted.
 */
export class UserSuspendedError extends KeywardenError {
  constructor(options: KeywardenErrorOptions = {}) {
    super(403, 'user_suspended', 'This account is suspended; ask an administrator.', options);
  }
}

/** A dependency (Redis, an IdP, AWS) is down or too slow; the client may retry. */
export class ServiceUnavailableError extends KeywardenError {
  constructor(
    message = 'A service keywarden depends on is unavailable; retry later.',
    retryAfterSeconds = 5,
    options: KeywardenErrorOptions = {},
  ) {
    super(503, 'service_unavailable', message, {
      ...options,
      expose: true,
      headers: { 'Retry-After': String(retryAfterSeconds), ...options.headers },
    });
  }
}

export function isKeywardenError(error: unknown): error is KeywardenError {
  return error instanceof KeywardenError;
}
