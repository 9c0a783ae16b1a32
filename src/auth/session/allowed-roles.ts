import type { Principal } from '../principal.ts';

/**
 * What `GET /auth/session` reports as `allowedRoles`: the role names this principal may ask
 * for. The credentials broker supplies the real resolver (role mapping) through AppDeps or
 * app.ts; until then nobody is shown any role.
 */
export type AllowedRolesResolver = (principal: Principal) => Promise<readonly string[]> | readonly string[];

export const noAllowedRoles: AllowedRolesResolver = () => [];
