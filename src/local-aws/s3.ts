/**
 * S3 REST/XML, path-style only (`/<bucket>/<key>`), SigV4 header or query (presigned) auth, browser POST
 * policy uploads, multipart uploads, authorisation against the role's permission policy and the
 * caller's inline session policy (both must allow, an explicit deny in either refuses).
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Hash } from '@smithy/hash-node';
import { getSigningKey } from '@smithy/signature-v4';
import type { ObjectStore, StoredObject } from './object-store.ts';
import { evaluatePolicy, type PolicyContext, parsePolicy } from './policy.ts';
import { parseAmzDate, type QueryMap, type ReceivedRequest, SigV4Error, verifySigV4 } from './sigv4.ts';
import { AwsError, type LocalAwsState, type VendedCredentials, xmlEscape } from './state.ts';

const XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n';
const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MIN_PART_SIZE = 5 * 1024 * 1024;
const SHA256_CTOR = Hash.bind(null, 'sha256');

export interface S3Route {
  operation: string;
  bucket?: string;
  key?: string;
}

export interface S3Response {
  status: number;
  headers: Record<string, string>;
  body?: Buffer | string;
}

interface Principal {
  accessKeyId: string;
  /** undefined => the service (IAM user) credentials */
  vended?: VendedCredentials;
}

function has(query: QueryMap, name: string): boolean {
  return Object.hasOwn(query, name);
}

function q(query: QueryMap, name: string): string | undefined {
  const v = query[name];
  return Array.isArray(v) ? v[0] : v;
}

export function routeS3(
  method: string,
  rawPath: string,
  query: QueryMap,
  contentType: string | undefined,
): S3Route {
  const trimmed = rawPath.replace(/^\/+/, '');
  if (trimmed === '') return { operation: method === 'GET' ? 'ListBuckets' : 'Unknown' };
  const slash = trimmed.indexOf('/');
  const bucket = decodeURIComponent(slash < 0 ? trimmed : trimmed.slice(0, slash));
  const keyRaw = slash < 0 ? '' : trimmed.slice(slash + 1);
  if (keyRaw === '') {
    if (method === 'POST' && (contentType ?? '').toLowerCase().startsWith('multipart/form-data')) {
      return { operation: 'PostObject', bucket };
    }
    if (method === 'HEAD') return { operation: 'HeadBucket', bucket };
    if (method === 'GET' && has(query, 'uploads')) return { operation: 'ListMultipartUploads', bucket };
    if (method === 'GET')
      return { operation: q(query, 'list-type') === '2' ? 'ListObjectsV2' : 'ListObjects', bucket };
    return { operation: `Unsupported${method}Bucket`, bucket };
  }
  const key = decodeURIComponent(keyRaw);
  switch (method) {
    case 'PUT':
      if (has(query, 'uploadId') && has(query, 'partNumber')) return { operation: 'UploadPart', bucket, key };
      return { operation: 'PutObject', bucket, key };
    case 'GET':
      if (has(query, 'uploadId')) return { operation: 'ListParts', bucket, key };
      return { operation: 'GetObject', bucket, key };
    case 'HEAD':
      return { operation: 'HeadObject', bucket, key };
    case 'DELETE':
      if (has(query, 'uploadId')) return { operation: 'AbortMultipartUpload', bucket, key };
      return { operation: 'DeleteObject', bucket, key };
    case 'POST':
      if (has(query, 'uploads')) return { operation: 'CreateMultipartUpload', bucket, key };
      if (has(query, 'uploadId')) return { operation: 'CompleteMultipartUpload', bucket, key };
      return { operation: 'UnsupportedPOSTObject', bucket, key };
    default:
      return { operation: 'Unknown', bucket, key };
  }
}

export function s3ErrorResponse(e: AwsError, requestId: string, head: boolean): S3Response {
  const headers: Record<string, string> = { 'x-amz-request-id': requestId, 'x-amz-id-2': requestId };
  if (head) return { status: e.status, headers };
  let extra = '';
  for (const [k, v] of Object.entries(e.extra)) extra += `<${k}>${xmlEscape(v)}</${k}>`;
  headers['content-type'] = 'application/xml';
  return {
    status: e.status,
    headers,
    body:
      XML_HEADER +
      `<Error><Code>${xmlEscape(e.code)}</Code><Message>${xmlEscape(e.message)}</Message>${extra}` +
      `<RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`,
  };
}

