/**
 * The photo-upload example in Chromium, against keywarden as `npm start` runs it: a real
 * process on the embedded development defaults (development IdP, local AWS with SigV4 and
 * IAM ∩ session policies), with the app's origin in `cors.origins`. The app is built with
 * Vite and served by `vite preview` on its own origin, as a developer would run it.
 *
 * What users rely on: sign-in through the IdP comes back to the app; uploads show progress and
 * a large one goes up in parts; each user lists and sees only their own photos, and S3 itself
 * refuses one user's credentials on another's prefix; after sign-out, keywarden hands out no
 * credentials for the old session.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build, type PreviewServer, preview } from 'vite';
import { launchBrowser, screenshotOnFailure } from '../../../test/support/browser.ts';
import { freePort } from '../../../test/support/redis-server.ts';
import { type ServiceProcess, startService } from '../../../test/support/service-process.ts';

const APP_ROOT = path.resolve(import.meta.dirname, '..');
const BUCKET = 'keywarden-local';
const MiB = 1024 * 1024;

let workDir: string;
let service: ServiceProcess;
let keywardenUrl: string;
let appServer: PreviewServer;
let appUrl: string;
let browser: Browser;
/** Values that must never appear in keywarden's log: session ids, secret keys, session tokens. */
const secrets: string[] = [];

/**
 * A 24-bit BMP: Chromium shows it, and its size is width × height × 3 plus a 54-byte header,
 * so a photo over the client's 16 MiB multipart threshold is easy to make.
 */
function bmp(width: number, height: number, tint: [number, number, number]): Buffer {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const pixels = rowBytes * height;
  const file = Buffer.alloc(54 + pixels);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(54, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(24, 28);
  file.writeUInt32LE(pixels, 34);
  for (let y = 0; y < height; y++) {
    const row = 54 + y * rowBytes;
    for (let x = 0; x < width; x++) {
      const at = row + x * 3;
      file[at] = (tint[2] + x) & 0xff;
      file[at + 1] = (tint[1] + y) & 0xff;
      file[at + 2] = tint[0];
    }
  }
  return file;
}

function photoFile(name: string, content: Buffer): string {
  const file = path.join(workDir, name);
  writeFileSync(file, content);
  return file;
}

interface Person {
  context: BrowserContext;
  page: Page;
  /** users/<identityId>/photos/, as the app shows it. */
  prefix: string;
}

/** Opens the app, clicks Sign in, signs in at the development IdP, and is back in the app. */
async function signIn(username: string): Promise<Person> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await screenshotOnFailure(page, `photo-upload-sign-in-${username}`, async () => {
    await page.goto(appUrl);
    await page.waitForSelector('body[data-state="signed-out"]');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.href.startsWith(`${keywardenUrl}/dev-idp/`));
    await page.locator('input[name="login"]').fill(username);
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(appUrl)),
      page.locator('input[name="login"]').press('Enter'),
    ]);
    await page.waitForSelector('body[data-state="signed-in"]');
  });
  assert.equal(await page.locator('#user-name').textContent(), username);
  const prefix = (await page.locator('#prefix').textContent()) ?? '';
  assert.match(prefix, /^users\/us-east-1:[0-9a-f-]{36}\/photos\/$/);
  return { context, page, prefix };
}

/** Chooses files in the app's picker and waits until every upload row is done. */
async function upload(person: Person, files: string[]): Promise<void> {
  const rows = person.page.locator('#uploads li');
  const before = await rows.count();
  await person.page.locator('#files').setInputFiles(files);
  await person.page.waitForFunction(
    (expected) => {
      const items = [...document.querySelectorAll<HTMLElement>('#uploads li')];
      return items.length === expected && items.every((item) => item.dataset.state !== 'uploading');
    },
    before + files.length,
    { timeout: 60_000 },
  );
  const states = await rows.evaluateAll((items) =>
    items.map((item) => `${item.dataset.state}: ${item.textContent}`),
  );
  assert.ok(
    states.every((state) => state.startsWith('done')),
    states.join('\n'),
  );
}

