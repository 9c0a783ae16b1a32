import type { Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { AuditLog } from '../observability/audit.ts';
import type { StateStore } from '../store/types.ts';
import type { SessionRecord } from './session/session.ts';

/** What every kind of login provider is built with (src/auth/providers.ts). */
export interface LoginProviderDeps {
  config: Readonly<Config>;
  store: StateStore;
  logger: Logger;
  audit: AuditLog;
  /**
   * Called when the IdP signs a user out (OIDC back-channel logout with a `sub`, SAML
   * LogoutRequest): grants derived from the IdP login that outlive the browser session — the
   * CLI's device-grant tokens — end with it. Answers how many were revoked.
   */
  onIdpLogout?: (provider: string, subject: string) => Promise<number>;
}

/**
 * One configured way for a browser to sign in (an OIDC, plain OAuth 2.0 or SAML IdP). The auth router
 * (src/http/routes/auth.ts) owns the shared routes — login, logout, session — and asks the
 * provider for the protocol-specific parts. Providers are built by src/auth/providers.ts.
 */
export interface LoginProvider {
  /** The config key (`auth.providers.<name>`), e.g. `dev`, `corp`. */
  readonly name: string;
  readonly kind: 'oidc' | 'oauth2' | 'saml';
  readonly displayName: string;
  /** Redirect the browser to the IdP; `returnTo` is already validated (safe local path or allowed origin URL). */
  startLogin(req: Request, res: Response, returnTo: string): Promise<void>;
  /** Provider-specific routes, mounted by the auth router under /auth (OIDC/OAuth 2.0 callback, SAML ACS/metadata/SLO...). */
  routes(): Router;
  /** Where to send the browser after the local session is deleted (RP/SP-initiated logout), if the IdP supports it. */
  logoutUrl?(session: SessionRecord): Promise<string | undefined>;
  /**
   * Called when a session is used, to keep the IdP session alive (e.g. an OIDC refresh);
   * may update `session.idp` in place. Answers false when the IdP ended the session.
   */
  refreshSession?(session: SessionRecord): Promise<boolean>;
}
