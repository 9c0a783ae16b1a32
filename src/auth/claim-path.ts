/**
 * A claim by exact name first (`cognito:groups`, `https://example.com/roles` contain no
 * nesting even when they contain dots), then as a dot path into nested objects
 * (`realm_access.roles`). Only own properties are followed, so `__proto__` or `constructor`
 * in a configured path cannot reach the prototype chain.
 */
export function readClaim(claims: Readonly<Record<string, unknown>>, nameOrPath: string): unknown {
  if (Object.hasOwn(claims, nameOrPath)) return claims[nameOrPath];
  let node: unknown = claims;
  for (const segment of nameOrPath.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    if (!Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}
