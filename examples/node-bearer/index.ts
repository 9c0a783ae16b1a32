/**
 * keywarden from Node with a bearer token: fromKeywarden() is the S3Client's credential
 * provider, so every S3 call is signed with the caller's own scoped, short-lived credentials,
 * refreshed before they expire. The script writes one object under the caller's prefix and
 * lists the prefix.
 *
 *   KEYWARDEN_URL=https://auth.example.com KEYWARDEN_TOKEN=<JWT> BUCKET=my-bucket \
 *   AWS_REGION=eu-west-1 KEYWARDEN_SCOPE=app node index.ts
 *
 * S3_ENDPOINT points the S3Client at an S3-compatible endpoint (path-style), e.g. a local AWS.
 */
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fromKeywarden } from '@keywarden/client';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const bucket = required('BUCKET');
const endpoint = process.env.S3_ENDPOINT;

const credentials = fromKeywarden({
  baseUrl: required('KEYWARDEN_URL'),
  // Called for every request to keywarden: answer a current token (refresh it here if yours expire).
  getToken: () => required('KEYWARDEN_TOKEN'),
  ...(process.env.KEYWARDEN_SCOPE ? { scope: process.env.KEYWARDEN_SCOPE } : {}),
  onSignInRequired: (error) => {
    console.error(`keywarden refused the token (${error.code}); sign in again`);
  },
});

const s3 = new S3Client({
  region: required('AWS_REGION'),
  credentials,
  ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
});

// The credentials are confined to the caller's own prefix; the identity id names it.
const { identityId } = await credentials();
const prefix = `users/${identityId}/`;

await s3.send(
  new PutObjectCommand({
    Bucket: bucket,
    Key: `${prefix}hello-from-node.txt`,
    Body: `Hello from Node, ${new Date().toISOString()}\n`,
    ContentType: 'text/plain',
  }),
);
const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
console.log(`identity ${identityId}`);
for (const object of listed.Contents ?? []) console.log(`${object.Key}\t${object.Size} bytes`);
s3.destroy();
