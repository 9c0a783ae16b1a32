/**
 * An app's use of the published package, type-checked by package.test.ts against the built
 * declarations (dist/*.d.ts) exactly as an installed copy resolves them.
 */
import { S3Client } from '@aws-sdk/client-s3';
import {
  createKeywardenClient,
  fromKeywarden,
  type KeywardenError,
  localStorageGuestTokenStorage,
} from '@keywarden/client';

export const s3 = new S3Client({
  region: 'eu-west-1',
  credentials: fromKeywarden({ baseUrl: 'https://auth.example.com', scope: 'uploads', durationSeconds: 900 }),
});

const keywarden = createKeywardenClient({
  baseUrl: 'https://auth.example.com',
  guest: { storage: localStorageGuestTokenStorage() },
  onSignInRequired: (error: KeywardenError) => {
    console.log(error.status, error.code, error.requestId, error.retryAfter);
  },
});

export async function send(file: Blob): Promise<string> {
  const { key } = await keywarden.upload(file, {
    key: 'photos/cat.jpg',
    onProgress: ({ loaded, total }) => console.log(loaded / total),
  });
  return key;
}
