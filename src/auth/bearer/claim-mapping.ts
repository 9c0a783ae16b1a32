import type { JWTPayload } from 'jose';
import type { BearerIssuerConfig } from '../../config/bearer-schema.ts';
import { readClaim } from '../claim-path.ts';
import type { Principal } from '../principal.ts';

type ClaimValue = string | readonly string[];

/** Only strings and string lists reach the principal; numbers and booleans become strings. */
function toClaimValue(value: unknown): ClaimValue | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    return value.filter((member): member is string => typeof member === 'string');
  }
  return undefined;
}

/** `groups` is always a list, even when an IdP sends a single group as a string. */
function toGroups(value: unknown): readonly string[] | undefined {
  const mapped = toClaimValue(value);
  if (mapped === undefined) return undefined;
  return typeof mapped === 'string' ? mapped.split(/[\s,]+/).filter(Boolean) : mapped;
}

/**
 * The verified token's claims as the same principal shape a browser login produces, so
 * role mapping and scope templates do not care how the caller signed in. Returns
 * undefined when the subject claim is missing or not a non-empty string.
 */
export function principalFromClaims(
  issuerName: string,
  config: BearerIssuerConfig,
  payload: JWTPayload,
): Principal | undefined {
  const subject = payload[config.claims.subject];
  if (typeof subject !== 'string' || subject.length === 0) return undefined;
  const claims: Record<string, ClaimValue> = {};
  const name = toClaimValue(readClaim(payload, config.claims.name));
  if (typeof name === 'string') claims.name = name;
  const email = toClaimValue(readClaim(payload, config.claims.email));
  if (typeof email === 'string') claims.email = email;
  const groups = toGroups(readClaim(payload, config.claims.groups));
  if (groups) claims.groups = groups;
  for (const [claim, source] of Object.entries(config.claims.extra)) {
    const value = toClaimValue(readClaim(payload, source));
    if (value !== undefined) claims[claim] = value;
  }
  return { provider: config.provider ?? issuerName, subject, kind: 'user', claims };
}
