import type { AllowedRole } from '../broker/role-mapping.ts';

/** The roles of one AWS account, as the portal lists them. */
export interface AccountGroup {
  /** The friendly name from `portal.accounts`, else the account as configured. */
  readonly heading: string;
  /** The 12-digit id, shown under a friendly name. */
  readonly accountId: string | undefined;
  readonly roles: readonly AllowedRole[];
}

const ACCOUNT_ID = /^\d{12}$/;

/**
 * Groups the allowed roles by account (a role's `account` from config, else the one in its
 * ARN), accounts sorted by the name shown, roles kept in the role-mapping's preference order.
 */
export function groupRolesByAccount(
  roles: readonly AllowedRole[],
  accountNames: Readonly<Record<string, string>>,
): AccountGroup[] {
  const groups = new Map<string, AllowedRole[]>();
  for (const role of roles) {
    const key = role.account ?? '';
    const list = groups.get(key) ?? [];
    list.push(role);
    groups.set(key, list);
  }
  return [...groups]
    .map(([account, list]): AccountGroup => {
      const isId = ACCOUNT_ID.test(account);
      const friendly = accountNames[account];
      return {
        heading: friendly ?? (isId ? `Account ${account}` : account || 'Other roles'),
        accountId: isId ? account : undefined,
        roles: list,
      };
    })
    .sort((a, b) => a.heading.localeCompare(b.heading));
}
