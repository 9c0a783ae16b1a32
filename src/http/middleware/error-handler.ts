import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../../store/types.ts';
import {
  KeywardenError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnsupportedMediaTypeError,
} from '../errors.ts';

/** Errors thrown by body parsing carry a `type`; map them to our stable codes. */
function fromBodyParser(error: { type?: string; status?: number }): KeywardenError | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return new PayloadTooLargeError();
    // A form over its field limit is a 413 from body-parser too; same code, not a bare `invalid_request`.
    case 'parameters.too.many':
      return new PayloadTooLargeError('The request body has too many fields.');
    case 'entity.parse.failed':
      return new KeywardenError(400, 'malformed_body', 'The request body could not be parsed.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new UnsupportedMediaTypeError('The request body encoding is not supported.');
    case 'request.aborted':
      return new KeywardenError(400, 'request_aborted', 'The request was aborted.');
    default:
      return undefined;
  }
}

export function toKeywardenError(error: unknown): KeywardenError {
  if (error instanceof KeywardenError) return error;
  if (error instanceof StoreUnavailableError)
    return new ServiceUnavailableError(undefined, 2, { cause: error });
  if (typeof error === 'object' && error !== null) {
    const mapped = fromBodyParser(error as { type?: string });
    if (mapped) return mapped;
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return new KeywardenError(status, 'invalid_request', STATUS_CODES[status] ?? 'Bad request');
    }
  }
  return new KeywardenError(500, 'internal_error', 'An internal error occurred.', {
    cause: error,
    expose: false,
  });
}

/** The fields of an error that are safe and useful in a log line (the logger redacts the rest). */
function loggableCause(error: unknown): Record<string, unknown> | undefined {
  if (!(error instanceof Error)) return undefined;
  return {
    type: error.name,
    message: error.message,
    code: (error as { code?: unknown }).code,
    stack: error.stack,
    cause: loggableCause(error.cause),
  };
}

/**
 * The single place that turns errors into RFC 9457 problem documents. Clients see the
 * status, a stable `code` and a generic message for 5xx; the log keeps the detail.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const problem = toKeywardenError(error);
    const requestId = req.scope?.requestId;
    const log = {
      requestId,
      code: problem.code,
      status: problem.status,
      err: loggableCause(problem.cause ?? error),
    };
    if (problem.status >= 500) logger.error(log, 'request failed');
    else logger.debug({ requestId, code: problem.code, status: problem.status }, 'request refused');

    const title = STATUS_CODES[problem.status] ?? 'Error';
    res.status(problem.status);
    for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
    res.setHeader('Cache-Control', 'no-store');
    res.type('application/problem+json');
    res.send(
      JSON.stringify({
        type: `urn:keywarden:problem:${problem.code}`,
        title,
        status: problem.status,
        detail: problem.expose ? problem.message : 'An internal error occurred.',
        code: problem.code,
        requestId,
        ...problem.extensions,
      }),
    );
  };
}

export function notFound(): RequestHandler {
  return (_req, _res, next) => next(new NotFoundError());
}
