import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for cache entries. The store (Redis) never sees credentials in clear, and an
 * entry copied to another cache key fails to decrypt because the key is the GCM additional
 * data. Rotation: new entries use the newest key; entries made with an older listed key still
 * decrypt until they expire (at most one credential lifetime), after which the old key can go.
 */
export interface CacheKey {
  readonly id: string;
  readonly key: Buffer;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class CacheKeyRing {
  readonly #keys: readonly CacheKey[];

  constructor(keys: readonly CacheKey[]) {
    if (keys.length === 0) throw new Error('the cache key ring needs at least one key');
    for (const { key } of keys) if (key.length !== 32) throw new Error('cache keys must be 32 bytes');
    this.#keys = keys;
  }

  /** A ring with one random key: entries do not survive a restart and are not shared across instances. */
  static ephemeral(): CacheKeyRing {
    return new CacheKeyRing([{ id: `boot-${randomBytes(4).toString('hex')}`, key: randomBytes(32) }]);
  }

  get currentKeyId(): string {
    return this.#keys[0]!.id;
  }

  encrypt(plaintext: string, aad: string): string {
    const { id, key } = this.#keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [iv, body, cipher.getAuthTag()].map((part) => part.toString('base64url'));
    return [VERSION, id, ...parts].join('.');
  }

  /** Answers undefined for anything it cannot authenticate: unknown key, tampering, wrong AAD. */
  decrypt(sealed: string, aad: string): string | undefined {
    const [version, id, iv, body, tag] = sealed.split('.');
    if (version !== VERSION || !id || !iv || body === undefined || !tag) return undefined;
    const entry = this.#keys.find((candidate) => candidate.id === id);
    if (!entry) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', entry.key, Buffer.from(iv, 'base64url'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      return undefined;
    }
  }
}
