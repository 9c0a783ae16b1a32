/**
 * Where the app finds keywarden and the bucket. Vite bakes `VITE_*` variables into the build;
 * the defaults are `npm start` on a fresh keywarden checkout (port 8080, the local AWS at
 * `/local-aws`, its bucket `keywarden-local` in us-east-1, the development IdP as `dev`).
 */
const env = import.meta.env;

const keywardenUrl = (env.VITE_KEYWARDEN_URL ?? 'http://localhost:8080').replace(/\/+$/, '');

export const settings = {
  keywardenUrl,
  /** The login provider the Sign in button uses (a key of keywarden's `auth.providers`). */
  provider: env.VITE_KEYWARDEN_PROVIDER ?? 'dev',
  /** S3's endpoint: keywarden's local AWS in development; empty for AWS's own. */
  s3Endpoint: env.VITE_S3_ENDPOINT ?? `${keywardenUrl}/local-aws`,
  region: env.VITE_AWS_REGION ?? 'us-east-1',
  bucket: env.VITE_BUCKET ?? 'keywarden-local',
  /**
   * keywarden's `presign.buckets[].keyPrefix` (its default): each identity's objects live
   * under their own prefix, which the credentials' session policy confines them to.
   */
  prefixFor: (identityId: string) => `users/${identityId}/`,
};
