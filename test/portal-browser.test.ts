import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  ADMIN_ARN,
  AUDITOR_ARN,
  CONSOLE_URL,
  COOKIE,
  type PortalStack,
  READER_ARN,
  startPortalStack,
} from './fixtures/portal/stack.ts';
import { launchBrowser, screenshotOnFailure } from './support/browser.ts';

/**
 * The portal in a real browser (Debian's Chromium through playwright-core): corporate
 * sign-in at a real OIDC IdP, exactly the allowed roles, credentials with copy buttons and a
 * countdown, the console through the federation stand-in with a valid sign-in token, and
 * sign-out; a user whose groups grant nothing sees a clear page and can take nothing. The
 * pages run under the portal's strict CSP, so any inline script or style would be reported.
 */

let stack: PortalStack;
let browser: Browser;
const secrets: string[] = [];

async function personPage(): Promise<{ context: BrowserContext; page: Page; cspViolations: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
  });
  return { context, page, cspViolations };
}

/** From the portal's sign-in chooser through the IdP's login form, back to the portal. */
async function signIn(page: Page, username: string): Promise<void> {
  await page.goto(`${stack.url}/portal`);
  assert.equal(await page.locator('h1').textContent(), 'Sign in');
  await page.getByRole('link', { name: 'Sign in with Corp SSO' }).click();
  await page.waitForURL((url) => url.origin === stack.idp.issuer);
  await page.locator('input[name="login"]').fill(username);
  await Promise.all([
    page.waitForURL(`${stack.url}/portal`),
    page.locator('input[name="login"]').press('Enter'),
  ]);
}