export function sigV4ErrorToS3(e: SigV4Error, presigned: boolean): AwsError {
  switch (e.kind) {
    case 'missing':
      return new AwsError(403, 'AccessDenied', 'Access Denied');
    case 'malformed':
    case 'wrongRegion':
      return presigned
        ? new AwsError(400, 'AuthorizationQueryParametersError', e.message)
        : new AwsError(400, 'AuthorizationHeaderMalformed', e.message);
    case 'unknownKey':
      return new AwsError(
        403,
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
      );
    case 'expiredToken':
      return new AwsError(400, 'ExpiredToken', 'The provided token has expired.');
    case 'invalidToken':
      return new AwsError(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
    case 'skewed':
      return new AwsError(
        403,
        'RequestTimeTooSkewed',
        'The difference between the request time and the current time is too large.',
      );
    case 'presignExpired':
      return new AwsError(403, 'AccessDenied', e.message);
    case 'contentSha256Mismatch':
      return new AwsError(400, 'XAmzContentSHA256Mismatch', e.message);
    default:
      return new AwsError(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      );
  }
}

let crc32cTable: Uint32Array | undefined;
function crc32c(buf: Buffer): number {
  if (!crc32cTable) {
    crc32cTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      crc32cTable[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const b of buf) crc = crc32cTable[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function u32(n: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b.toString('base64');
}

const CHECKSUMS: Record<string, { name: string; compute(b: Buffer): string }> = {
  crc32: { name: 'CRC32', compute: (b) => u32(crc32(b)) },
  crc32c: { name: 'CRC32C', compute: (b) => u32(crc32c(b)) },
  sha1: { name: 'SHA1', compute: (b) => createHash('sha1').update(b).digest('base64') },
  sha256: { name: 'SHA256', compute: (b) => createHash('sha256').update(b).digest('base64') },
};

function md5Hex(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

function decodeAwsChunked(body: Buffer): { data: Buffer; trailers: Record<string, string> } {
  const chunks: Buffer[] = [];
  const trailers: Record<string, string> = {};
  let pos = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', pos);
    if (lineEnd < 0) throw new AwsError(400, 'IncompleteBody', 'The request body terminated unexpectedly');
    const size = Number.parseInt(body.subarray(pos, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isFinite(size)) throw new AwsError(400, 'IncompleteBody', 'Invalid chunk header');
    pos = lineEnd + 2;
    if (size === 0) break;
    chunks.push(body.subarray(pos, pos + size));
    pos += size + 2;
  }
  for (const line of body.subarray(pos).toString('latin1').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) trailers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { data: Buffer.concat(chunks), trailers };
}

function header(req: ReceivedRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function metadataFrom(entries: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    const lower = k.toLowerCase();
    if (lower.startsWith('x-amz-meta-')) out[lower.slice('x-amz-meta-'.length)] = v;
  }
  return out;
}

export interface S3ServiceOptions {
  objects: ObjectStore;
  /** The path in front of `/<bucket>` in the URLs clients use (where the local AWS is mounted). */
  pathPrefix: string;
}

export class S3Service {
  state: LocalAwsState;
  readonly #objects: ObjectStore;
  readonly #pathPrefix: string;
  constructor(state: LocalAwsState, options: S3ServiceOptions) {
    this.state = state;
    this.#objects = options.objects;
    this.#pathPrefix = options.pathPrefix;
  }

  /** The URL of an object as the client addressed this service (for `Location`). */
  #location(req: ReceivedRequest, bucket: string, key: string): string {
    return `http://${header(req, 'host') ?? 'localhost'}${this.#pathPrefix}/${bucket}/${encodeKey(key)}`;
  }

  private lookupKey(akid: string) {
    if (akid === this.state.serviceCredentials.accessKeyId) {
      return { secretAccessKey: this.state.serviceCredentials.secretAccessKey };
    }
    const v = this.state.vended.get(akid);
    return v
      ? { secretAccessKey: v.secretAccessKey, sessionToken: v.sessionToken, expiration: v.expiration }
      : undefined;
  }

  private async authenticate(req: ReceivedRequest): Promise<Principal> {
    const presigned = req.headers.authorization === undefined;
    try {
      const auth = await verifySigV4(req, {
        service: 's3',
        region: this.state.region,
        uriEscapePath: false,
        allowPresigned: true,
        allowUnsignedPayload: true,
        now: this.state.now(),
        lookup: (akid) => this.lookupKey(akid),
      });
      const vended = this.state.vended.get(auth.accessKeyId);
      return vended ? { accessKeyId: auth.accessKeyId, vended } : { accessKeyId: auth.accessKeyId };
    } catch (e) {
      if (e instanceof SigV4Error) throw sigV4ErrorToS3(e, presigned);
      throw e;
    }
  }

  private authorize(
    principal: Principal,
    action: string,
    resource: string,
    req: ReceivedRequest,
    extra: PolicyContext = {},
  ): void {
    // The service's own (IAM user) credentials are not confined here; vended ones are.
    const v = principal.vended;
    if (!v) return;
    const rolePolicy = Object.hasOwn(this.state.roles, v.roleArn)
      ? this.state.roles[v.roleArn]?.policy
      : undefined;
    // Inline policies written through IAM (PutRolePolicy): identity-based policies of the role too.
    const inlinePolicies = [...(this.state.roleInlinePolicies.get(v.roleArn)?.values() ?? [])].flatMap(
      (text) => {
        try {
          return [parsePolicy(text)];
        } catch {
          return [];
        }
      },
    );
    if (!rolePolicy && !v.sessionPolicy && inlinePolicies.length === 0) return;
    const context: PolicyContext = {
      'aws:SecureTransport': 'false',
      'aws:SourceIp': '127.0.0.1',
      'aws:CurrentTime': new Date(this.state.now()).toISOString(),
      'aws:EpochTime': String(Math.floor(this.state.now() / 1000)),
      'aws:userid': v.assumedRoleId,
      'aws:TokenIssueTime': v.issuedAt === undefined ? undefined : new Date(v.issuedAt).toISOString(),
      'aws:PrincipalArn': v.roleArn,
      'aws:username': undefined,
      'cognito-identity.amazonaws.com:sub': v.identityId,
      'cognito-identity.amazonaws.com:aud': this.state.identityPoolId,
      'cognito-identity.amazonaws.com:amr': v.authenticationType,
      's3:authType': req.headers.authorization ? 'REST-HEADER' : 'REST-QUERY-STRING',
      's3:signatureversion': 'AWS4-HMAC-SHA256',
      ...extra,
    };
    for (const [k, val] of Object.entries(v.principalTags)) context[`aws:PrincipalTag/${k}`] = val;
    // As IAM evaluates an assumed-role session: the role's identity-based policies (its own and
    // the inline ones written through IAM) and the session policy must both allow; an explicit
    // deny in any of them refuses. A role whose own policy is not modelled is decided by the
    // session policy and by inline denies only.
    const decisions: Array<{ kind: string; decision: ReturnType<typeof evaluatePolicy> }> = [];
    const identityDecisions = [...(rolePolicy ? [rolePolicy] : []), ...inlinePolicies].map((policy) =>
      evaluatePolicy(policy, action, resource, context),
    );
    if (identityDecisions.includes('ExplicitDeny')) {
      decisions.push({ kind: 'identity-based', decision: 'ExplicitDeny' });
    } else if (rolePolicy) {
      decisions.push({
        kind: 'identity-based',
        decision: identityDecisions.includes('Allow') ? 'Allow' : 'ImplicitDeny',
      });
    }
    if (v.sessionPolicy)
      decisions.push({
        kind: 'session',
        decision: evaluatePolicy(v.sessionPolicy, action, resource, context),
      });
    const refusal =
      decisions.find(({ decision }) => decision === 'ExplicitDeny') ??
      decisions.find(({ decision }) => decision !== 'Allow');
    if (refusal) {
      const why =
        refusal.decision === 'ExplicitDeny'
          ? `with an explicit deny in a ${refusal.kind} policy`
          : `because no ${refusal.kind} policy allows the ${action} action`;
      throw new AwsError(
        403,
        'AccessDenied',
        `User: ${v.assumedRoleArn} is not authorized to perform: ${action} on resource: "${resource}" ${why}`,
      );
    }
  }

  private requireBucket(bucket: string | undefined): string {
    if (!bucket || !this.state.buckets.has(bucket)) {
      throw new AwsError(404, 'NoSuchBucket', 'The specified bucket does not exist', {
        BucketName: bucket ?? '',
      });
    }
    return bucket;
  }

  async handle(req: ReceivedRequest, route: S3Route): Promise<S3Response> {
    if (route.operation === 'PostObject') return this.postObject(req, route);
    const principal = await this.authenticate(req);
    const bucket = this.requireBucket(route.bucket);
    const key = route.key ?? '';
    const objectArn = `arn:aws:s3:::${bucket}/${key}`;
    switch (route.operation) {
      case 'PutObject':
        this.authorize(principal, 's3:PutObject', objectArn, req);
        return this.putObject(req, bucket, key);
      case 'GetObject':
      case 'HeadObject':
        this.authorize(principal, 's3:GetObject', objectArn, req);
        return this.getObject(req, bucket, key, route.operation === 'HeadObject');
      case 'DeleteObject':
        this.authorize(principal, 's3:DeleteObject', objectArn, req);
        await this.#objects.delete(bucket, key);
        return { status: 204, headers: {} };
      case 'CreateMultipartUpload':
        this.authorize(principal, 's3:PutObject', objectArn, req);
        return this.createMultipartUpload(req, bucket, key);
      case 'UploadPart':
        this.authorize(principal, 's3:PutObject', objectArn, req);
        return this.uploadPart(req, bucket, key);
      case 'ListParts':
        this.authorize(principal, 's3:ListMultipartUploadParts', objectArn, req);
        return this.listParts(req, bucket, key);
      case 'CompleteMultipartUpload':
        this.authorize(principal, 's3:PutObject', objectArn, req);
        return this.completeMultipartUpload(req, bucket, key);
      case 'AbortMultipartUpload':
        this.authorize(principal, 's3:AbortMultipartUpload', objectArn, req);
        return this.abortMultipartUpload(req, bucket, key);
      case 'HeadBucket':
        this.authorize(principal, 's3:ListBucket', `arn:aws:s3:::${bucket}`, req);
        return { status: 200, headers: { 'x-amz-bucket-region': this.state.region } };
      case 'ListObjectsV2': {
        const prefix = q(req.query, 'prefix') ?? '';
        this.authorize(principal, 's3:ListBucket', `arn:aws:s3:::${bucket}`, req, {
          's3:prefix': prefix,
          's3:delimiter': q(req.query, 'delimiter'),
          's3:max-keys': q(req.query, 'max-keys'),
        });
        return this.listObjectsV2(req, bucket);
      }
      default:
        throw new AwsError(501, 'NotImplemented', `${route.operation} is not implemented by the local AWS.`);
    }
  }

  /** Decodes aws-chunked bodies and validates Content-MD5 / x-amz-checksum-* (header, query or trailer). */
  private payload(req: ReceivedRequest): Buffer {
    let data = req.body;
    let trailers: Record<string, string> = {};
    const sha = header(req, 'x-amz-content-sha256') ?? '';
    if (sha.startsWith('STREAMING-') || (header(req, 'content-encoding') ?? '').includes('aws-chunked')) {
      ({ data, trailers } = decodeAwsChunked(req.body));
    }
    const md5 = header(req, 'content-md5');
    if (md5 !== undefined && createHash('md5').update(data).digest('base64') !== md5) {
      throw new AwsError(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
    const provided: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.query)) {
      const lk = k.toLowerCase();
      if (lk.startsWith('x-amz-checksum-')) provided[lk.slice(15)] = Array.isArray(v) ? (v[0] ?? '') : v;
    }
    for (const [k, v] of Object.entries(req.headers)) {
      if (k.startsWith('x-amz-checksum-') && typeof v === 'string') provided[k.slice(15)] = v;
    }
    for (const [k, v] of Object.entries(trailers)) {
      if (k.startsWith('x-amz-checksum-')) provided[k.slice(15)] = v;
    }
    for (const [alg, value] of Object.entries(provided)) {
      const impl = CHECKSUMS[alg];
      if (!impl) continue; // e.g. crc64nvme / type: not verified here
      if (impl.compute(data) !== value) {
        throw new AwsError(
          400,
          'BadDigest',
          `The ${impl.name} you specified did not match the calculated checksum.`,
        );
      }
    }
    return data;
  }

  private async putObject(req: ReceivedRequest, bucket: string, key: string): Promise<S3Response> {
    if (header(req, 'x-amz-copy-source'))
      throw new AwsError(501, 'NotImplemented', 'CopyObject is not implemented by the local AWS.');
    const body = this.payload(req);
    const etag = `"${md5Hex(body)}"`;
    const obj: StoredObject = {
      body,
      contentType: header(req, 'content-type') ?? 'binary/octet-stream',
      etag,
      lastModified: new Date(this.state.now()),
      metadata: metadataFrom(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
    };
    await this.#objects.put(bucket, key, obj);
    return { status: 200, headers: { etag } };
  }

  private async getObject(
    req: ReceivedRequest,
    bucket: string,
    key: string,
    head: boolean,
  ): Promise<S3Response> {
    const obj = await this.#objects.get(bucket, key);
    if (!obj) throw new AwsError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
    const ifMatch = header(req, 'if-match');
    if (ifMatch !== undefined && ifMatch !== '*' && !ifMatch.split(',').some((t) => t.trim() === obj.etag)) {
      throw new AwsError(
        412,
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
        {
          Condition: 'If-Match',
        },
      );
    }
    const ifNoneMatch = header(req, 'if-none-match');
    const lastModified = (obj.lastModified ?? new Date(0)).toUTCString();
    if (
      ifNoneMatch !== undefined &&
      (ifNoneMatch === '*' || ifNoneMatch.split(',').some((t) => t.trim() === obj.etag))
    ) {
      return { status: 304, headers: { etag: obj.etag, 'last-modified': lastModified } };
    }
    const headers: Record<string, string> = {
      'content-type': obj.contentType ?? 'binary/octet-stream',
      etag: obj.etag,
      'last-modified': lastModified,
      'accept-ranges': 'bytes',
    };
    for (const [k, v] of Object.entries(obj.metadata ?? {})) headers[`x-amz-meta-${k}`] = v;
    const overrides: Record<string, string> = {
      'response-content-type': 'content-type',
      'response-content-disposition': 'content-disposition',
      'response-content-encoding': 'content-encoding',
      'response-content-language': 'content-language',
      'response-cache-control': 'cache-control',
      'response-expires': 'expires',
    };
    for (const [param, h] of Object.entries(overrides)) {
      const v = q(req.query, param);
      if (v !== undefined) headers[h] = v;
    }
    let body = obj.body;
    let status = 200;
    const range = header(req, 'range');
    const m = range ? /^bytes=(\d*)-(\d*)$/.exec(range) : null;
    if (m && (m[1] !== '' || m[2] !== '')) {
      const size = obj.body.length;
      let start: number;
      let end: number;
      if (m[1] === '') {
        start = Math.max(0, size - Number(m[2]));
        end = size - 1;
      } else {
        start = Number(m[1]);
        end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
      }
      if (start >= size || start > end) {
        throw new AwsError(416, 'InvalidRange', 'The requested range is not satisfiable', {
          RangeRequested: range ?? '',
          ActualObjectSize: String(size),
        });
      }
      body = obj.body.subarray(start, end + 1);
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
    }
    headers['content-length'] = String(body.length);
    return head ? { status, headers } : { status, headers, body };
  }

  private createMultipartUpload(req: ReceivedRequest, bucket: string, key: string): S3Response {
    const uploadId = randomBytes(24).toString('base64url');
    const contentType = header(req, 'content-type');
    this.state.uploads.set(uploadId, {
      uploadId,
      bucket,
      key,
      ...(contentType ? { contentType } : {}),
      metadata: metadataFrom(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
      initiated: new Date(this.state.now()),
      parts: new Map(),
    });
    return xmlResponse(
      `<InitiateMultipartUploadResult xmlns="${S3_NS}"><Bucket>${xmlEscape(bucket)}</Bucket>` +
        `<Key>${xmlEscape(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
    );
  }

  private upload(req: ReceivedRequest, bucket: string, key: string) {
    const uploadId = q(req.query, 'uploadId') ?? '';
    const upload = this.state.uploads.get(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key) {
      throw new AwsError(
        404,
        'NoSuchUpload',
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
        { UploadId: uploadId },
      );
    }
    return upload;
  }

  private uploadPart(req: ReceivedRequest, bucket: string, key: string): S3Response {
    const raw = q(req.query, 'partNumber') ?? '';
    const partNumber = Number(raw);
    if (!/^\d+$/.test(raw) || partNumber < 1 || partNumber > 10000) {
      throw new AwsError(
        400,
        'InvalidArgument',
        'Part number must be an integer between 1 and 10000, inclusive',
        {
          ArgumentName: 'partNumber',
          ArgumentValue: raw,
        },
      );
    }
    const upload = this.upload(req, bucket, key);
    const body = this.payload(req);
    const etag = `"${md5Hex(body)}"`;
    upload.parts.set(partNumber, { body, etag, lastModified: new Date(this.state.now()) });
    return { status: 200, headers: { etag } };
  }

  private listParts(req: ReceivedRequest, bucket: string, key: string): S3Response {
    const upload = this.upload(req, bucket, key);
    const parts = [...upload.parts.entries()].sort((a, b) => a[0] - b[0]);
    const last = parts[parts.length - 1]?.[0] ?? 0;
    let xml =
      `<ListPartsResult xmlns="${S3_NS}"><Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key>` +
      `<UploadId>${upload.uploadId}</UploadId><PartNumberMarker>0</PartNumberMarker>` +
      `<NextPartNumberMarker>${last}</NextPartNumberMarker><MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>` +
      `<StorageClass>STANDARD</StorageClass>`;
    for (const [n, p] of parts) {
      xml +=
        `<Part><PartNumber>${n}</PartNumber><LastModified>${p.lastModified.toISOString()}</LastModified>` +
        `<ETag>${xmlEscape(p.etag)}</ETag><Size>${p.body.length}</Size></Part>`;
    }
    return xmlResponse(`${xml}</ListPartsResult>`);
  }

  private async completeMultipartUpload(
    req: ReceivedRequest,
    bucket: string,
    key: string,
  ): Promise<S3Response> {
    const upload = this.upload(req, bucket, key);
    const text = req.body.toString('utf8');
    const requested: Array<{ partNumber: number; etag: string }> = [];
    for (const m of text.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
      const inner = m[1] ?? '';
      const pn = /<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(inner)?.[1];
      const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(inner)?.[1];
      if (pn === undefined || etag === undefined) {
        throw new AwsError(
          400,
          'MalformedXML',
          'The XML you provided was not well-formed or did not validate against our published schema.',
        );
      }
      requested.push({ partNumber: Number(pn), etag: etag.replace(/&quot;/g, '"').trim() });
    }
    if (!/<CompleteMultipartUpload[\s>]/.test(text) || requested.length === 0) {
      throw new AwsError(
        400,
        'MalformedXML',
        'The XML you provided was not well-formed or did not validate against our published schema.',
      );
    }
    const normalize = (e: string) => e.replace(/^"|"$/g, '');
    const bodies: Buffer[] = [];
    const digests: Buffer[] = [];
    let previous = 0;
    requested.forEach((r, i) => {
      if (r.partNumber <= previous) {
        throw new AwsError(
          400,
          'InvalidPartOrder',
          'The list of parts was not in ascending order. Parts must be ordered by part number.',
        );
      }
      previous = r.partNumber;
      const part = upload.parts.get(r.partNumber);
      if (!part || normalize(part.etag) !== normalize(r.etag)) {
        throw new AwsError(
          400,
          'InvalidPart',
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
          { UploadId: upload.uploadId, PartNumber: String(r.partNumber), ETag: r.etag },
        );
      }
      if (i < requested.length - 1 && part.body.length < MIN_PART_SIZE) {
        throw new AwsError(
          400,
          'EntityTooSmall',
          'Your proposed upload is smaller than the minimum allowed object size.',
          {
            ProposedSize: String(part.body.length),
            MinSizeAllowed: String(MIN_PART_SIZE),
            PartNumber: String(r.partNumber),
            ETag: part.etag,
          },
        );
      }
      bodies.push(part.body);
      digests.push(createHash('md5').update(part.body).digest());
    });
    const etag = `"${md5Hex(Buffer.concat(digests))}-${requested.length}"`;
    await this.#objects.put(bucket, key, {
      body: Buffer.concat(bodies),
      contentType: upload.contentType ?? 'binary/octet-stream',
      etag,
      lastModified: new Date(this.state.now()),
      metadata: upload.metadata,
    });
    this.state.uploads.delete(upload.uploadId);
    const location = this.#location(req, bucket, key);
    return xmlResponse(
      `<CompleteMultipartUploadResult xmlns="${S3_NS}"><Location>${xmlEscape(location)}</Location>` +
        `<Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key><ETag>${xmlEscape(etag)}</ETag>` +
        `</CompleteMultipartUploadResult>`,
    );
  }

  private abortMultipartUpload(req: ReceivedRequest, bucket: string, key: string): S3Response {
    const upload = this.upload(req, bucket, key);
    this.state.uploads.delete(upload.uploadId);
    return { status: 204, headers: {} };
  }

  private async listObjectsV2(req: ReceivedRequest, bucket: string): Promise<S3Response> {
    const prefix = q(req.query, 'prefix') ?? '';
    const delimiter = q(req.query, 'delimiter');
    const maxKeys = Math.min(1000, Number(q(req.query, 'max-keys') ?? '1000') || 1000);
    const token = q(req.query, 'continuation-token');
    const startAfter = token
      ? Buffer.from(token, 'base64url').toString('utf8')
      : (q(req.query, 'start-after') ?? '');
    const summaries = new Map((await this.#objects.list(bucket)).map((object) => [object.key, object]));
    const keys = [...summaries.keys()].filter((k) => k.startsWith(prefix) && k > startAfter).sort();
    const contents: string[] = [];
    const prefixes = new Set<string>();
    let truncated = false;
    let lastKey = '';
    for (const k of keys) {
      if (contents.length + prefixes.size >= maxKeys) {
        truncated = true;
        break;
      }
      lastKey = k;
      if (delimiter) {
        const idx = k.indexOf(delimiter, prefix.length);
        if (idx >= 0) {
          prefixes.add(k.slice(0, idx + delimiter.length));
          continue;
        }
      }
      const obj = summaries.get(k)!;
      contents.push(
        `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${obj.lastModified.toISOString()}</LastModified>` +
          `<ETag>${xmlEscape(obj.etag)}</ETag><Size>${obj.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      );
    }
    let xml =
      `<ListBucketResult xmlns="${S3_NS}"><Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix>` +
      `<KeyCount>${contents.length + prefixes.size}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
      (delimiter ? `<Delimiter>${xmlEscape(delimiter)}</Delimiter>` : '') +
      `<IsTruncated>${truncated}</IsTruncated>` +
      (token ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : '') +
      (truncated
        ? `<NextContinuationToken>${Buffer.from(lastKey).toString('base64url')}</NextContinuationToken>`
        : '');
    xml += contents.join('');
    for (const p of prefixes) xml += `<CommonPrefixes><Prefix>${xmlEscape(p)}</Prefix></CommonPrefixes>`;
    return xmlResponse(`${xml}</ListBucketResult>`);
  }

  /** Browser-based upload with a POST policy (multipart/form-data to /<bucket>). */
  private async postObject(req: ReceivedRequest, route: S3Route): Promise<S3Response> {
    const form = await new Request('http://localhost/', {
      method: 'POST',
      headers: { 'content-type': header(req, 'content-type') ?? '' },
      body: new Uint8Array(req.body),
    })
      .formData()
      .catch(() => {
        throw new AwsError(
          400,
          'MalformedPOSTRequest',
          'The body of your POST request is not well-formed multipart/form-data.',
        );
      });
    const fields = new Map<string, string>();
    let file: File | undefined;
    for (const [name, value] of form.entries()) {
      const lower = name.toLowerCase();
      if (lower === 'file') {
        if (typeof value !== 'string') file = value;
        else file = new File([value], '');
        continue;
      }
      if (typeof value === 'string' && !fields.has(lower)) fields.set(lower, value);
    }
    const policyB64 = fields.get('policy');
    const signature = fields.get('x-amz-signature');
    const credential = fields.get('x-amz-credential');
    const amzDate = fields.get('x-amz-date');
    if (!policyB64 || !signature || !credential || !amzDate) {
      throw new AwsError(403, 'AccessDenied', 'Access Denied');
    }
    if (fields.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') {
      throw new AwsError(400, 'InvalidArgument', 'POST requires x-amz-algorithm AWS4-HMAC-SHA256', {
        ArgumentName: 'x-amz-algorithm',
      });
    }
    const parts = credential.split('/');
    const [akid, date, region, service, terminator] = parts;
    const signingDate = parseAmzDate(amzDate);
    if (
      parts.length !== 5 ||
      terminator !== 'aws4_request' ||
      service !== 's3' ||
      !akid ||
      !signingDate ||
      !amzDate.startsWith(date ?? '-')
    ) {
      throw new AwsError(400, 'InvalidArgument', `Invalid x-amz-credential: ${credential}`, {
        ArgumentName: 'x-amz-credential',
      });
    }
    if (region !== this.state.region) {
      throw new AwsError(
        400,
        'AuthorizationHeaderMalformed',
        `the region '${region}' is wrong; expecting '${this.state.region}'`,
      );
    }
    const known = this.lookupKey(akid);
    if (!known) throw sigV4ErrorToS3(new SigV4Error('unknownKey', ''), false);
    const token = fields.get('x-amz-security-token');
    if (known.sessionToken !== undefined || token !== undefined) {
      if (token !== known.sessionToken) throw sigV4ErrorToS3(new SigV4Error('invalidToken', ''), false);
    }
    if (known.expiration !== undefined && this.state.now() >= known.expiration) {
      throw sigV4ErrorToS3(new SigV4Error('expiredToken', ''), false);
    }
    const signingKey = await getSigningKey(
      SHA256_CTOR,
      { accessKeyId: akid, secretAccessKey: known.secretAccessKey },
      date!,
      region,
      's3',
    );
    const expected = createHmac('sha256', signingKey).update(policyB64, 'utf8').digest('hex');
    if (
      expected.length !== signature.length ||
      !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))
    ) {
      throw new AwsError(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      );
    }
    const bucket = this.requireBucket(route.bucket);
    let policy: { expiration?: unknown; conditions?: unknown };
    try {
      policy = JSON.parse(Buffer.from(policyB64, 'base64').toString('utf8'));
    } catch {
      throw new AwsError(400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
    }
    const expiration = typeof policy.expiration === 'string' ? Date.parse(policy.expiration) : Number.NaN;
    if (Number.isNaN(expiration)) {
      throw new AwsError(400, 'InvalidPolicyDocument', 'Invalid Policy: Policy missing expiration.');
    }
    if (this.state.now() > expiration) {
      throw new AwsError(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
    }
    if (!Array.isArray(policy.conditions)) {
      throw new AwsError(400, 'InvalidPolicyDocument', 'Invalid Policy: Policy missing conditions.');
    }
    if (!file) {
      throw new AwsError(400, 'InvalidArgument', "Bucket POST must contain a field named 'file'.", {
        ArgumentName: 'file',
      });
    }
    const data = Buffer.from(await file.arrayBuffer());
    const covered = new Set<string>();
    let range: { min: number; max: number } | undefined;
    const fieldValue = (name: string) => (name === 'bucket' ? bucket : (fields.get(name) ?? ''));
    const failed = (cond: unknown) =>
      new AwsError(
        403,
        'AccessDenied',
        `Invalid according to Policy: Policy Condition failed: ${JSON.stringify(cond)}`,
      );
    for (const cond of policy.conditions as unknown[]) {
      if (Array.isArray(cond)) {
        const op = String(cond[0]).toLowerCase();
        if (op === 'content-length-range') {
          range = { min: Number(cond[1]), max: Number(cond[2]) };
          continue;
        }
        const name = String(cond[1]).replace(/^\$/, '').toLowerCase();
        const value = String(cond[2]);
        covered.add(name);
        const actual = fieldValue(name);
        let ok: boolean;
        if (op === 'eq') ok = actual === value;
        else if (op === 'starts-with') {
          ok =
            name === 'content-type'
              ? actual.split(',').every((p) => p.trim().startsWith(value))
              : actual.startsWith(value);
        } else
          throw new AwsError(
            400,
            'InvalidPolicyDocument',
            `Invalid Policy: Invalid Condition: ${JSON.stringify(cond)}`,
          );
        if (!ok) throw failed(cond);
      } else if (cond && typeof cond === 'object') {
        for (const [rawName, value] of Object.entries(cond as Record<string, unknown>)) {
          const name = rawName.toLowerCase();
          covered.add(name);
          if (fieldValue(name) !== String(value)) throw failed(['eq', `$${rawName}`, value]);
        }
      } else {
        throw new AwsError(
          400,
          'InvalidPolicyDocument',
          `Invalid Policy: Invalid Condition: ${JSON.stringify(cond)}`,
        );
      }
    }
    for (const name of fields.keys()) {
      if (name === 'x-amz-signature' || name === 'policy' || name.startsWith('x-ignore-')) continue;
      if (!covered.has(name)) {
        throw new AwsError(403, 'AccessDenied', `Invalid according to Policy: Extra input fields: ${name}`);
      }
    }
    if (range) {
      if (data.length > range.max) {
        throw new AwsError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
          ProposedSize: String(data.length),
          MaxSizeAllowed: String(range.max),
        });
      }
      if (data.length < range.min) {
        throw new AwsError(
          400,
          'EntityTooSmall',
          'Your proposed upload is smaller than the minimum allowed size',
          {
            ProposedSize: String(data.length),
            MinSizeAllowed: String(range.min),
          },
        );
      }
    }
    const rawKey = fields.get('key');
    if (!rawKey) {
      throw new AwsError(400, 'InvalidArgument', "Bucket POST must contain a field named 'key'.", {
        ArgumentName: 'key',
      });
    }
    const key = rawKey.replace(/\$\{filename\}/g, file.name);
    const vended = this.state.vended.get(akid);
    this.authorize(
      vended ? { accessKeyId: akid, vended } : { accessKeyId: akid },
      's3:PutObject',
      `arn:aws:s3:::${bucket}/${key}`,
      req,
    );
    const etag = `"${md5Hex(data)}"`;
    await this.#objects.put(bucket, key, {
      body: data,
      contentType: fields.get('content-type') ?? 'binary/octet-stream',
      etag,
      lastModified: new Date(this.state.now()),
      metadata: metadataFrom(fields.entries()),
    });
    const location = this.#location(req, bucket, key);
    const redirect = fields.get('success_action_redirect');
    if (redirect) {
      const u = new URL(redirect);
      u.searchParams.set('bucket', bucket);
      u.searchParams.set('key', key);
      u.searchParams.set('etag', etag);
      return { status: 303, headers: { location: u.toString(), etag } };
    }
    const status = fields.get('success_action_status');
    if (status === '201') {
      return {
        status: 201,
        headers: { 'content-type': 'application/xml', etag, location },
        body:
          XML_HEADER +
          `<PostResponse><Location>${xmlEscape(location)}</Location><Bucket>${xmlEscape(bucket)}</Bucket>` +
          `<Key>${xmlEscape(key)}</Key><ETag>${xmlEscape(etag)}</ETag></PostResponse>`,
      };
    }
    return { status: status === '200' ? 200 : 204, headers: { etag, location } };
  }
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

function xmlResponse(xml: string): S3Response {
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: XML_HEADER + xml };
}

export function newRequestId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
}
