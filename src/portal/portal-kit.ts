import type { Request, RequestHandler, Response } from 'express';
import type { Html } from '../http/html.ts';
import type { SignedInUser } from './portal-layout.ts';
import type { ProviderLink, SiteInfo } from './portal-pages.ts';

/**
 * What the portal lends to pages mounted inside it (the admin's, from src/admin/): its site
 * information, its headers (the CSP), its form chain (form body, signed in, CSRF token checked)
 * and its way of answering a page. Errors they raise become the portal's error pages.
 */
export interface PortalKit {
  readonly info: SiteInfo;
  readonly providerLinks: readonly ProviderLink[];
  /** The portal's page headers: CSP, no framing, no caching. */
  readonly headers: RequestHandler;
  /** For POST forms: headers, the urlencoded body, a signed-in portal user, a valid CSRF token. */
  readonly form: readonly RequestHandler[];
  /** The signed-in portal user (a browser session of a user), or undefined. */
  user(req: Request): SignedInUser | undefined;
  send(res: Response, body: Html, status?: number): void;
}
