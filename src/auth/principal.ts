/**
 * Who a request acts for, whatever signed them in: an OIDC or SAML login, a bearer token
 * from a trusted issuer, or a guest. Role mapping and scope templates read only this shape.
 */
export interface Principal {
  /** The login provider's configured name (`dev`, `corp-saml`, a bearer issuer's name, or `guest`). */
  readonly provider: string;
  /** The provider's stable subject identifier (OIDC `sub`, SAML NameID). */
  readonly subject: string;
  readonly kind: 'user' | 'guest';
  /** Mapped claims: `email`, `name`, `groups`, and any configured extras. */
  readonly claims: Readonly<Record<string, string | readonly string[]>>;
}

/** The developer user identifier sent to Cognito: namespaced so two IdPs cannot collide. */
export function developerUserIdentifier(principal: Principal): string {
  return `${principal.provider}:${principal.subject}`;
}
