import type { OidcProviderConfig } from '../../config/auth-schema.ts';
import { readClaim } from '../claim-path.ts';
import { isTrue } from '../document-claims.ts';
import type { Principal } from '../principal.ts';

type Claims = Readonly<Record<string, unknown>>;

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
  const subject = asString(readClaim(claims, claimsConfig.subject));
  if (!subject) return undefined;
  const mapped: Record<string, string | readonly string[]> = {};
  const name = asString(readClaim(claims, claimsConfig.name));
  if (name) mapped.name = name;
  const email = asString(readClaim(claims, claimsConfig.email));
  // An address the IdP does not vouch for must not reach role rules or scope templates.
  const verified =
    claimsConfig.emailVerified === undefined || isTrue(readClaim(claims, claimsConfig.emailVerified));
  if (email && verified) mapped.email = email;
  if (claimsConfig.groups) mapped.groups = asStrings(readClaim(claims, claimsConfig.groups)) ?? [];
  for (const extra of claimsConfig.extra) {
    const value = readClaim(claims, extra);
    const kept = typeof value === 'string' ? value : Array.isArray(value) ? asStrings(value) : undefined;
    if (kept !== undefined) mapped[extra] = kept;
  }
  return { provider, subject, kind: 'user', claims: mapped };
}
