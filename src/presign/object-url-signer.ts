import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import type { HttpRequest as SignedRequest } from '@smithy/types';
import type { BucketConfig } from '../config/buckets-schema.ts';
import type { SigningCredentials } from './types.ts';

/** Where a bucket's objects are addressed, as the SDK addresses them (virtual-hosted or path style). */
interface ObjectAddress {
  readonly protocol: string;
  readonly hostname: string;
  readonly port: number | undefined;
  /** The path before the object key: `/` (virtual-hosted) or `/<bucket>/` (path style, behind any endpoint path). */
  readonly pathPrefix: string;
}

const SENTINEL_KEY = 'keywarden-address-probe';
const MAX_PRESIGNERS = 512;

/** The operations presigned as plain object URLs, with the `x-id` the SDK adds for each. */
export type ObjectOperation = 'GetObject' | 'PutObject' | 'UploadPart';

export interface ObjectUrlRequest {
  readonly operation: ObjectOperation;
  readonly key: string;
  readonly expiresInSeconds: number;
  readonly signingDate: Date;
  /** Headers the URL's user must send exactly; signed. */
  readonly signedHeaders?: Readonly<Record<string, string>>;
  /** Operation parameters in the query (UploadPart: partNumber, uploadId). */
  readonly query?: Readonly<Record<string, string>>;
}

/**
 * RFC 3986 encoding of one path segment, as the AWS SDK encodes S3 keys: encodeURIComponent
 * plus `!'()*`. test/presign-object-url-signer.test.ts holds the result equal to the SDK's own
 * presigned URLs for a corpus of hostile keys.
 */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Presigned object URLs for one bucket, signed with the caller's own credentials by the SDK's
 * S3RequestPresigner (the signer inside `getSignedUrl`). What `getSignedUrl` also does per call,
 * and what cost about a millisecond of CPU each time — building an S3 client for the caller,
 * resolving its endpoint rules, running its middleware stack — depends only on the bucket, so
 * it is done once: the SDK presigns a probe key at first use and the address it chose (host,
 * path style, endpoint path) is kept.
 */
export class ObjectUrlSigner {
  readonly #bucket: Pick<BucketConfig, 'name' | 'region' | 'endpoint' | 'forcePathStyle'>;
  /**
   * A presigner per caller credentials (it holds them, and caches the day's signing key): the
   * callers seen last, bounded, the oldest forgotten first.
   */
  readonly #presigners = new Map<string, S3RequestPresigner>();
  #address: Promise<ObjectAddress> | undefined;

  constructor(bucket: Pick<BucketConfig, 'name' | 'region' | 'endpoint' | 'forcePathStyle'>) {
    this.#bucket = bucket;
  }

  #presignerFor(credentials: SigningCredentials): S3RequestPresigner {
    const id = `${credentials.accessKeyId}:${credentials.sessionToken ?? ''}`;
    let presigner = this.#presigners.get(id);
    if (!presigner) {
      presigner = new S3RequestPresigner({
        region: this.#bucket.region,
        sha256: Hash.bind(null, 'sha256'),
        credentials: {
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: credentials.secretAccessKey,
          ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
        },
      });
      if (this.#presigners.size >= MAX_PRESIGNERS)
        this.#presigners.delete(this.#presigners.keys().next().value!);
      this.#presigners.set(id, presigner);
    }
    return presigner;
  }

  async sign(credentials: SigningCredentials, request: ObjectUrlRequest): Promise<string> {
    const address = await this.#addressOnce();
    const headers: Record<string, string> = { ...request.signedHeaders };
    const query: Record<string, string> = { ...request.query, 'x-id': request.operation };
    const presigned = await this.#presignerFor(credentials).presign(
      new HttpRequest({
        protocol: address.protocol,
        hostname: address.hostname,
        ...(address.port !== undefined ? { port: address.port } : {}),
        method: request.operation === 'GetObject' ? 'GET' : 'PUT',
        path: address.pathPrefix + request.key.split('/').map(encodeSegment).join('/'),
        query,
        headers,
      }),
      {
        expiresIn: request.expiresInSeconds,
        signingDate: request.signingDate,
        // The presigner leaves content-type unsigned by default; a signed one must be sent as signed.
        signableHeaders: new Set(Object.keys(headers).map((name) => name.toLowerCase())),
      },
    );
    return formatUrl(presigned);
  }

  #addressOnce(): Promise<ObjectAddress> {
    this.#address ??= this.#probe();
    // A failed probe (it makes no network call, so only a misconfiguration) is tried again.
    this.#address.catch(() => {
      this.#address = undefined;
    });
    return this.#address;
  }

  async #probe(): Promise<ObjectAddress> {
    const bucket = this.#bucket;
    const client = new S3Client({
      region: bucket.region,
      ...(bucket.endpoint ? { endpoint: bucket.endpoint } : {}),
      forcePathStyle: bucket.forcePathStyle,
      credentials: { accessKeyId: 'keywarden-probe', secretAccessKey: 'keywarden-probe' },
    });
    try {
      const url = new URL(
        await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket.name, Key: SENTINEL_KEY }), {
          expiresIn: 60,
        }),
      );
      const at = url.pathname.lastIndexOf(SENTINEL_KEY);
      if (at < 0) throw new Error(`cannot tell where bucket ${bucket.name} keeps its object keys`);
      return {
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        pathPrefix: url.pathname.slice(0, at),
      };
    } finally {
      client.destroy();
    }
  }
}

/** A signed request as a URL (the query already holds the signature). */
function formatUrl(request: SignedRequest): string {
  const port = request.port !== undefined ? `:${request.port}` : '';
  const query = Object.entries(request.query ?? {})
    .flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).map(
        (item) => `${encodeSegment(name)}=${encodeSegment(String(item ?? ''))}`,
      ),
    )
    .join('&');
  return `${request.protocol}//${request.hostname}${port}${request.path}${query ? `?${query}` : ''}`;
}
