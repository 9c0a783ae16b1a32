import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * Every value that grants access, wherever it may sit in a log object. pino replaces them
 * before serialising, so neither a request log nor a careless `logger.info(obj)` can leak one.
 */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-guest-token',
  'x-amz-security-token',
  'password',
  'secret',
  'clientSecret',
  'token',
  'guestToken',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'idToken',
  'id_token',
  'logout_token',
  'code_verifier',
  'SAMLResponse',
  'SAMLRequest',
  'Signature',
  'signature',
  'secretAccessKey',
  'SecretAccessKey',
  'SecretKey',
  'sessionToken',
  'SessionToken',
  'Token',
  'WebIdentityToken',
];

export const REDACTED = '[redacted]';

export const redactPaths: string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-guest-token"]',
  'req.headers["x-amz-security-token"]',
  'res.headers["set-cookie"]',
  // Each field at the top level and one or two objects deep (the request, an `err`, a body).
  ...SECRET_FIELDS.flatMap((field) => {
    const access = /^[A-Za-z_$][\w$]*$/.test(field) ? `.${field}` : `["${field}"]`;
    return [access.startsWith('.') ? field : access, `*${access}`, `*.*${access}`];
  }),
];

/** Query parameters that carry secrets (OAuth codes, SAML messages, SigV4 signatures). */
const SECRET_QUERY_PARAMS = new Set(
  [
    'code',
    'state',
    'id_token',
    'id_token_hint',
    'access_token',
    'refresh_token',
    'token',
    'logout_token',
    'client_secret',
    'client_assertion',
    'code_verifier',
    'samlrequest',
    'samlresponse',
    'signature',
    'x-amz-signature',
    'x-amz-credential',
    'x-amz-security-token',
    'guesttoken',
    'user_code',
    'device_code',
    // AWS console federation: the sign-in token, and the credentials getSigninToken takes.
    'signintoken',
    'session',
  ].map((name) => name.toLowerCase()),
);

const NESTED_URL_PARAMS = new Set(['returnto', 'relaystate', 'redirect_uri', 'post_logout_redirect_uri']);

/**
 * Whether a query may name a secret or nested parameter: any of those names followed by `=`,
 * or any percent-encoding (a name could be encoded). Most queries (`?scope=own`) are neither,
 * and are logged as they are without being parsed.
 */
const MAY_NEED_REDACTION = new RegExp(
  `%|(?:^|[?&;])(?:${[...SECRET_QUERY_PARAMS, ...NESTED_URL_PARAMS].map((name) => name.replace(/[-_]/g, '[-_]')).join('|')})=`,
  'i',
);

/** A URL safe to log: secret query values replaced, everything else kept for debugging. */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return url;
  if (!MAY_NEED_REDACTION.test(url.slice(queryStart))) return url;
  const params = new URLSearchParams(url.slice(queryStart + 1));
  const kept: string[] = [];
  for (const [name, value] of params) {
    const lower = name.toLowerCase();
    // A return path is itself a URL and may carry secrets of its own (a device user code, say).
    const shown = SECRET_QUERY_PARAMS.has(lower)
      ? REDACTED
      : NESTED_URL_PARAMS.has(lower)
        ? redactUrl(value)
        : value;
    kept.push(`${encodeURIComponent(name)}=${encodeURIComponent(shown)}`);
  }
  return `${url.slice(0, queryStart)}?${kept.join('&')}`;
}

export interface LoggerOptions {
  level: string;
  destination?: DestinationStream;
}

const LINE_FORMAT = {
  base: { service: 'keywarden' },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label: string) => ({ level: label }) },
};

/**
 * The service's logger. Every value that grants access is redacted wherever it sits in a log
 * object (see `redactPaths`), so a careless `logger.info(obj)` cannot leak one.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    { ...LINE_FORMAT, level: options.level, redact: { paths: redactPaths, censor: REDACTED } },
    options.destination ?? batchedStdout(),
  );
}

/**
 * Standard output written in batches of about 4 KiB rather than one write(2) per line (two per
 * request under load), and synchronously: sonic-boom's asynchronous mode hands every write to
 * libuv's thread pool, which cost more CPU per line than serialising it (measured: 11–19 µs
 * per line against 1.5 µs). A quiet server's lines still appear within a quarter of a second,
 * and pino flushes what is left when the process exits.
 */
function batchedStdout(): DestinationStream {
  const destination = pino.destination({ sync: true, minLength: 4096 });
  setInterval(() => {
    try {
      destination.flush();
    } catch {
      // Not open yet or already closed: the next tick or the exit flush writes the lines.
    }
  }, 250).unref();
  return destination;
}

/**
 * A logger for records whose fields are chosen one by one and hold no secret by construction
 * (the access log line and audit events: ids, names, outcomes, a URL through `redactUrl`).
 * It writes to the same stream in the same format as `logger`, without the redaction pass,
 * which would otherwise walk every line of every request for paths that cannot be there.
 */
export function recordLogger(logger: Logger): Logger {
  const stream = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  return pino({ ...LINE_FORMAT, level: logger.level }, stream);
}
