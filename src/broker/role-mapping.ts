import type { Principal } from '../auth/principal.ts';
import { accountOf, type CredentialsConfig, type RoleRuleConfig } from '../config/aws-schema.ts';

/** A role a caller may take, as the portal shows it. */
export interface AllowedRole {
  /** The role's name in config (what `role=` takes). */
  readonly name: string;
  readonly arn: string;
  readonly displayName: string;
  readonly account: string | undefined;
  readonly maxSessionDuration: number;
}

function claimValues(principal: Principal, claim: string): readonly string[] | undefined {
  if (claim === 'sub') return [principal.subject];
  if (claim === 'provider') return [principal.provider];
  const value = principal.claims[claim];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? [value] : value;
}

/**
 * Cognito's rule semantics, extended to multi-valued claims (`groups`): equals / contains /
 * startsWith match when any value does; notEqual when no value equals. A claim the principal
 * lacks matches no rule, notEqual included, so a missing claim never grants a role.
 */
function ruleMatches(rule: RoleRuleConfig, principal: Principal): boolean {
  const values = claimValues(principal, rule.claim);
  if (values === undefined) return false;
  switch (rule.match) {
    case 'equals':
      return values.some((value) => value === rule.value);
    case 'contains':
      return values.some((value) => value.includes(rule.value));
    case 'startsWith':
      return values.some((value) => value.startsWith(rule.value));
    case 'notEqual':
      return values.every((value) => value !== rule.value);
  }
}

/** Role names this principal may take, preferred first; empty means no credentials at all. */
export function allowedRoleNames(config: Readonly<CredentialsConfig>, principal: Principal): string[] {
  if (principal.kind === 'guest') return config.guestRole ? [config.guestRole] : [];
  const matched = new Set<string>();
  for (const rule of config.roleRules) if (ruleMatches(rule, principal)) matched.add(rule.role);
  if (matched.size > 0) return [...matched];
  if (config.ambiguousRoleResolution === 'default' && config.defaultRole) return [config.defaultRole];
  return [];
}

/** The allowed roles with what the portal needs to show them. */
export function allowedRoles(config: Readonly<CredentialsConfig>, principal: Principal): AllowedRole[] {
  return allowedRoleNames(config, principal).flatMap((name) => {
    const role = config.roles[name];
    if (!role) return [];
    return [
      {
        name,
        arn: role.arn,
        displayName: role.displayName ?? name,
        account: role.account ?? accountOf(role.arn),
        maxSessionDuration: role.maxSessionDuration,
      },
    ];
  });
}
