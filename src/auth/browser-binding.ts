import type { CookieOptions, Request, Response } from 'express';
import type { Config } from '../config/schema.ts';
import { newSecretToken, secretDigest } from './secret-token.ts';
import { effectiveCookieName } from './session/session-middleware.ts';

export interface Binding {
  /** Goes to the browser only, never to the store or a log. */
  readonly value: string;
  readonly digest: string;
}

/**
 * Ties a sign-in whose answer comes back as a cross-site POST — a SAML response to the ACS, an
 * OIDC `form_post` callback (Sign in with Apple) — to the browser that started it (login CSRF /
 * session swapping, OWASP SAML cheat sheet). `startLogin` sets a random value in a short-lived
 * cookie and keeps only its digest next to the pending request in the shared store; the answer is
 * accepted only from a POST carrying the same cookie. Without it, an attacker could start a login
 * himself, get a valid response for his own account, and have a victim's browser post it.
 *
 * The POST comes cross-site from the IdP's auto-submit form, so a `SameSite=Lax` cookie — the
 * session cookie — is not sent with it; this one is `SameSite=None` (hence `Secure`, which
 * browsers require for None). It is HttpOnly, host-only (`__Host-`, Path=/, no Domain) so no
 * sibling subdomain can plant one, and lives only as long as the pending request.
 */
export class BrowserBinding {
  readonly cookieName: string;
  readonly #cookieOptions: CookieOptions;
  readonly #maxAgeMs: number;

  /** `suffix` names the protocol: `__Host-keywarden` → `__Host-keywarden-saml`, `__Host-keywarden-formpost`. */
  constructor(sessionConfig: Config['session'], suffix: string, requestTtlMs: number) {
    // Insecure dev mode drops the `__Host-` prefix like the session cookie.
    this.cookieName = `${effectiveCookieName(sessionConfig)}-${suffix}`;
    const secure = !sessionConfig.insecureDevCookies;
    this.#cookieOptions = {
      httpOnly: true,
      secure,
      // Browsers drop a SameSite=None cookie that is not Secure. On plain-HTTP development the
      // IdP is normally another localhost port, which is same-site, so Lax still rides its POST.
      sameSite: secure ? 'none' : 'lax',
      path: '/',
    };
    this.#maxAgeMs = requestTtlMs;
  }

  /** A fresh binding for a new request: 256 random bits for the cookie, their digest for the store. */
  mint(): Binding {
    const value = newSecretToken();
    return { value, digest: secretDigest(value) };
  }

  /**
   * The binding this browser already holds, if any, so that two sign-ins started in two tabs
   * both stay bound (a new cookie would orphan the first); else a fresh one.
   */
  reuseOrMint(req: Request): Binding {
    const value = readCookie(req.headers.cookie, this.cookieName);
    return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? { value, digest: secretDigest(value) } : this.mint();
  }

  set(res: Response, binding: Binding): void {
    res.cookie(this.cookieName, binding.value, { ...this.#cookieOptions, maxAge: this.#maxAgeMs });
  }

  /** The digest of the binding cookie this request carries, if any. */
  presented(req: Request): string | undefined {
    const value = readCookie(req.headers.cookie, this.cookieName);
    return value ? secretDigest(value) : undefined;
  }

  /** Spent: the browser has no further use for it (same attributes, or the browser keeps it). */
  clear(res: Response): void {
    res.clearCookie(this.cookieName, this.#cookieOptions);
  }
}

/**
 * One cookie's value from a Cookie header (RFC 6265 §4.2.1: `name=value` pairs separated by
 * `; `). The app has no cookie parser (the session middleware reads only its own); the values
 * compared here are base64url written by `mint`, so no decoding is needed. The first pair of
 * that name wins, as in the browser's own ordering.
 */
function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator > 0 && pair.slice(0, separator).trim() === name) {
      return pair.slice(separator + 1).trim() || undefined;
    }
  }
  return undefined;
}
