/**
 * The default caller kind, a browser app with keywarden's session cookie: signed in through a
 * real OIDC provider, every request sent with the cookie (`credentials: 'include'`) and
 * `X-CSRF: 1`. The fetch passed to the client plays the browser's part: it keeps the cookie
 * jar and sends cookies only when the request asks to include them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BrowserSession } from '../../test/support/browser-session.ts';
import { loginThroughIdp, startOidcProvider, type TestIdp } from '../../test/support/oidc-provider.ts';
import { createKeywardenClient, type FetchLike, type KeywardenError } from '../src/index.ts';
import { startKeywarden, type TestKeywarden } from './support/keywarden.ts';

const PUBLIC_URL = 'https://keywarden.test';
const CLIENT_ID = 'keywarden-client-tests';
const CLIENT_SECRET = 'client-tests-secret-0123456789abcdef';

let idp: TestIdp;
let keywarden: TestKeywarden;

before(async () => {
  idp = await startOidcProvider({
    clients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: [`${PUBLIC_URL}/auth/callback/corp`],
      },
    ],
  });
  keywarden = await startKeywarden({
    server: { publicUrl: PUBLIC_URL, trustProxyHops: 1 },
    session: { secret: 'client-tests-session-secret-0123456789abcdef' },
    auth: {
      providers: {
        corp: { kind: 'oidc', issuer: idp.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      },
    },
  });
});

after(async () => {
  await keywarden?.close();
  await idp?.stop();
});

/** What a browser does with a fetch to keywarden: cookies from its jar when `credentials: 'include'`. */
function browserFetch(browser: BrowserSession) {
  const sent: Array<{ path: string; headers: Headers; credentials: RequestInit['credentials'] }> = [];
  const fetchImpl: FetchLike = async (url, init) => {
    const headers = new Headers(init.headers);
    sent.push({ path: new URL(url).pathname, headers, credentials: init.credentials });
    // keywarden sits behind TLS in production; the test proxy says so.
    headers.set('x-forwarded-proto', 'https');
    if (init.credentials === 'include' && browser.cookieHeader())
      headers.set('cookie', browser.cookieHeader());
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    browser.store(response.headers.getSetCookie());
    return response;
  };
  return { fetchImpl, sent };
}

async function signedInBrowser(username: string): Promise<BrowserSession> {
  idp.setAccount(username, { sub: username, email: `${username}@example.com` });
  const browser = new BrowserSession(keywarden.url);
  const { callback } = await loginThroughIdp(browser, '/auth/login/corp?returnTo=/app', username);
  assert.equal(callback?.status, 303);
  return browser;
}

describe('browser session caller (the default)', () => {
  it('session(), credentials and signOut() with the cookie and X-CSRF: 1; after sign-out, 401 goes to the hook', async () => {
    const browser = await signedInBrowser('alice');
    const { fetchImpl, sent } = browserFetch(browser);
    const required: KeywardenError[] = [];
    const client = createKeywardenClient({
      baseUrl: keywarden.url,
      fetch: fetchImpl,
      onSignInRequired: (error) => {
        required.push(error);
      },
    });

    const me = await client.session();
    assert.equal(me?.kind, 'user');
    assert.equal(me?.provider, 'corp');
    assert.equal(me?.subject, 'alice');
    assert.equal(me?.authMethod, 'session');

    const credentials = await client.credentials()();
    assert.equal(keywarden.aws.credentials.get(credentials.accessKeyId)?.identityId, credentials.identityId);
    const vend = sent.find((request) => request.path === '/credentials')!;
    assert.equal(vend.credentials, 'include');
    assert.equal(vend.headers.get('x-csrf'), '1');
    assert.equal(vend.headers.get('authorization'), null);

    const { logoutUrl } = await client.signOut();
    assert.ok(logoutUrl?.startsWith(`${idp.issuer}/session/end`), "the IdP's own sign-out to navigate to");
    assert.equal(await client.session(), null, 'signed out: no session, and no hook for who-am-I');
    assert.equal(required.length, 0, JSON.stringify(required.map((e) => [e.code, e.message])));
    await assert.rejects(client.credentials()(), { status: 401, code: 'unauthenticated' });
    assert.deepEqual(
      required.map((error) => [error.status, error.code]),
      [[401, 'unauthenticated']],
    );
  });

  it('signInUrl() is keywarden login start; signIn() navigates the page there, back to it by default', async () => {
    const client = createKeywardenClient({ baseUrl: keywarden.url });
    const url = client.signInUrl('corp', '/app');
    assert.equal(url, `${keywarden.url}/auth/login/corp?returnTo=%2Fapp`);
    const start = await fetch(url, { headers: { 'x-forwarded-proto': 'https' }, redirect: 'manual' });
    assert.equal(start.status, 303);
    assert.ok(start.headers.get('location')?.startsWith(idp.issuer), 'on to the IdP');

    const navigations: string[] = [];
    const page = {
      href: 'https://keywarden.test/app/photos?tab=1',
      assign: (to: string) => navigations.push(to),
    };
    Object.assign(globalThis, { location: page });
    try {
      client.signIn('corp');
    } finally {
      delete (globalThis as { location?: unknown }).location;
    }
    assert.deepEqual(navigations, [
      `${keywarden.url}/auth/login/corp?returnTo=${encodeURIComponent('https://keywarden.test/app/photos?tab=1')}`,
    ]);
    assert.throws(() => client.signIn('corp'), /signInUrl/, 'no page to navigate outside a browser');
  });

  it('createGuest() without storage keeps the guest in the browser session', async () => {
    const browser = new BrowserSession(keywarden.url);
    const { fetchImpl } = browserFetch(browser);
    const client = createKeywardenClient({ baseUrl: keywarden.url, fetch: fetchImpl });
    const guest = await client.createGuest();
    assert.equal(guest.guestToken, undefined, 'no token: the session cookie carries the guest');
    const me = await client.session();
    assert.equal(me?.kind, 'guest');
    assert.equal(me?.identityId, guest.identityId);
    const credentials = await client.credentials()();
    assert.equal(credentials.identityId, guest.identityId);
    assert.equal(credentials.role, 'guest');
  });
});
