import { z } from 'zod';

/**
 * Identity administration (src/admin/): the REST API under `/admin/`, the portal's admin page
 * and `keywarden admin`. Off unless configured, and then only for the callers named here:
 * portal users (and the CLI they signed in) whose mapped groups include an admin group, and
 * bearer callers whose token carries a required claim value. Nobody is an admin by default in
 * production; config/development.yaml makes the development IdP's user `admin` one.
 * Cross-field rules are in `checkAdminConfig`.
 */

const name = z.string().regex(/^[a-z][a-z0-9-]*$/);

export const adminBearerRuleSchema = z.strictObject({
  issuer: name.describe("A `bearer.issuers` entry's name: only tokens that entry verified count."),
  claim: z
    .string()
    .min(1)
    .default('groups')
    .describe("The principal claim (after the issuer's claim mapping) that must hold one of `values`."),
  values: z.array(z.string().min(1)).min(1).describe('The claim values that make the caller an admin.'),
});

export const adminSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe("The admin API (`/admin/*`), the portal's admin page and the suspension checks."),
    groups: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Portal users (browser sessions), and the keywarden CLI they signed in: admins when their mapped `groups` claim includes one of these.',
      ),
    providers: z
      .array(name)
      .default([])
      .describe('Only groups from these login providers count; empty: from every login provider.'),
    bearer: z
      .array(adminBearerRuleSchema)
      .default([])
      .describe('Bearer callers (mobile and API clients): admins when a rule here matches their token.'),
    revokeIssuedCredentials: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            'Revoking a user also denies the AWS credentials already handed out to them: an inline deny policy on each role in `credentials.roles` (needs `iam:GetRolePolicy` and `iam:PutRolePolicy` on them).',
          ),
        policyName: z
          .string()
          .regex(/^[\w+=,.@-]{1,128}$/)
          .default('keywarden-revoked-credentials')
          .describe("The inline policy's name on each role."),
        maxPolicyChars: z
          .number()
          .int()
          .min(1_024)
          .max(10_240)
          .default(10_240)
          .describe(
            "The most characters (whitespace excluded, as IAM counts) the policy may take. IAM allows 10,240 for all of a role's inline policies together: leave room for the others.",
          ),
      })
      .prefault({})
      .describe('Revoking credentials already issued (the IAM side of a revocation).'),
  })
  .describe(
    "Identity administration: who may administer, and the revocation of credentials already issued. Off unless configured; the development config makes the development IdP's user `admin` an admin. See [administration.md](administration.md).",
  );

export type AdminConfig = z.infer<typeof adminSchema>;

interface AdminCheckInput {
  admin: AdminConfig;
  auth: { providers: Record<string, unknown>; devIdp: { enabled: boolean; provider: string } };
  bearer: { issuers: Record<string, unknown> };
}

export function checkAdminConfig(config: AdminCheckInput, ctx: z.RefinementCtx): void {
  const { admin } = config;
  if (!admin.enabled) return;
  const issue = (path: Array<string | number>, message: string) =>
    ctx.addIssue({ code: 'custom', path: ['admin', ...path], message });
  if (admin.groups.length === 0 && admin.bearer.length === 0) {
    issue(
      ['enabled'],
      'admin is enabled but nobody could administer: set admin.groups (portal users) or admin.bearer (bearer callers)',
    );
  }
  const loginProviders = new Set(Object.keys(config.auth.providers));
  if (config.auth.devIdp.enabled) loginProviders.add(config.auth.devIdp.provider);
  admin.providers.forEach((provider, index) => {
    if (!loginProviders.has(provider)) issue(['providers', index], `no login provider named "${provider}"`);
  });
  if (admin.providers.length > 0 && admin.groups.length === 0) {
    issue(['providers'], 'admin.providers only narrows admin.groups, which is empty');
  }
  admin.bearer.forEach((rule, index) => {
    if (!Object.hasOwn(config.bearer.issuers, rule.issuer)) {
      issue(['bearer', index, 'issuer'], `no bearer issuer named "${rule.issuer}" in bearer.issuers`);
    }
  });
}
