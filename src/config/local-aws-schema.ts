import { z } from 'zod';

/**
 * The local AWS (src/local-aws/): Cognito Identity developer-authenticated calls, STS and S3
 * served by keywarden itself under `/local-aws`, so that sign-in → /credentials → presigned
 * PUT and GET work in development with no AWS account. It emulates what the rest of the
 * configuration describes: the identity pool `aws.pool`, the roles `credentials.roles` and
 * the buckets `presign.buckets`. Refused in production. Cross-field rules are in
 * `checkLocalAwsConfig`; the endpoints it serves are filled in by `withDevelopmentServices`.
 */

/** Where the local AWS is mounted on keywarden's own server. */
export const LOCAL_AWS_PATH = '/local-aws';

const ROLE_NAME = /^[a-zA-Z][\w.-]{0,63}$/;

const oneOrMore = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const policyStatementSchema = z
  .strictObject({
    Sid: z.string().optional(),
    Effect: z.enum(['Allow', 'Deny']),
    Action: oneOrMore.optional(),
    NotAction: oneOrMore.optional(),
    Resource: oneOrMore.optional(),
    NotResource: oneOrMore.optional(),
    Condition: z
      .record(
        z.string(),
        z.record(z.string(), z.union([z.string(), z.array(z.string()), z.boolean(), z.number()])),
      )
      .optional(),
  })
  .refine((statement) => (statement.Action === undefined) !== (statement.NotAction === undefined), {
    message: 'a statement has either Action or NotAction',
  })
  .refine((statement) => (statement.Resource === undefined) !== (statement.NotResource === undefined), {
    message: 'a statement has either Resource or NotResource',
  });

/** An IAM permission policy document, as a role's inline policy would be written. */
const policyDocumentSchema = z
  .strictObject({
    Version: z.enum(['2012-10-17', '2008-10-17']).default('2012-10-17'),
    Statement: z.array(policyStatementSchema).min(1),
  })
  .meta({ description: "The role's permission policy.", typeText: 'IAM policy document' });

export const localAwsSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe('Serve Cognito Identity, STS and S3 under `/local-aws`. Refused in production.'),
    dataDir: z
      .string()
      .min(1)
      .default('.keywarden-data')
      .describe(
        'Where S3 objects and the Cognito identities (with the credentials handed out) are kept across restarts; a relative path is taken from the working directory.',
      ),
    rolePolicies: z.record(z.string().regex(ROLE_NAME), policyDocumentSchema).default({}).meta({
      description:
        "Each role's IAM permission policy, by `credentials.roles` name. S3 allows a request only when this policy and the credentials' session policy both allow it. A role not listed may do anything (`s3:*`) in the configured buckets, and only its session policy confines it.",
      key: 'role',
    }),
  })
  .describe(
    'The local AWS (development): Cognito Identity, STS and S3 served by keywarden itself, emulating the pool, roles and buckets of this configuration. See [local-aws.md](local-aws.md).',
  );

export type LocalAwsConfig = z.infer<typeof localAwsSchema>;

interface LocalAwsCheckInput {
  env: string;
  localAws: LocalAwsConfig;
  aws: { region: string; endpoint?: string | undefined };
  credentials: { roles: Record<string, unknown> };
  presign: { buckets: ReadonlyArray<{ region: string; endpoint?: string | undefined }> };
}

export function checkLocalAwsConfig(config: LocalAwsCheckInput, ctx: z.RefinementCtx): void {
  const { localAws, aws } = config;
  if (!localAws.enabled) return;
  const issue = (path: Array<string | number>, message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  if (config.env === 'production') {
    issue(
      ['localAws', 'enabled'],
      'the local AWS issues local credentials with fixed service keys and is refused in production',
    );
  }
  const served = `served by the local AWS while localAws.enabled is true; unset it, or set localAws.enabled: false to use AWS`;
  if (aws.endpoint !== undefined) issue(['aws', 'endpoint'], served);
  config.presign.buckets.forEach((bucket, index) => {
    if (bucket.endpoint !== undefined) issue(['presign', 'buckets', index, 'endpoint'], served);
    if (bucket.region !== aws.region) {
      issue(
        ['presign', 'buckets', index, 'region'],
        `the local AWS serves one region, aws.region (${aws.region})`,
      );
    }
  });
  for (const role of Object.keys(localAws.rolePolicies)) {
    if (!Object.hasOwn(config.credentials.roles, role)) {
      issue(['localAws', 'rolePolicies', role], `no role named "${role}" in credentials.roles`);
    }
  }
}
