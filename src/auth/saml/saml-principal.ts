import type { Profile } from '@node-saml/node-saml';
import type { SamlProviderConfig } from '../../config/saml-schema.ts';
import type { Principal } from '../principal.ts';
import { SamlRejection } from './rejection.ts';

/** Text values of one attribute; node-saml gives a string, an array, or an object for complex values. */
function textValues(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((item): item is string => typeof item === 'string' && item.length > 0);
}

function attributeMap(profile: Profile): Record<string, unknown> {
  const attributes = profile.attributes;
  return typeof attributes === 'object' && attributes !== null ? (attributes as Record<string, unknown>) : {};
}

/**
 * A validated assertion as the same principal shape an OIDC login produces: the provider's
 * name, the NameID as subject, and `email`, `name`, `groups` claims read from the configured
 * attribute names (first name present wins; groups are merged from every listed name).
 */
export function principalFromProfile(
  providerName: string,
  profile: Profile,
  names: SamlProviderConfig['attributes'],
): Principal {
  if (!profile.nameID) throw new SamlRejection('subject_missing');
  const attributes = attributeMap(profile);
  const first = (candidates: readonly string[]) =>
    candidates.map((name) => textValues(attributes[name])[0]).find((value) => value !== undefined);

  const claims: Record<string, string | readonly string[]> = {};
  const email = first(names.email);
  if (email) claims.email = email;
  const displayName = first(names.displayName);
  if (displayName) claims.name = displayName;
  const groups = [...new Set(names.groups.flatMap((name) => textValues(attributes[name])))];
  if (groups.length > 0) claims.groups = groups;

  return { provider: providerName, subject: profile.nameID, kind: 'user', claims };
}