describe('portal in a real browser', () => {
  before(async () => {
    [stack, browser] = await Promise.all([startPortalStack(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    stack?.logs.assertNoneContain(secrets);
    await stack?.close();
  });

  it('signs in, lists exactly the allowed roles, issues credentials, opens the console and signs out', async () => {
    const { context, page, cspViolations } = await personPage();
    await screenshotOnFailure(page, 'portal-alice', async () => {
      await signIn(page, 'alice');

      // The session cookie is the real one: __Host-, Secure, HttpOnly, SameSite=Lax.
      const cookie = (await context.cookies(stack.url)).find((candidate) => candidate.name === COOKIE);
      assert.ok(cookie, 'the __Host- session cookie was accepted by the browser');
      assert.equal(cookie.secure, true);
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Lax');

      assert.equal(await page.locator('h1').textContent(), 'Your AWS roles');
      assert.deepEqual(await page.locator('main h2').allTextContents(), [
        'Production (123456789012)',
        'Command line',
      ]);
      assert.deepEqual(await page.locator('.role h3').allTextContents(), ['Administrator', 'Read-only']);
      assert.equal(await page.getByText('Auditor').count(), 0, 'a role of another group is not shown');
      assert.match((await page.locator('header').textContent()) ?? '', /Signed in as Alice Admin/);
      // The header shows the product's name and its mark, an image from this origin (the CSP allows no other).
      assert.match(
        (await page.locator('header .brand').textContent()) ?? '',
        /^keywarden\s+Example Corp AWS$/,
      );
      assert.equal(
        await page
          .locator('header .brand img')
          .evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0),
        true,
        'the logo loads',
      );
      assert.equal(await page.locator('link[rel="icon"]').getAttribute('href'), '/favicon.ico');
      // Alice has not signed the CLI in anywhere: there is nothing to sign out.
      assert.equal(
        await page.getByRole('button', { name: 'Sign the CLI out on all your devices' }).count(),
        0,
      );
      assert.match(
        (await page.locator('#role-admin-config').textContent()) ?? '',
        new RegExp(`credential_process = keywarden credential-process --url ${stack.url} --role admin`),
      );

      // Get credentials for the administrator role.
      const admin = page.locator('#role-admin');
      await admin.getByLabel('Valid for').selectOption('7200');
      const [response] = await Promise.all([
        page.waitForResponse((candidate) => candidate.url() === `${stack.url}/portal/credentials`),
        admin.getByRole('button', { name: /Get credentials/ }).click(),
      ]);
      assert.equal(response.status(), 200);
      assert.equal(response.headers()['cache-control'], 'no-store');
      await page.waitForLoadState('domcontentloaded');
      assert.equal(await page.locator('h1').textContent(), 'Credentials for Administrator');

      const exports = (await page.locator('#exports').textContent()) ?? '';
      const accessKeyId = /export AWS_ACCESS_KEY_ID='([^']+)'/.exec(exports)?.[1];
      const secretAccessKey = /export AWS_SECRET_ACCESS_KEY='([^']+)'/.exec(exports)?.[1];
      const sessionToken = /export AWS_SESSION_TOKEN='([^']+)'/.exec(exports)?.[1];
      assert.ok(accessKeyId && secretAccessKey && sessionToken, exports);
      secrets.push(secretAccessKey, sessionToken);
      // The session-token line wraps inside the block instead of scrolling sideways.
      for (const id of ['#exports', '#profile', '#powershell']) {
        const overflow = await page
          .locator(id)
          .evaluate((pre: HTMLElement) => ({ scroll: pre.scrollWidth, client: pre.clientWidth }));
        assert.ok(overflow.scroll <= overflow.client, `${id} scrolls sideways: ${JSON.stringify(overflow)}`);
      }
      const vended = stack.aws.credentials.get(accessKeyId);
      assert.equal(vended?.roleArn, ADMIN_ARN, 'the credentials are the administrator role’s, from AWS');
      assert.equal(vended?.secretAccessKey, secretAccessKey);
      assert.ok(vended.expiration - Date.now() > 3_600_000, 'two hours were asked for');
      assert.match((await page.locator('#profile').textContent()) ?? '', /^\[admin\]\naws_access_key_id = /);
      assert.match(
        (await page.locator('#powershell').textContent()) ?? '',
        new RegExp(`\\$Env:AWS_ACCESS_KEY_ID = '${accessKeyId}'`),
      );
      // Script-enhanced: the copy buttons are revealed and the expiry counts down.
      const copyButtons = page.locator('button[data-copy]');
      assert.equal(await copyButtons.count(), 4);
      for (const button of await copyButtons.all()) assert.equal(await button.isVisible(), true);
      await page.waitForFunction(() =>
        /^\d+:\d\d:\d\d left$/.test(document.querySelector('[data-expires-at]')?.textContent ?? ''),
      );
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
      await page.locator('button[data-copy="exports"]').click();
      await page.waitForFunction(
        () => document.querySelector('button[data-copy="exports"]')?.textContent === 'Copied',
      );
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), exports);

      // Open the console as the reader: a POST, then AWS's federation login URL.
      await page.getByRole('link', { name: 'Back to your roles' }).click();
      await Promise.all([
        page.waitForURL((url) => url.href.startsWith(stack.federation.url)),
        page
          .locator('#role-reader')
          .getByRole('button', { name: /Open console/ })
          .click(),
      ]);
      const landed = new URL(page.url());
      assert.equal(landed.searchParams.get('Action'), 'login');
      assert.equal(landed.searchParams.get('Issuer'), `${stack.url}/portal`);
      assert.equal(landed.searchParams.get('Destination'), CONSOLE_URL);
      const signinToken = landed.searchParams.get('SigninToken');
      assert.ok(signinToken && stack.federation.tokens.has(signinToken));
      secrets.push(signinToken);
      assert.equal(await page.locator('h1').textContent(), 'AWS console (stand-in)');
      assert.equal(await page.locator('#role').textContent(), READER_ARN);
      const login = stack.federation.logins.at(-1);
      assert.equal(login?.accepted, true);
      assert.equal(login?.roleArn, READER_ARN);
      assert.deepEqual(stack.federation.requests.rejected, []);

      // Sign out: the session ends, and the portal asks to sign in again.
      await page.goto(`${stack.url}/portal`);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForLoadState('domcontentloaded');
      assert.equal(await page.locator('h1').textContent(), 'Signed out');
      assert.ok(
        await page
          .getByRole('link', { name: 'Also sign out of your organisation account' })
          .getAttribute('href'),
      );
      assert.equal(
        (await context.cookies(stack.url)).find((candidate) => candidate.name === COOKIE),
        undefined,
      );
      await page.goto(`${stack.url}/portal`);
      assert.equal(await page.locator('h1').textContent(), 'Sign in');
      assert.deepEqual(cspViolations, [], 'no CSP violation on any portal page');
    });
    await context.close();
  });

  it('shows a user whose groups grant no role a clear page, and refuses any role they post for', async () => {
    const { context, page, cspViolations } = await personPage();
    await screenshotOnFailure(page, 'portal-bob', async () => {
      await signIn(page, 'bob');
      assert.equal(await page.locator('h1').textContent(), 'No AWS roles');
      assert.match(
        (await page.locator('main').textContent()) ?? '',
        /none of your groups grants an AWS role/,
      );
      // The IdP's display name is escaped, not markup.
      assert.match(
        (await page.locator('header strong').innerHTML()) ?? '',
        /Bob &lt;b&gt;Contractor&lt;\/b&gt;/,
      );
      assert.equal(await page.locator('.role').count(), 0);
      assert.equal(await page.getByRole('button', { name: /Get credentials|Open console/ }).count(), 0);

      // Even with a valid CSRF token, a forged request for someone else's role is refused.
      const token = await page.locator('input[name="_csrf"]').first().inputValue();
      const vendsBefore = stack.aws.credentials.size;
      for (const [path, role] of [
        ['/portal/credentials', 'admin'],
        ['/portal/console', 'auditor'],
      ] as const) {
        const refused = await page.request.post(`${stack.url}${path}`, {
          form: { _csrf: token, role },
          headers: { origin: stack.url },
          maxRedirects: 0,
        });
        assert.equal(refused.status(), 403, path);
        assert.match(await refused.text(), /<h1>Not allowed<\/h1>/);
      }
      assert.equal(stack.aws.credentials.size, vendsBefore, 'nothing was vended');
      assert.equal(
        stack.federation.requests.getSigninToken,
        1,
        'only alice’s console sign-in reached the endpoint',
      );
      assert.deepEqual(cspViolations, []);
    });
    await context.close();
  });

  it('shows the auditor only the audit account’s role', async () => {
    const { context, page } = await personPage();
    await screenshotOnFailure(page, 'portal-carol', async () => {
      await signIn(page, 'carol');
      assert.deepEqual(await page.locator('main h2').allTextContents(), [
        'Audit (210987654321)',
        'Command line',
      ]);
      assert.deepEqual(await page.locator('.role h3').allTextContents(), ['Auditor']);
      assert.match((await page.locator('#role-auditor').textContent()) ?? '', new RegExp(AUDITOR_ARN));
    });
    await context.close();
  });
});