/** The gallery as the person sees it: each photo's key, once every image has loaded. */
async function gallery(person: Person): Promise<Array<{ key: string; caption: string; width: number }>> {
  await person.page.waitForFunction(() =>
    [...document.querySelectorAll<HTMLImageElement>('#gallery img')].every((img) => img.complete),
  );
  return person.page.locator('#gallery li').evaluateAll((items) =>
    items.map((item) => ({
      key: (item as HTMLElement).dataset.key ?? '',
      caption: item.querySelector('figcaption')?.textContent ?? '',
      width: item.querySelector('img')?.naturalWidth ?? 0,
    })),
  );
}

interface Vended {
  identityId: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date };
}

/** The person's credentials, asked for with their browser's own cookie, as the app's fromKeywarden does. */
async function credentialsOf(person: Person): Promise<Vended> {
  const response = await person.context.request.post(`${keywardenUrl}/credentials`, {
    headers: { 'X-CSRF': '1', Origin: appUrl },
    data: {},
  });
  assert.equal(response.status(), 200, await response.text());
  const body = await response.json();
  secrets.push(body.credentials.secretAccessKey, body.credentials.sessionToken);
  return {
    identityId: body.identityId,
    credentials: { ...body.credentials, expiration: new Date(body.credentials.expiration) },
  };
}

/** An S3 client with someone's credentials, pointed at the local AWS the way the app is. */
function s3With(vended: Vended): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: `${keywardenUrl}/local-aws`,
    forcePathStyle: true,
    credentials: vended.credentials,
    maxAttempts: 1,
  });
}

async function s3Refusal(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    const refused = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: refused.name, status: refused.$metadata?.httpStatusCode };
  }
  assert.fail('S3 answered a request it should have refused');
}

before(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'kw-photo-upload-'));
  const [keywardenPort, appPort] = [await freePort(), await freePort()];
  keywardenUrl = `http://localhost:${keywardenPort}`;
  appUrl = `http://localhost:${appPort}/`;
  // As the README says: npm start, with the app's origin allowed.
  service = startService({
    env: {
      PORT: String(keywardenPort),
      KEYWARDEN_CORS__ORIGINS: `[http://localhost:${appPort}]`,
      KEYWARDEN_LOCAL_AWS__DATA_DIR: path.join(workDir, 'data'),
    },
  });
  // Vite bakes VITE_* variables from the environment into the build.
  process.env.VITE_KEYWARDEN_URL = keywardenUrl;
  const outDir = path.join(workDir, 'dist');
  [, , browser] = await Promise.all([
    service.listening,
    build({ root: APP_ROOT, logLevel: 'warn', build: { outDir, emptyOutDir: true } }),
    launchBrowser(),
  ]);
  appServer = await preview({
    root: APP_ROOT,
    logLevel: 'warn',
    build: { outDir },
    preview: { port: appPort, strictPort: true, host: 'localhost' },
  });
});

after(async () => {
  await browser?.close();
  await appServer?.close();
  if (service) {
    service.child.kill('SIGTERM');
    await service.exited;
  }
  rmSync(workDir, { recursive: true, force: true });
});

