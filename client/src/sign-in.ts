import type { LogoutResult, Session } from './api-types.ts';
import { KeywardenError } from './errors.ts';
import type { KeywardenApi } from './keywarden-api.ts';

/** Who the caller is, or `null` when not signed in (a 401 here is an answer, not a failure). */
export async function session(api: KeywardenApi): Promise<Session | null> {
  try {
    return await api.call<Session>({ method: 'GET', path: '/auth/session', unauthenticatedIsAnswer: true });
  } catch (error) {
    if (error instanceof KeywardenError && error.status === 401) return null;
    throw error;
  }
}

/** The browser sign-in URL of a login provider; `returnTo` is a local path or a configured SPA URL. */
export function signInUrl(api: KeywardenApi, provider: string, returnTo?: string): string {
  const query = returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(returnTo)}`;
  return `${api.baseUrl}/auth/login/${encodeURIComponent(provider)}${query}`;
}

interface BrowserLocation {
  href: string;
  assign(url: string): void;
}

/**
 * Browsers: navigates to the provider's sign-in (a top-level navigation, never a fetch: the
 * IdP's pages must be shown). Back at `returnTo` (default: this page) the session cookie is set.
 */
export function signIn(api: KeywardenApi, provider: string, returnTo?: string): void {
  const location = (globalThis as { location?: BrowserLocation }).location;
  if (!location) throw new Error('signIn() navigates a browser page; elsewhere use signInUrl()');
  location.assign(signInUrl(api, provider, returnTo ?? location.href));
}

/**
 * Ends the browser session. When the IdP has its own sign-out (RP-initiated logout), the
 * answer carries `logoutUrl` for the page to navigate to.
 */
export function signOut(api: KeywardenApi): Promise<LogoutResult> {
  return api.call<LogoutResult>({ method: 'POST', path: '/auth/logout' });
}
