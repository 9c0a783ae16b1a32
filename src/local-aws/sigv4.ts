/**
 * SigV4 verification by re-signing: the received method/path/query/signed headers/body are fed to
 * @smithy/signature-v4 with the secret the local AWS knows for the access key, and the resulting
 * signature is compared (constant time) with the one the client sent.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export type QueryMap = Record<string, string | string[]>;

export interface ReceivedRequest {
  method: string;
  /** raw (still percent-encoded) path, without the query string */
  rawPath: string;
  query: QueryMap;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type SigV4FailureKind =
  | 'missing'
  | 'malformed'
  | 'unknownKey'
  | 'badSignature'
  | 'expiredToken'
  | 'invalidToken'
  | 'skewed'
  | 'presignExpired'
  | 'wrongRegion'
  | 'wrongService'
  | 'contentSha256Mismatch';

export class SigV4Error extends Error {
  kind: SigV4FailureKind;
  constructor(kind: SigV4FailureKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface KnownKey {
  secretAccessKey: string;
  /** required session token (temporary credentials) */
  sessionToken?: string;
  /** epoch ms */
  expiration?: number;
}

export interface VerifyOptions {
  service: string;
  region: string;
  /** S3 does not double-encode the path */
  uriEscapePath: boolean;
  /** whether query-string (presigned) auth is accepted */
  allowPresigned: boolean;
  /** whether x-amz-content-sha256: UNSIGNED-PAYLOAD / STREAMING-* are accepted (S3 only) */
  allowUnsignedPayload: boolean;
  lookup(accessKeyId: string): KnownKey | undefined;
  /** the local AWS clock (epoch ms) used for expirations */
  now: number;
}

export interface VerifiedAuth {
  accessKeyId: string;
  presigned: boolean;
  signedHeaders: string[];
}

const SHA256 = Hash.bind(null, 'sha256');
const MAX_SKEW_MS = 15 * 60 * 1000;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : v;
}

function queryValue(query: QueryMap, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(query)) {
    if (k.toLowerCase() === lower) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

interface Scope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

function parseCredential(credential: string): Scope {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !parts[0]) {
    throw new SigV4Error(
      'malformed',
      `Error parsing the X-Amz-Credential parameter; the Credential is mal-formed: ${credential}`,
    );
  }
  return { accessKeyId: parts[0], date: parts[1]!, region: parts[2]!, service: parts[3]! };
}

function checkScope(scope: Scope, amzDate: string, opts: VerifyOptions): void {
  if (scope.region !== opts.region) {
    throw new SigV4Error(
      'wrongRegion',
      `The authorization header is malformed; the region '${scope.region}' is wrong; expecting '${opts.region}'`,
    );
  }
  if (scope.service !== opts.service) {
    throw new SigV4Error(
      'wrongService',
      `Credential should be scoped to correct service: '${opts.service}'.`,
    );
  }
  if (!amzDate.startsWith(scope.date)) {
    throw new SigV4Error(
      'malformed',
      'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date',
    );
  }
}

function checkKey(scope: Scope, token: string | undefined, opts: VerifyOptions): KnownKey {
  const key = opts.lookup(scope.accessKeyId);
  if (!key)
    throw new SigV4Error('unknownKey', 'The AWS Access Key Id you provided does not exist in our records.');
  if (key.sessionToken !== undefined || token !== undefined) {
    if (token === undefined || key.sessionToken === undefined || !safeEqual(token, key.sessionToken)) {
      throw new SigV4Error('invalidToken', 'The provided token is malformed or otherwise invalid.');
    }
  }
  if (key.expiration !== undefined && opts.now >= key.expiration) {
    throw new SigV4Error('expiredToken', 'The provided token has expired.');
  }
  return key;
}

export function isPresigned(req: ReceivedRequest): boolean {
  return (
    queryValue(req.query, 'X-Amz-Algorithm') !== undefined ||
    queryValue(req.query, 'X-Amz-Signature') !== undefined
  );
}

export function hasAuth(req: ReceivedRequest): boolean {
  return req.headers.authorization !== undefined || isPresigned(req);
}

/**
 * Verifies a JSON/query API call (Cognito's developer operations, IAM) that only the service's
 * own IAM-user keys may sign, never credentials vended to users. A SigV4 failure becomes the
 * service's own error through `toError`.
 */
export async function verifyServiceCall(
  req: ReceivedRequest,
  opts: {
    service: string;
    region: string;
    now: number;
    serviceKey: { accessKeyId: string; secretAccessKey: string };
  },
  toError: (e: SigV4Error) => Error,
): Promise<void> {
  const { serviceKey } = opts;
  try {
    await verifySigV4(req, {
      service: opts.service,
      region: opts.region,
      uriEscapePath: true,
      allowPresigned: false,
      allowUnsignedPayload: false,
      now: opts.now,
      lookup: (akid) =>
        akid === serviceKey.accessKeyId ? { secretAccessKey: serviceKey.secretAccessKey } : undefined,
    });
  } catch (e) {
    if (e instanceof SigV4Error) throw toError(e);
    throw e;
  }
}

export async function verifySigV4(req: ReceivedRequest, opts: VerifyOptions): Promise<VerifiedAuth> {
  if (req.headers.authorization !== undefined) return verifyHeaderAuth(req, opts);
  if (isPresigned(req)) {
    if (!opts.allowPresigned) throw new SigV4Error('missing', 'Missing Authentication Token');
    return verifyQueryAuth(req, opts);
  }
  throw new SigV4Error('missing', 'Missing Authentication Token');
}

async function verifyHeaderAuth(req: ReceivedRequest, opts: VerifyOptions): Promise<VerifiedAuth> {
  const auth = headerValue(req.headers, 'authorization') ?? '';
  const m = /^AWS4-HMAC-SHA256 (.*)$/.exec(auth.trim());
  if (!m)
    throw new SigV4Error(
      'malformed',
      'Unsupported or malformed Authorization header (expected AWS4-HMAC-SHA256).',
    );
  const fields: Record<string, string> = {};
  for (const part of m[1]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const credential = fields.Credential;
  const signedHeadersRaw = fields.SignedHeaders;
  const signature = fields.Signature;
  if (!credential || !signedHeadersRaw || !signature) {
    throw new SigV4Error(
      'malformed',
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'.",
    );
  }
  const scope = parseCredential(credential);
  const amzDate = headerValue(req.headers, 'x-amz-date');
  const signingDate = amzDate ? parseAmzDate(amzDate) : undefined;
  if (!amzDate || !signingDate) throw new SigV4Error('malformed', 'Missing or invalid X-Amz-Date header.');
  checkScope(scope, amzDate, opts);
  // Clock skew is judged against the real clock (the client signs with the real clock).
  if (Math.abs(Date.now() - signingDate.getTime()) > MAX_SKEW_MS) {
    throw new SigV4Error(
      'skewed',
      'The difference between the request time and the current time is too large.',
    );
  }
  const signedHeaders = signedHeadersRaw.split(';');
  if (!signedHeaders.includes('host')) throw new SigV4Error('malformed', "'Host' must be a signed header.");
  const token = headerValue(req.headers, 'x-amz-security-token');
  if (token !== undefined && !signedHeaders.includes('x-amz-security-token')) {
    throw new SigV4Error(
      'badSignature',
      'There were headers present in the request which were not signed: x-amz-security-token',
    );
  }
  const key = checkKey(scope, token, opts);

  const contentSha = headerValue(req.headers, 'x-amz-content-sha256');
  if (contentSha !== undefined) {
    const unsigned = contentSha === 'UNSIGNED-PAYLOAD' || contentSha.startsWith('STREAMING-');
    if (unsigned && !opts.allowUnsignedPayload) {
      throw new SigV4Error(
        'contentSha256Mismatch',
        'The provided x-amz-content-sha256 header is not allowed here.',
      );
    }
    if (!unsigned && contentSha !== sha256Hex(req.body)) {
      throw new SigV4Error(
        'contentSha256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
    }
  } else if (opts.allowUnsignedPayload) {
    // S3 requires the payload hash header for header-based SigV4.
    throw new SigV4Error('malformed', 'Missing required header for this request: x-amz-content-sha256');
  }

  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const v = headerValue(req.headers, name);
    if (v === undefined) {
      throw new SigV4Error(
        'badSignature',
        `The request signature we calculated does not match: signed header '${name}' missing.`,
      );
    }
    headers[name] = v;
  }
  const request = new HttpRequest({
    method: req.method,
    protocol: 'http:',
    hostname: 'localhost',
    path: req.rawPath,
    query: { ...req.query },
    headers,
    body: req.body.length > 0 ? req.body : undefined,
  });
  const signer = new SignatureV4({
    service: scope.service,
    region: scope.region,
    // the session token (if any) is already among the signed headers
    credentials: { accessKeyId: scope.accessKeyId, secretAccessKey: key.secretAccessKey },
    sha256: SHA256,
    uriEscapePath: opts.uriEscapePath,
    applyChecksum: signedHeaders.includes('x-amz-content-sha256'),
  });
  const signed = await signer.sign(request, {
    signingDate,
    signingRegion: scope.region,
    signingService: scope.service,
    signableHeaders: new Set(signedHeaders),
  });
  const expectedAuth = String(signed.headers.authorization ?? '');
  const expected = /Signature=([0-9a-f]+)/.exec(expectedAuth)?.[1] ?? '';
  const expectedSigned = /SignedHeaders=([^,]+)/.exec(expectedAuth)?.[1] ?? '';
  if (expectedSigned !== signedHeaders.slice().sort().join(';') || !safeEqual(expected, signature)) {
    throw new SigV4Error(
      'badSignature',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }
  return { accessKeyId: scope.accessKeyId, presigned: false, signedHeaders };
}

const AUTH_QUERY_PARAMS = new Set([
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-signedheaders',
  'x-amz-signature',
]);

async function verifyQueryAuth(req: ReceivedRequest, opts: VerifyOptions): Promise<VerifiedAuth> {
  const algorithm = queryValue(req.query, 'X-Amz-Algorithm');
  const credential = queryValue(req.query, 'X-Amz-Credential');
  const amzDate = queryValue(req.query, 'X-Amz-Date');
  const expiresRaw = queryValue(req.query, 'X-Amz-Expires');
  const signedHeadersRaw = queryValue(req.query, 'X-Amz-SignedHeaders');
  const signature = queryValue(req.query, 'X-Amz-Signature');
  const token = queryValue(req.query, 'X-Amz-Security-Token');
  if (algorithm !== 'AWS4-HMAC-SHA256') {
    throw new SigV4Error('malformed', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  if (!credential || !amzDate || !expiresRaw || !signedHeadersRaw || !signature) {
    throw new SigV4Error(
      'malformed',
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  const scope = parseCredential(credential);
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate)
    throw new SigV4Error(
      'malformed',
      "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
    );
  checkScope(scope, amzDate, opts);
  if (!/^\d+$/.test(expiresRaw)) throw new SigV4Error('malformed', 'X-Amz-Expires should be a number');
  const expiresIn = Number(expiresRaw);
  if (expiresIn < 1) throw new SigV4Error('malformed', 'X-Amz-Expires must be non-negative');
  if (expiresIn > 604800)
    throw new SigV4Error('malformed', 'X-Amz-Expires must be less than a week (in seconds) that is 604800');
  if (opts.now > signingDate.getTime() + expiresIn * 1000) {
    throw new SigV4Error('presignExpired', 'Request has expired');
  }
  if (signingDate.getTime() - opts.now > MAX_SKEW_MS) {
    throw new SigV4Error('presignExpired', 'Request is not valid yet');
  }
  const signedHeaders = signedHeadersRaw.split(';');
  if (!signedHeaders.includes('host')) throw new SigV4Error('malformed', "'Host' must be a signed header.");
  const key = checkKey(scope, token, opts);

  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const v = headerValue(req.headers, name);
    if (v === undefined) {
      throw new SigV4Error(
        'badSignature',
        `The request signature we calculated does not match: signed header '${name}' missing.`,
      );
    }
    headers[name] = v;
  }
  const signedSet = new Set(signedHeaders);
  // Presigned requests always use UNSIGNED-PAYLOAD as the payload hash; the header is only a carrier
  // for that value (neither hoisted into the query nor signed unless the client signed it).
  const unsignable = new Set<string>();
  if (!signedSet.has('x-amz-content-sha256')) {
    headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    unsignable.add('x-amz-content-sha256');
  }
  const query: QueryMap = {};
  for (const [k, v] of Object.entries(req.query)) {
    // the signer re-adds the auth parameters itself (with identical values)
    if (AUTH_QUERY_PARAMS.has(k.toLowerCase())) continue;
    query[k] = v;
  }
  const request = new HttpRequest({
    method: req.method,
    protocol: 'http:',
    hostname: 'localhost',
    path: req.rawPath,
    query,
    headers,
  });
  const signer = new SignatureV4({
    service: scope.service,
    region: scope.region,
    credentials: { accessKeyId: scope.accessKeyId, secretAccessKey: key.secretAccessKey },
    sha256: SHA256,
    uriEscapePath: opts.uriEscapePath,
    applyChecksum: false,
  });
  const presigned = await signer.presign(request, {
    signingDate,
    expiresIn,
    signingRegion: scope.region,
    signingService: scope.service,
    signableHeaders: signedSet,
    unsignableHeaders: unsignable,
    unhoistableHeaders: new Set([...signedSet, 'x-amz-content-sha256']),
  });
  const expected = String(presigned.query?.['X-Amz-Signature'] ?? '');
  const expectedSigned = String(presigned.query?.['X-Amz-SignedHeaders'] ?? '');
  if (expectedSigned !== signedHeaders.slice().sort().join(';') || !safeEqual(expected, signature)) {
    throw new SigV4Error(
      'badSignature',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }
  return { accessKeyId: scope.accessKeyId, presigned: true, signedHeaders };
}

export { EMPTY_SHA256 };
