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
import { type Html, html } from '../html.ts';

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

/** An error's name for a log line: its class name, or its code (`ECONNREFUSED`) for a bare Error. */
function errorName(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return error.name === 'Error' && typeof code === 'string' ? code : error.name;
}

/**
 * What failed upstream, for a 503: the first error in the cause chain that is not keywarden's
 * own (`ThrottlingException`, `StoreUnavailableError`) and, when it wraps another, the
 * innermost one (`ECONNREFUSED`). Names only: messages can echo input or upstream detail.
 */
function upstreamNames(error: unknown): { upstream?: string; upstreamCause?: string } {
  const chain: Error[] = [];
  for (let e = error; e instanceof Error && chain.length < 10; e = e.cause) chain.push(e);
  const outside = chain.filter((e) => !(e instanceof KeywardenError));
  const first = outside[0];
  const last = outside.at(-1);
  if (!first || !last) return {};
  const cause = errorName(last);
  return first === last || cause === 'Error'
    ? { upstream: errorName(first) }
    : { upstream: errorName(first), upstreamCause: cause };
}

/**
 * One line per failed request, by severity. A 503 is a dependency that is down or throttling
 * (Redis, AWS, an IdP, a JWKS): an expected outage, answered with Retry-After, so one warn line
 * naming it and no stack. Stacks are for real 500s, where they are what someone will need.
 */
export function logRequestFailure(
  logger: Logger,
  requestId: string | undefined,
  problem: KeywardenError,
  error: unknown,
): void {
  if (problem.status === 503) {
    logger.warn(
      {
        requestId,
        code: problem.code,
        status: problem.status,
        // The message a 503 carries is the one clients see: which dependency, never its text.
        detail: problem.message,
        ...upstreamNames(problem.cause ?? error),
      },
      'request failed: dependency unavailable',
    );
  } else if (problem.status >= 500) {
    logger.error(
      { requestId, code: problem.code, status: problem.status, err: loggableCause(problem.cause ?? error) },
      'request failed',
    );
  } else {
    logger.debug({ requestId, code: problem.code, status: problem.status }, 'request refused');
  }
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
    logRequestFailure(logger, requestId, problem, error);

    const title = STATUS_CODES[problem.status] ?? 'Error';
    const detail = problem.expose ? problem.message : 'An internal error occurred.';
    res.status(problem.status);
    for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
    res.setHeader('Cache-Control', 'no-store');
    // A person who followed a link (a login, an IdP's redirect or form post back to us) gets a
    // page, not JSON. Only browsers send Sec-Fetch-Mode: navigate; fetch/XHR and API clients
    // always get the problem document.
    if (
      req.get('sec-fetch-mode') === 'navigate' &&
      req.accepts(['application/json', 'text/html']) === 'text/html'
    ) {
      res.type('text/html').send(errorPage({ title, detail, code: problem.code, requestId }).toString());
      return;
    }
    res.type('application/problem+json');
    res.send(
      JSON.stringify({
        type: `urn:keywarden:problem:${problem.code}`,
        title,
        status: problem.status,
        detail,
        code: problem.code,
        requestId,
        ...problem.extensions,
      }),
    );
  };
}

/** The generic page a browser navigation gets instead of a problem document. */
function errorPage(page: {
  title: string;
  detail: string;
  code: string;
  requestId: string | undefined;
}): Html {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${page.title} · keywarden</title></head>
<body>
<main>
<h1>${page.title}</h1>
<p>${page.detail}</p>
<p><a href="/">Back to the start page</a></p>
<p><small>Error code: ${page.code}${page.requestId ? html` · request ${page.requestId}` : ''}</small></p>
</main>
</body>
</html>
`;
}

export function notFound(): RequestHandler {
  return (_req, _res, next) => next(new NotFoundError());
}
