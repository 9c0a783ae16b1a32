import type { OidcProviderConfig } from '../../config/auth-schema.ts';
import type { Principal } from '../principal.ts';

type Claims = Readonly<Record<string, unknown>>;

/** Follows a dotted path (`realm_access.roles`) through nested claim objects. */
function claimAt(claims: Claims, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let node: unknown = claims;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, key)) {
      return undefined;
    }
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function asStrings(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return undefined;
}

/**
 * Turns verified ID token (and userinfo) claims into a principal, keeping only what the
 * configuration names. Returns undefined when the subject claim is missing or not a string.
 */
export function mapClaims(
  provider: string,
  claimsConfig: OidcProviderConfig['claims'],
  claims: Claims,
): Principal | undefined {
  const subject = asString(claimAt(claims, claimsConfig.subject));
  if (!subject) return undefined;
  const mapped: Record<string, string | readonly string[]> = {};
  const name = asString(claimAt(claims, claimsConfig.name));
  if (name) mapped.name = name;
  const email = asString(claimAt(claims, claimsConfig.email));
  if (email) mapped.email = email;
  if (claimsConfig.groups) mapped.groups = asStrings(claimAt(claims, claimsConfig.groups)) ?? [];
  for (const extra of claimsConfig.extra) {
    const value = claimAt(claims, extra);
    const kept = typeof value === 'string' ? value : Array.isArray(value) ? asStrings(value) : undefined;
    if (kept !== undefined) mapped[extra] = kept;
  }
  return { provider, subject, kind: 'user', claims: mapped };
}
