import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/**
 * A real browser for tests: Debian's Chromium (installed by .ci/run; never downloaded)
 * driven by playwright-core. Launch it once per test file:
 *
 *   const browser = await launchBrowser();
 *   const context = await browser.newContext();   // one per simulated person (own cookies)
 *   const page = await context.newPage();
 *   await screenshotOnFailure(page, 'sign-in', async () => { ... });
 *   await browser.close();
 *
 * Screenshots of failed steps go to test-artifacts/ (git-ignored; CI keeps it).
 */
export const CHROMIUM_PATH = process.env.KEYWARDEN_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = path.resolve(import.meta.dirname, '../../test-artifacts');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Runs a step; if it throws, saves a full-page screenshot named after it, then rethrows. */
export async function screenshotOnFailure<T>(page: Page, name: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const file = path.join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, '-')}-${Date.now()}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    if (error instanceof Error) error.message += `\n(screenshot: ${file}; page: ${page.url()})`;
    throw error;
  }
}
