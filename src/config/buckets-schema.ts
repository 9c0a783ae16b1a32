import { z } from 'zod';
import { prefixTemplateProblems } from '../presign/key-prefix.ts';
import { SIGV4_MAX_EXPIRES_SECONDS } from '../presign/url-lifetime.ts';

/**
 * S3 buckets keywarden presigns for (`presign.buckets`, a list so the first is the default
 * bucket and names with dots or dashes need no escaping). Each bucket says where callers'
 * objects live (`keyPrefix`), what each role may do, and how large, what type and how
 * long-lived an upload or URL may be. Cross-field rules are in `checkPresignConfig`.
 */

const PRESIGN_OPERATIONS = ['getObject', 'putObject', 'postObject', 'multipart'] as const;
export type PresignOperation = (typeof PRESIGN_OPERATIONS)[number];

/** S3's largest object (multipart), and largest single PUT or POST. */
export const S3_MAX_OBJECT_BYTES = 5 * 1024 ** 4;
export const S3_MAX_SINGLE_UPLOAD_BYTES = 5 * 1024 ** 3;

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };

/** A byte size written as a number or as `512kb`, `100mb`, `5gb`, `1tb`. */
const objectSize = z
  .union([
    z.number().int().min(0),
    z
      .string()
      .regex(/^\d+(b|kb|mb|gb|tb)$/i, 'expected a size such as 100mb or 5gb')
      .transform((value) => {
        const match = /^(\d+)([a-z]+)$/i.exec(value)!;
        return Number(match[1]) * (UNITS[match[2]!.toLowerCase()] ?? 1);
      }),
  ])
  .meta({ typeText: 'size: bytes, or `512kb`, `100mb`, `5gb`, `1tb`' });

/** DNS-compatible S3 bucket names (3-63 lowercase letters, digits, dots, dashes). */
const BUCKET_NAME = /^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const NAME = /^[a-zA-Z][\w.-]{0,63}$/;
/** `type/subtype` or `type/*` (RFC 6838 restricted names), compared case-insensitively. */
const MEDIA_RANGE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$/i;

const operationList = z.array(z.enum(PRESIGN_OPERATIONS));

// biome-ignore lint/suspicious/noTemplateCurlyInString: keywarden's own template syntax, not a JS template
const DEFAULT_KEY_PREFIX = 'users/${identityId}/';
const KEY_PREFIX_DESCRIPTION =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: keywarden's own template syntax, not a JS template
  "Where each identity's objects live. `${identityId}` exactly once and no other variable; ends with `/`; no `.`, `..` or empty segments.";

const lifetimeSeconds = z.number().int().min(1).max(SIGV4_MAX_EXPIRES_SECONDS);

export const bucketSchema = z.strictObject({
  name: z
    .string()
    .regex(BUCKET_NAME, 'expected an S3 bucket name')
    .describe('The bucket (a DNS-style S3 name).'),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z0-9]+)+$/, 'expected an AWS region such as eu-west-1')
    .describe("The bucket's region."),
  endpoint: z
    .url({ protocol: /^https?$/ })
    .optional()
    .meta({
      description:
        'An S3-compatible endpoint (an emulator); https in production. Set by keywarden while the local AWS is on.',
      defaultText: "AWS's regional endpoint",
    }),
  forcePathStyle: z
    .boolean()
    .default(false)
    .describe('Path-style URLs (`<endpoint>/<bucket>/<key>`), which most emulators need.'),
  keyPrefix: z.string().default(DEFAULT_KEY_PREFIX).describe(KEY_PREFIX_DESCRIPTION),
  credentialScope: z.string().regex(NAME).optional().meta({
    description:
      'The scope (a `credentials.scopes` name) the signing credentials are vended with. Confine it to `keyPrefix`, so S3 itself refuses any other key; start-up warns when it does not.',
    defaultText: '`credentials.defaultScope`',
  }),
  operations: z
    .strictObject({
      authenticated: operationList
        .default([...PRESIGN_OPERATIONS])
        .describe('What signed-in callers may do (`multipart` covers every multipart action).'),
      guest: operationList.default([]).describe('What guests may do.'),
      roles: z
        .record(z.string().regex(NAME), operationList)
        .default({})
        .describe('Role name → operations: a caller whose role is listed gets exactly that list.'),
    })
    .prefault({}),
  maxObjectBytes: objectSize
    .default(100 * 1024 ** 2)
    .describe(
      "The largest object a caller may upload; a single PUT or POST is also capped at S3's 5 GiB, multipart at 5 TiB.",
    ),
  contentTypes: z
    .array(z.string().regex(MEDIA_RANGE, 'expected type/subtype or type/*'))
    .default([])
    .describe(
      'Allowed upload media types (`image/jpeg`, `image/*`); when set, uploads must name one. Empty: any type.',
    ),
  defaultExpiresSeconds: lifetimeSeconds.default(900).describe('URL lifetime when a request names none.'),
  maxExpiresSeconds: lifetimeSeconds
    .default(3_600)
    .describe("The longest URL lifetime a request may ask for (at most 7 days, SigV4's limit)."),
});

