import { GetObjectCommand, paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { KeywardenCredentialProvider } from '@keywarden/client';
import { settings } from './settings.ts';

export interface Photo {
  key: string;
  /** The name the photo was uploaded under (the key without the prefix and the time stamp). */
  name: string;
  size: number;
  lastModified: Date | undefined;
  /** A GET URL signed here, in the browser, with the user's own credentials. */
  url: string;
}

/** Where a user's photos live, under their own prefix. */
export const PHOTOS_FOLDER = 'photos/';

/**
 * The user's photos, straight from S3: the AWS SDK with keywarden's credentials
 * (`fromKeywarden`), no keywarden round trip per request. The credentials are scoped to the
 * user's own prefix, so S3 itself refuses anything outside it.
 */
export class PhotoLibrary {
  readonly #s3: S3Client;
  readonly #credentials: KeywardenCredentialProvider;

  constructor(credentials: KeywardenCredentialProvider) {
    this.#credentials = credentials;
    this.#s3 = new S3Client({
      region: settings.region,
      credentials,
      // The local AWS serves path-style URLs only (`<endpoint>/<bucket>/<key>`).
      ...(settings.s3Endpoint ? { endpoint: settings.s3Endpoint, forcePathStyle: true } : {}),
    });
  }

  /** The prefix the user's photos are under: `users/<identityId>/photos/`. */
  async prefix(): Promise<string> {
    const { identityId } = await this.#credentials();
    return `${settings.prefixFor(identityId)}${PHOTOS_FOLDER}`;
  }

  async list(): Promise<Photo[]> {
    const prefix = await this.prefix();
    const photos: Photo[] = [];
    for await (const page of paginateListObjectsV2(
      { client: this.#s3 },
      { Bucket: settings.bucket, Prefix: prefix },
    )) {
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        photos.push({
          key: object.Key,
          name: displayName(object.Key.slice(prefix.length)),
          size: object.Size ?? 0,
          lastModified: object.LastModified,
          url: await getSignedUrl(
            this.#s3,
            new GetObjectCommand({ Bucket: settings.bucket, Key: object.Key }),
            {
              expiresIn: 900,
            },
          ),
        });
      }
    }
    return photos.sort((a, b) => (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0));
  }

  /** Lets go of the SDK client's connections; the app makes a new library after each sign-in. */
  close(): void {
    this.#s3.destroy();
  }
}

/** `1730000000000-cat.jpg` → `cat.jpg`: the time stamp only keeps uploads of one name apart. */
function displayName(relativeKey: string): string {
  return relativeKey.replace(/^\d+-/, '');
}

/** The key an upload goes to, relative to the user's prefix (keywarden adds the prefix). */
export function uploadKey(fileName: string, now = Date.now()): string {
  const safe = fileName.replace(/[^\w.-]+/g, '_').slice(-100) || 'photo';
  return `${PHOTOS_FOLDER}${now}-${safe}`;
}
