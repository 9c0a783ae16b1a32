import { KeywardenError } from './errors.ts';
import { abortReason, type KeywardenApi, sleep } from './keywarden-api.ts';
import { isTransientUploadFailure, putObject } from './object-transfer.ts';
import { presign, presignMultipart } from './presign.ts';

const MiB = 1024 * 1024;
/** S3's limits: parts of 5 MiB (but the last) to 5 GiB, at most 10,000 parts; a single PUT up to 5 GiB. */
const S3_MIN_PART_SIZE = 5 * MiB;
const S3_MAX_PART_SIZE = 5 * 1024 * MiB;
const S3_MAX_PARTS = 10_000;
/** Part URLs asked for per signParts request (keywarden's `presign.multipart.maxPartsPerRequest` is 100 by default). */
const SIGN_BATCH = 10;

export interface UploadProgress {
  /** Bytes S3 has received so far (never decreasing, even when a part is sent again). */
  loaded: number;
  total: number;
}

export interface UploadOptions {
  /** The object key, relative to the caller's own prefix (keywarden builds the full key). */
  key: string;
  /** A bucket name from keywarden's config; default: its first bucket. */
  bucket?: string;
  /** Default: the Blob's own type, else `application/octet-stream`. */
  contentType?: string;
  /**
   * Browsers and React Native report bytes as they are sent (XMLHttpRequest); elsewhere (Node)
   * progress moves when a part, or the whole single PUT, is done.
   */
  onProgress?: (progress: UploadProgress) => void;
  /** Aborts the transfer; a multipart upload is then aborted on S3 too, so no parts are left behind. */
  signal?: AbortSignal;
  /** Objects larger than this go up in parts (default 16 MiB). */
  multipartThreshold?: number;
  /** Part size (default 8 MiB, at least S3's 5 MiB; grown when the object would need more than 10,000 parts). */
  partSize?: number;
  /** Parts in flight at once (default 4). */
  concurrency?: number;
  /** Further tries of a part or single PUT that failed transiently, each with a fresh URL (default 3). */
  retries?: number;
}

export interface UploadResult {
  bucket: string;
  /** The full object key, prefix included. */
  key: string;
  etag: string | undefined;
  /** The multipart upload id, when the object went up in parts. */
  uploadId?: string;
}

/** Monotonic byte progress over parts that may be sent more than once. */
function progressTracker(total: number, onProgress: UploadOptions['onProgress']) {
  const sent = new Map<number, number>();
  let sum = 0;
  let reported = -1;
  const report = () => {
    if (onProgress && sum > reported) {
      reported = sum;
      onProgress({ loaded: Math.min(sum, total), total });
    }
  };
  return {
    start: report,
    update(part: number, loaded: number) {
      sum += loaded - (sent.get(part) ?? 0);
      sent.set(part, loaded);
      report();
    },
  };
}

/** Runs `attempt` again after a transient upload failure, with a short growing pause. */
async function withRetries<T>(
  retries: number,
  signal: AbortSignal,
  attempt: (n: number) => Promise<T>,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (signal.aborted || n >= retries || !isTransientUploadFailure(error)) throw error;
      await sleep(Math.min(250 * 2 ** n, 4_000), signal);
    }
  }
}

/** An AbortController that also aborts when the caller's signal does, until `unlink()`. */
function linkedController(signal: AbortSignal | undefined): { controller: AbortController; unlink(): void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(abortReason(signal!));
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return { controller, unlink: () => signal?.removeEventListener('abort', onAbort) };
}

/**
 * Uploads a Blob (a File, a React Native blob, `fs.openAsBlob()` in Node) to S3 through
 * keywarden's presigned URLs: one PUT up to `multipartThreshold`, parts in parallel above it.
 */
export async function upload(api: KeywardenApi, body: Blob, options: UploadOptions): Promise<UploadResult> {
  // An app may pass one long-lived signal to many uploads: no listener outlives its upload.
  const link = linkedController(options.signal);
  try {
    return await transfer(api, body, options, link.controller);
  } finally {
    link.unlink();
  }
}

