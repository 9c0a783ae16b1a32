import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** One S3 object as the local AWS keeps it. */
export interface StoredObject {
  body: Buffer;
  contentType?: string;
  etag: string;
  lastModified?: Date;
  metadata?: Record<string, string>;
}

/** What a bucket listing needs of an object, without its body. */
export interface ObjectSummary {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

/** Where the local S3 keeps objects: in memory (tests) or in a folder (survives restarts). */
export interface ObjectStore {
  get(bucket: string, key: string): Promise<StoredObject | undefined>;
  put(bucket: string, key: string, object: StoredObject): Promise<void>;
  delete(bucket: string, key: string): Promise<void>;
  /** Every object of the bucket, in no particular order. */
  list(bucket: string): Promise<ObjectSummary[]>;
}

/** Objects in a Map keyed `<bucket>/<key>`, which tests read directly. */
export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, StoredObject>();

  async get(bucket: string, key: string): Promise<StoredObject | undefined> {
    return this.objects.get(`${bucket}/${key}`);
  }

  async put(bucket: string, key: string, object: StoredObject): Promise<void> {
    this.objects.set(`${bucket}/${key}`, object);
  }

  async delete(bucket: string, key: string): Promise<void> {
    this.objects.delete(`${bucket}/${key}`);
  }

  async list(bucket: string): Promise<ObjectSummary[]> {
    const prefix = `${bucket}/`;
    return [...this.objects.entries()]
      .filter(([id]) => id.startsWith(prefix))
      .map(([id, object]) => ({
        key: id.slice(prefix.length),
        size: object.body.length,
        etag: object.etag,
        lastModified: object.lastModified ?? new Date(0),
      }));
  }
}

interface ObjectHeader {
  key: string;
  etag: string;
  size: number;
  lastModified: string;
  contentType?: string;
  metadata?: Record<string, string>;
}

const HEADER_LENGTH_BYTES = 4;
/** Bucket names are DNS names; anything else never becomes a folder name. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Objects in a folder, one file per object: `<dir>/<bucket>/<sha256 of the key>.object`,
 * holding a 4-byte header length, a JSON header (key, ETag, type, metadata) and the body.
 * One file per object means one atomic rename per write, so a reader never pairs one write's
 * header with another's body. Keys are hashed because S3 keys may hold `..`, `//` or 1,024
 * bytes, none of which belong in a file name. An index of headers is kept in memory; bodies
 * are read when asked for.
 */
export class FileObjectStore implements ObjectStore {
  readonly #dir: string;
  readonly #index = new Map<string, ObjectHeader>();
  /** Writes run one after another, so two writes of one key finish in the order they came. */
  #writes: Promise<unknown> = Promise.resolve();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /** Reads the headers of the objects kept in the folder; the folder is made at the first write. */
  static async open(dir: string): Promise<FileObjectStore> {
    const store = new FileObjectStore(dir);
    const buckets = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const bucket of buckets) {
      if (!bucket.isDirectory() || !BUCKET_NAME.test(bucket.name)) continue;
      for (const file of await readdir(path.join(dir, bucket.name))) {
        if (!file.endsWith('.object')) continue;
        const header = await readHeader(path.join(dir, bucket.name, file)).catch(() => undefined);
        if (header) store.#index.set(`${bucket.name}/${header.key}`, header);
      }
    }
    return store;
  }

  #file(bucket: string, key: string): string {
    if (!BUCKET_NAME.test(bucket)) throw new Error(`not a bucket name: ${bucket}`);
    return path.join(this.#dir, bucket, `${createHash('sha256').update(key).digest('hex')}.object`);
  }

  #serially<T>(write: () => Promise<T>): Promise<T> {
    const next = this.#writes.then(write, write);
    this.#writes = next.catch(() => undefined);
    return next;
  }

  async get(bucket: string, key: string): Promise<StoredObject | undefined> {
    if (!this.#index.has(`${bucket}/${key}`)) return undefined;
    let content: Buffer;
    try {
      content = await readFile(this.#file(bucket, key));
    } catch {
      return undefined; // deleted meanwhile
    }
    const headerLength = content.readUInt32BE(0);
    const header = JSON.parse(
      content.subarray(HEADER_LENGTH_BYTES, HEADER_LENGTH_BYTES + headerLength).toString('utf8'),
    ) as ObjectHeader;
    return {
      body: content.subarray(HEADER_LENGTH_BYTES + headerLength),
      etag: header.etag,
      lastModified: new Date(header.lastModified),
      ...(header.contentType !== undefined ? { contentType: header.contentType } : {}),
      ...(header.metadata !== undefined ? { metadata: header.metadata } : {}),
    };
  }

  put(bucket: string, key: string, object: StoredObject): Promise<void> {
    return this.#serially(async () => {
      const header: ObjectHeader = {
        key,
        etag: object.etag,
        size: object.body.length,
        lastModified: (object.lastModified ?? new Date()).toISOString(),
        ...(object.contentType !== undefined ? { contentType: object.contentType } : {}),
        ...(object.metadata !== undefined ? { metadata: object.metadata } : {}),
      };
      const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
      const length = Buffer.alloc(HEADER_LENGTH_BYTES);
      length.writeUInt32BE(headerBytes.length);
      const file = this.#file(bucket, key);
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const partial = `${file}.${randomBytes(6).toString('hex')}.partial`;
      await writeFile(partial, Buffer.concat([length, headerBytes, object.body]), { mode: 0o600 });
      await rename(partial, file);
      this.#index.set(`${bucket}/${key}`, header);
    });
  }

  delete(bucket: string, key: string): Promise<void> {
    return this.#serially(async () => {
      await rm(this.#file(bucket, key), { force: true });
      this.#index.delete(`${bucket}/${key}`);
    });
  }

  async list(bucket: string): Promise<ObjectSummary[]> {
    const prefix = `${bucket}/`;
    return [...this.#index.entries()]
      .filter(([id]) => id.startsWith(prefix))
      .map(([, header]) => ({
        key: header.key,
        size: header.size,
        etag: header.etag,
        lastModified: new Date(header.lastModified),
      }));
  }
}

async function readHeader(file: string): Promise<ObjectHeader> {
  const handle = await open(file, 'r');
  try {
    const length = Buffer.alloc(HEADER_LENGTH_BYTES);
    await handle.read(length, 0, HEADER_LENGTH_BYTES, 0);
    const header = Buffer.alloc(length.readUInt32BE(0));
    await handle.read(header, 0, header.length, HEADER_LENGTH_BYTES);
    return JSON.parse(header.toString('utf8')) as ObjectHeader;
  } finally {
    await handle.close();
  }
}
