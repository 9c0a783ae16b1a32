import type { IncomingHttpHeaders } from 'node:http';

/**
 * CORS for the local S3, as a bucket CORS configuration would give it: a single-page app on
 * an allowed origin (a dev server such as http://localhost:5173) may PUT to a presigned URL,
 * GET an object and read its ETag (multipart uploads need it). Other origins get no CORS
 * headers and a refused preflight, so the browser blocks them, as S3 does.
 */
export interface S3CorsRules {
  /** Exact origins (`scheme://host[:port]`). */
  origins: readonly string[];
  maxAgeSeconds: number;
}

const ALLOWED_METHODS = 'GET, PUT, POST, DELETE, HEAD';
/** Headers a browser may read from S3 answers (the rest are hidden by CORS). */
const EXPOSED_HEADERS = 'ETag, x-amz-request-id, x-amz-id-2, x-amz-version-id';
/** Header names as a preflight lists them: tokens separated by commas. */
const HEADER_LIST = /^[\w-]+(\s*,\s*[\w-]+)*$/;

function allowed(rules: S3CorsRules | undefined, origin: string | undefined): origin is string {
  return origin !== undefined && (rules?.origins.includes(origin) ?? false);
}

/** Headers added to an actual (non-preflight) S3 answer. */
export function s3CorsHeaders(
  rules: S3CorsRules | undefined,
  origin: string | undefined,
): Record<string, string> {
  if (!allowed(rules, origin)) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': EXPOSED_HEADERS,
    vary: 'Origin',
  };
}

/** The answer to an OPTIONS request: 200 with the allowance, or 403 as S3 answers a refused one. */
export function s3Preflight(
  rules: S3CorsRules | undefined,
  headers: IncomingHttpHeaders,
): { status: number; headers: Record<string, string>; body?: string } {
  const origin = headers.origin;
  const method = headers['access-control-request-method'];
  const requested = String(headers['access-control-request-headers'] ?? '').trim();
  if (
    !rules ||
    !allowed(rules, origin) ||
    typeof method !== 'string' ||
    !ALLOWED_METHODS.split(', ').includes(method.toUpperCase()) ||
    (requested !== '' && !HEADER_LIST.test(requested))
  ) {
    return {
      status: 403,
      headers: { 'content-type': 'application/xml', vary: 'Origin' },
      body:
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessForbidden</Code>' +
        '<Message>CORSResponse: This CORS request is not allowed.</Message></Error>',
    };
  }
  return {
    status: 200,
    headers: {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': ALLOWED_METHODS,
      // Like a CORS rule with AllowedHeaders: ["*"]: the SDK signs x-amz-* headers of its own.
      ...(requested !== '' ? { 'access-control-allow-headers': requested } : {}),
      'access-control-expose-headers': EXPOSED_HEADERS,
      'access-control-max-age': String(rules.maxAgeSeconds),
      vary: 'Origin',
    },
  };
}