describe('the photo-upload example in Chromium', () => {
  let alice: Person;
  let bob: Person;
  let aliceKeys: string[];

  it('signs in through the development IdP and uploads photos with progress, a large one in parts', async () => {
    alice = await signIn('alice');
    const small = photoFile('beach.bmp', bmp(64, 48, [200, 120, 40]));
    // 3200 × 2100 × 3 bytes ≈ 19 MiB: over the client's 16 MiB multipart threshold.
    const largeBytes = bmp(3200, 2100, [30, 90, 200]);
    const large = photoFile('panorama.bmp', largeBytes);
    assert.ok(largeBytes.length > 16 * MiB);

    await screenshotOnFailure(alice.page, 'photo-upload-alice-upload', async () => {
      // Every value each progress bar takes, as the page sets it.
      await alice.page.evaluate(() => {
        const seen: Record<string, number[]> = {};
        (window as unknown as { progressSeen: typeof seen }).progressSeen = seen;
        new MutationObserver((mutations) => {
          for (const mutation of mutations) {
            const bar = mutation.target;
            if (!(bar instanceof HTMLProgressElement)) continue;
            const label = bar.getAttribute('aria-label') ?? '';
            seen[label] ??= [];
            seen[label].push(bar.value);
          }
        }).observe(document.getElementById('uploads')!, {
          subtree: true,
          attributes: true,
          attributeFilter: ['value'],
        });
      });
      await upload(alice, [small, large]);

      const progress = await alice.page.evaluate(
        () => (window as unknown as { progressSeen: Record<string, number[]> }).progressSeen,
      );
      const largeProgress = progress['Upload of panorama.bmp'] ?? [];
      assert.equal(largeProgress.at(-1), 1);
      assert.ok(
        largeProgress.some((value) => value > 0 && value < 1),
        `the bar moved while the parts were sent: ${JSON.stringify(largeProgress)}`,
      );
      for (let index = 1; index < largeProgress.length; index++) {
        assert.ok(largeProgress[index]! >= largeProgress[index - 1]!, 'the bar never goes backwards');
      }
      assert.match(
        (await alice.page.locator('#uploads li', { hasText: 'panorama.bmp' }).textContent()) ?? '',
        /uploaded in parts/,
      );
      assert.match(
        (await alice.page.locator('#uploads li', { hasText: 'beach.bmp' }).textContent()) ?? '',
        /uploaded$/,
      );

      // Listed straight from S3 and shown: both images decoded in the page.
      const shown = await gallery(alice);
      assert.equal(shown.length, 2, JSON.stringify(shown));
      assert.deepEqual(
        shown.map((photo) => photo.width).sort((a, b) => a - b),
        [64, 3200],
      );
      assert.ok(shown.every((photo) => photo.key.startsWith(alice.prefix)));
      aliceKeys = shown.map((photo) => photo.key);
    });

    // What S3 holds is what was chosen, byte for byte in size, under alice's prefix.
    const vended = await credentialsOf(alice);
    assert.equal(`users/${vended.identityId}/photos/`, alice.prefix);
    const listed = await s3With(vended).send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: alice.prefix }),
    );
    assert.deepEqual(
      (listed.Contents ?? []).map((object) => object.Size).sort((a, b) => (a ?? 0) - (b ?? 0)),
      [54 + 64 * 48 * 3, largeBytes.length],
    );
  });

  it("shows each user only their own photos, and S3 refuses one user's credentials on another's prefix", async () => {
    bob = await signIn('bob');
    assert.notEqual(bob.prefix, alice.prefix);
    await screenshotOnFailure(bob.page, 'photo-upload-bob', async () => {
      assert.equal((await gallery(bob)).length, 0, "bob sees none of alice's photos");
      assert.equal(await bob.page.locator('#empty').isVisible(), true);
      await upload(bob, [photoFile('bob.bmp', bmp(40, 30, [10, 200, 10]))]);
      const shown = await gallery(bob);
      assert.equal(shown.length, 1);
      assert.ok(shown[0]!.key.startsWith(bob.prefix));
      assert.equal(shown[0]!.width, 40);
    });
    await screenshotOnFailure(alice.page, 'photo-upload-alice-reload', async () => {
      await alice.page.reload();
      await alice.page.waitForSelector('body[data-state="signed-in"]');
      const shown = await gallery(alice);
      assert.deepEqual(shown.map((photo) => photo.key).sort(), [...aliceKeys].sort(), "none of bob's");
    });

    // The same SDK calls the app makes, with alice's credentials, aimed at bob's photos.
    const aliceS3 = s3With(await credentialsOf(alice));
    const bobKey = (await gallery(bob))[0]!.key;
    // Each request is sent when its turn comes: sent all at once, a refusal that arrived while
    // an earlier one was awaited would be an unhandled rejection that fails the test run.
    for (const attempt of [
      () => aliceS3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: bob.prefix })),
      () => aliceS3.send(new ListObjectsV2Command({ Bucket: BUCKET })),
      () => aliceS3.send(new GetObjectCommand({ Bucket: BUCKET, Key: bobKey })),
    ]) {
      assert.deepEqual(await s3Refusal(attempt()), { name: 'AccessDenied', status: 403 });
    }
    const own: ListObjectsV2CommandOutput = await aliceS3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: alice.prefix }),
    );
    assert.equal(own.KeyCount, 2);
  });

  it('signs out: the app forgets the photos, and keywarden refuses credentials for the old session', async () => {
    const sessionCookie = (await alice.context.cookies(keywardenUrl)).find(
      (cookie) => cookie.name === 'keywarden',
    );
    assert.ok(sessionCookie, 'the session cookie is set on keywarden’s origin');
    // A second tab of the same browser, still showing the photos.
    const otherTab = await alice.context.newPage();
    await otherTab.goto(appUrl);
    await otherTab.waitForSelector('body[data-state="signed-in"]');
    await screenshotOnFailure(alice.page, 'photo-upload-sign-out', async () => {
      await alice.page.getByRole('button', { name: 'Sign out' }).click();
      await alice.page.waitForSelector('body[data-state="signed-out"]');
      assert.equal(await alice.page.locator('#gallery li').count(), 0);
      // The development IdP has a sign-out of its own, offered as a link.
      assert.equal(await alice.page.locator('#idp-sign-out').isVisible(), true);

      // What the app's fromKeywarden does, from the page: refused without a session.
      const fromPage = await alice.page.evaluate(async (url) => {
        const response = await fetch(`${url}/credentials`, {
          method: 'POST',
          credentials: 'include',
          headers: { 'X-CSRF': '1', 'Content-Type': 'application/json' },
          body: '{}',
        });
        return { status: response.status, body: await response.json() };
      }, keywardenUrl);
      assert.equal(fromPage.status, 401);
      assert.equal(fromPage.body.code, 'unauthenticated');

      await alice.page.reload();
      await alice.page.waitForSelector('body[data-state="signed-out"]');
    });
    await screenshotOnFailure(otherTab, 'photo-upload-other-tab', async () => {
      // The other tab's next upload asks keywarden for a URL: refused, and the app goes back
      // to its Sign in button.
      await otherTab.locator('#files').setInputFiles([photoFile('late.bmp', bmp(8, 8, [0, 0, 0]))]);
      await otherTab.waitForSelector('body[data-state="signed-out"]');
      assert.equal(
        await otherTab.locator('#uploads li').evaluate((item) => item.textContent),
        'late.bmpfailed: unauthenticated',
      );
      assert.equal(await otherTab.locator('#gallery li').count(), 0);
    });

    // The old cookie, replayed: its session is gone from the server.
    const replayed = await fetch(`${keywardenUrl}/credentials`, {
      method: 'POST',
      headers: {
        cookie: `${sessionCookie.name}=${sessionCookie.value}`,
        'X-CSRF': '1',
        'content-type': 'application/json',
      },
      body: '{}',
    });
    assert.equal(replayed.status, 401);

    // Bob, still signed in, is unaffected.
    assert.equal((await credentialsOf(bob)).identityId.length > 0, true);

    // Neither the session id nor any key handed out ever reached keywarden's log.
    secrets.push(decodeURIComponent(sessionCookie.value).replace(/^s:/, '').split('.')[0]!);
    const output = service.output();
    assert.ok(output.length > 0);
    for (const secret of secrets) assert.ok(secret.length > 8 && !output.includes(secret));
  });
});
