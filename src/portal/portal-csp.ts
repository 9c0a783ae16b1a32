import type { RequestHandler } from 'express';

/**
 * The Content-Security-Policy of portal pages, set on portal routes only (the API keeps
 * helmet's policy from app.ts). Stricter than that default: nothing but this origin's one
 * script and one stylesheet (no inline code, no inline styles), no plugins, no framing,
 * no <base>. Forms may go to this origin and to the AWS federation endpoint, because the
 * console button's POST is answered with a redirect there and browsers apply form-action
 * to redirects after a form submission.
 */
function portalContentSecurityPolicy(federationEndpoint: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    `form-action 'self' ${new URL(federationEndpoint).origin}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/**
 * Headers for every portal page: the CSP above, no framing, a same-origin referrer, and no
 * caching (pages name the user and their roles; credential pages hold secrets).
 */
export function portalPageHeaders(federationEndpoint: string): RequestHandler {
  const policy = portalContentSecurityPolicy(federationEndpoint);
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', policy);
    res.setHeader('X-Frame-Options', 'DENY');
    // same-origin, not helmet's no-referrer: with no-referrer, browsers send `Origin: null`
    // on the portal's own form posts, and the Origin check could not tell them from a
    // sandboxed cross-site page. Nothing leaves for another origin either way.
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    next();
  };
}
