import { createHash } from 'node:crypto';
import { NotFoundError } from '../http/errors.ts';
import type { StateStore } from '../store/types.ts';

/**
 * Which identity and which full key each multipart upload id belongs to. An upload id is a
 * bearer capability for S3 only together with credentials allowed on its key, but keywarden
 * signs part URLs and completes uploads for whoever asks, so it must know the id is the
 * caller's own and for the key they name. The record is written when keywarden creates the
 * upload and removed when it completes or aborts it.
 */

export interface UploadRecord {
  readonly bucket: string;
  readonly key: string;
  readonly identityId: string;
  readonly createdAt: string;
}

/** 404 `upload_not_found`: unknown, finished, or someone else's (not told apart on purpose). */
export class UploadNotFoundError extends NotFoundError {
  constructor() {
    super('No such multipart upload for this key.', 'upload_not_found');
  }
}

/** Upload ids are opaque S3 strings; store them hashed so no client text shapes a store key. */
function storeKey(uploadId: string): string {
  return `presign:mpu:${createHash('sha256').update(uploadId).digest('base64url')}`;
}

function isUploadRecord(value: unknown): value is UploadRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.bucket === 'string' &&
    typeof record.key === 'string' &&
    typeof record.identityId === 'string' &&
    typeof record.createdAt === 'string'
  );
}

export class MultipartUploads {
  readonly #store: StateStore;
  readonly #ttlMs: number;

  constructor(store: StateStore, ttlSeconds: number) {
    this.#store = store;
    this.#ttlMs = ttlSeconds * 1000;
  }

  async remember(uploadId: string, record: UploadRecord): Promise<void> {
    await this.#store.set(storeKey(uploadId), JSON.stringify(record), { ttlMs: this.#ttlMs });
  }

  /** The record, if the upload is the caller's and for exactly this bucket and key. */
  async require(
    uploadId: string,
    expected: { bucket: string; key: string; identityId: string },
  ): Promise<UploadRecord> {
    const raw = await this.#store.get(storeKey(uploadId));
    let record: unknown;
    try {
      record = raw === null ? null : JSON.parse(raw);
    } catch {
      record = null;
    }
    if (
      !isUploadRecord(record) ||
      record.identityId !== expected.identityId ||
      record.bucket !== expected.bucket ||
      record.key !== expected.key
    ) {
      throw new UploadNotFoundError();
    }
    return record;
  }

  async forget(uploadId: string): Promise<void> {
    await this.#store.delete(storeKey(uploadId));
  }
}
