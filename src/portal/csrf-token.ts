import type { Request } from 'express';
import { newSecretToken, sameSecret } from '../auth/secret-token.ts';

declare module '../auth/session/session-data.ts' {
  interface SessionData {
    /** The portal's synchronizer token; a new session (every sign-in) gets a new one. */
    portalCsrf?: string;
  }
}

export const CSRF_FIELD = '_csrf';

/**
 * The portal's forms are classic HTML forms, which cannot send the API's `X-CSRF: 1`
 * header, so they carry a synchronizer token instead (OWASP CSRF cheat sheet): 256 random
 * bits kept in the server-side session and echoed in a hidden field. A cross-site page can
 * make the browser post, but cannot read the token to put in the form. SameSite=Lax on the
 * session cookie and the Origin check below are further layers, not the defence itself.
 */
export function csrfTokenFor(req: Request): string {
  let token = req.session.portalCsrf;
  if (!token) {
    token = newSecretToken();
    req.session.portalCsrf = token;
  }
  return token;
}

/** Whether a form post carries this session's token and, if the browser says where it came from, comes from here. */
export function csrfTokenValid(req: Request, publicOrigin: string): boolean {
  const origin = req.get('origin');
  if (origin !== undefined && origin !== publicOrigin) return false;
  if (req.get('sec-fetch-site') === 'cross-site') return false;
  const expected = req.session?.portalCsrf;
  const body = req.body as Record<string, unknown> | undefined;
  const presented = body?.[CSRF_FIELD];
  if (!expected || typeof presented !== 'string') return false;
  return sameSecret(presented, expected);
}
