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

/** A URL safe to log: secret query values replaced, everything else kept for debugging. */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return url;
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

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'keywarden' },
      redact: { paths: redactPaths, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