async function transfer(
  api: KeywardenApi,
  body: Blob,
  options: UploadOptions,
  controller: AbortController,
): Promise<UploadResult> {
  const size = body.size;
  const contentType = options.contentType || body.type || 'application/octet-stream';
  const retries = options.retries ?? 3;
  const signal = controller.signal;
  const progress = progressTracker(size, options.onProgress);
  const target = { key: options.key, ...(options.bucket !== undefined ? { bucket: options.bucket } : {}) };
  if (signal.aborted) throw abortReason(signal);
  progress.start();

  if (size <= Math.min(options.multipartThreshold ?? 16 * MiB, S3_MAX_PART_SIZE)) {
    return withRetries(retries, signal, async () => {
      progress.update(1, 0);
      const signed = await presign(
        api,
        { operation: 'putObject', ...target, contentType, contentLength: size },
        signal,
      );
      const etag = await putObject(api.fetch, {
        url: signed.url,
        headers: signed.headers,
        body,
        signal,
        onProgress: options.onProgress && ((loaded) => progress.update(1, loaded)),
      });
      progress.update(1, size);
      return { bucket: signed.bucket, key: signed.key, etag: etag ?? undefined };
    });
  }

  const partSize = Math.max(
    Math.min(options.partSize ?? 8 * MiB, S3_MAX_PART_SIZE),
    S3_MIN_PART_SIZE,
    Math.ceil(size / S3_MAX_PARTS),
  );
  const partCount = Math.ceil(size / partSize);
  const created = await presignMultipart(
    api,
    { action: 'create', ...target, contentType, contentLength: size },
    signal,
  );
  const { uploadId } = created;
  const batches = new Map<number, Promise<Map<number, string>>>();

  /** The part's URL from its batch (signed once for all workers), or a fresh one for a retry. */
  const partUrl = async (part: number, fresh: boolean): Promise<string> => {
    const first = fresh ? part : part - ((part - 1) % SIGN_BATCH);
    const last = fresh ? part : Math.min(first + SIGN_BATCH - 1, partCount);
    let batch = fresh ? undefined : batches.get(first);
    if (!batch) {
      const partNumbers = Array.from({ length: last - first + 1 }, (_, index) => first + index);
      batch = presignMultipart(api, { action: 'signParts', ...target, uploadId, partNumbers }, signal).then(
        (signed) => new Map((signed.parts ?? []).map((entry) => [entry.partNumber, entry.url ?? ''])),
      );
      if (!fresh) batches.set(first, batch);
    }
    const url = (await batch).get(part);
    if (!url) throw new KeywardenError(200, 'unexpected_response', `keywarden did not sign part ${part}`);
    return url;
  };

  const etags: string[] = [];
  const sendPart = (part: number) =>
    withRetries(retries, signal, async (attempt) => {
      progress.update(part, 0);
      const start = (part - 1) * partSize;
      const etag = await putObject(api.fetch, {
        url: await partUrl(part, attempt > 0),
        body: body.slice(start, Math.min(start + partSize, size)),
        signal,
        onProgress: options.onProgress && ((loaded) => progress.update(part, loaded)),
      });
      if (!etag) {
        throw new KeywardenError(
          200,
          'etag_unreadable',
          "S3's ETag header cannot be read: the bucket's CORS configuration must expose ETag",
        );
      }
      progress.update(part, Math.min(partSize, size - start));
      etags[part - 1] = etag;
    });

  try {
    let next = 1;
    const worker = async () => {
      while (next <= partCount) {
        const part = next++;
        // One failed part stops the others: the upload is aborted below.
        await sendPart(part).catch((error: unknown) => {
          controller.abort(error);
          throw error;
        });
      }
    };
    const workers = Array.from({ length: Math.min(options.concurrency ?? 4, partCount) }, worker);
    // Every PUT must be over before the abort below, or a late part could land after it.
    const settled = await Promise.allSettled(workers);
    if (signal.aborted) throw abortReason(signal);
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;

    const parts = etags.map((etag, index) => ({ partNumber: index + 1, etag }));
    const completed = await presignMultipart(api, { action: 'complete', ...target, uploadId, parts }, signal);
    return { bucket: completed.bucket, key: completed.key, etag: completed.etag, uploadId };
  } catch (error) {
    // Not with `signal`: it may be the reason we are here. Best effort; the error that matters is the first.
    await presignMultipart(api, { action: 'abort', ...target, uploadId }).catch(() => undefined);
    throw error;
  }
}