export const presignSchema = z
  .strictObject({
    buckets: z
      .array(bucketSchema)
      .default([])
      .describe('The buckets keywarden presigns for; the first is the default for requests that name none.'),
    multipart: z
      .strictObject({
        maxPartsPerRequest: z
          .number()
          .int()
          .min(1)
          .max(1_000)
          .default(100)
          .describe('Part URLs one `signParts` request may ask for.'),
        uploadTtlSeconds: z
          .number()
          .int()
          .min(3_600)
          .max(30 * 24 * 3600)
          .default(7 * 24 * 3600)
          .describe('How long keywarden remembers which identity and key an upload id belongs to.'),
      })
      .prefault({}),
  })
  .describe(
    "S3 presigned URLs and multipart uploads for one object under the caller's own prefix, signed with the caller's own scoped credentials. See [presign.md](presign.md).",
  );

export type BucketConfig = z.infer<typeof bucketSchema>;
export type PresignConfig = z.infer<typeof presignSchema>;

/**
 * Rules across presign fields. `known` lists the role and scope names defined elsewhere in
 * the config (credentials section), when that section is present.
 */
export function checkPresignConfig(
  presign: PresignConfig,
  ctx: z.RefinementCtx,
  known: { roles?: readonly string[]; scopes?: readonly string[]; production?: boolean } = {},
): void {
  const issue = (path: Array<string | number>, message: string) =>
    ctx.addIssue({ code: 'custom', path: ['presign', ...path], message });
  const seen = new Set<string>();
  presign.buckets.forEach((bucket, index) => {
    if (seen.has(bucket.name)) issue(['buckets', index, 'name'], `bucket "${bucket.name}" is listed twice`);
    seen.add(bucket.name);
    for (const problem of prefixTemplateProblems(bucket.keyPrefix)) {
      issue(['buckets', index, 'keyPrefix'], problem);
    }
    if (bucket.defaultExpiresSeconds > bucket.maxExpiresSeconds) {
      issue(['buckets', index, 'defaultExpiresSeconds'], 'must not exceed maxExpiresSeconds');
    }
    if (known.production && bucket.endpoint && new URL(bucket.endpoint).protocol !== 'https:') {
      // The presigned URLs carry the caller's access key id and session token to browsers.
      issue(['buckets', index, 'endpoint'], 'must be https in production');
    }
    if (bucket.maxObjectBytes > S3_MAX_OBJECT_BYTES) {
      issue(['buckets', index, 'maxObjectBytes'], 'S3 objects are at most 5 TiB');
    }
    if (
      known.scopes &&
      bucket.credentialScope !== undefined &&
      !known.scopes.includes(bucket.credentialScope)
    ) {
      issue(
        ['buckets', index, 'credentialScope'],
        `no scope named "${bucket.credentialScope}" in credentials.scopes`,
      );
    }
    if (known.roles) {
      for (const role of Object.keys(bucket.operations.roles)) {
        if (!known.roles.includes(role)) {
          issue(
            ['buckets', index, 'operations', 'roles', role],
            `no role named "${role}" in credentials.roles`,
          );
        }
      }
    }
  });
}
