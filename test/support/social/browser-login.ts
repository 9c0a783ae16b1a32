import type { Response as SupertestResponse } from 'supertest';
import type { BrowserSession } from '../browser-session.ts';

/**
 * A sign-in through a social provider stand-in with plain HTTP, as a browser would make it:
 * keywarden's login URL (303 to the provider), the provider's authorization endpoint (which
 * approves the user signed in there and redirects back), then keywarden's callback. The
 * fragment a provider adds (Facebook's `#_=_`) stays in the browser, as it would.
 *
 *   const { callback } = await socialLogin(browser, '/auth/login/github?returnTo=/app');
 *   const { callbackPath } = await socialLogin(browser, '/auth/login/github', { callback: false });
 */
export interface SocialLogin {
  readonly authorizationUrl: URL;
  /** The provider's own answer to the authorization request. */
  readonly providerAnswer: globalThis.Response;
  /** keywarden path + query the provider sent the browser back to. */
  readonly callbackPath?: string;
  readonly callback?: SupertestResponse;
}

export async function socialLogin(
  browser: BrowserSession,
  loginPath: string,
  options: { callback?: boolean } = {},
): Promise<SocialLogin> {
  const start = await browser.get(loginPath);
  if (start.status !== 303) {
    throw new Error(`login start answered ${start.status}: ${JSON.stringify(start.body)}`);
  }
  const authorizationUrl = new URL(start.headers.location!);
  const providerAnswer = await fetch(authorizationUrl, { redirect: 'manual' });
  const location = providerAnswer.headers.get('location');
  if (providerAnswer.status !== 302 || !location) return { authorizationUrl, providerAnswer };
  const back = new URL(location);
  back.hash = '';
  const callbackPath = `${back.pathname}${back.search}`;
  if (options.callback === false) return { authorizationUrl, providerAnswer, callbackPath };
  const callback = await browser.get(callbackPath);
  return { authorizationUrl, providerAnswer, callbackPath, callback };
}
