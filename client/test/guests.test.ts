/**
 * Guest callers against a real keywarden: the guest token is created once, kept in the app's
 * storage adapter, reused after a restart, replaced when keywarden no longer knows it, and
 * given up at the sign-in upgrade, which keeps the guest's identity.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createKeywardenClient,
  fromKeywarden,
  localStorageGuestTokenStorage,
  type SecureStoreLike,
  secureStoreGuestTokenStorage,
  type WebStorageLike,
} from '../src/index.ts';
import { startKeywarden, type TestKeywarden } from './support/keywarden.ts';

let keywarden: TestKeywarden;

before(async () => {
  keywarden = await startKeywarden();
});

after(async () => {
  await keywarden?.close();
});

/** A Web Storage object as browsers have it (`localStorage`), kept in a Map. */
function webStorage(): WebStorageLike & { entries: Map<string, string> } {
  const entries = new Map<string, string>();
  return {
    entries,
    getItem: (key) => entries.get(key) ?? null,
    setItem: (key, value) => void entries.set(key, value),
    removeItem: (key) => void entries.delete(key),
  };
}

/** `expo-secure-store`'s API, kept in a Map. */
function secureStore(): SecureStoreLike & { entries: Map<string, string> } {
  const entries = new Map<string, string>();
  return {
    entries,
    getItemAsync: async (key) => entries.get(key) ?? null,
    setItemAsync: async (key, value) => void entries.set(key, value),
    deleteItemAsync: async (key) => void entries.delete(key),
  };
}

async function credentialsWithGuestToken(guestToken: string): Promise<Response> {
  return fetch(`${keywarden.url}/credentials`, { method: 'POST', headers: { 'X-Guest-Token': guestToken } });
}

describe('guest callers', () => {
  it('creates the guest once, keeps its token in localStorage, and resumes it after a restart', async () => {
    const storage = webStorage();
    const created = keywarden.received('POST', '/identities/guest');
    const first = createKeywardenClient({
      baseUrl: keywarden.url,
      guest: { storage: localStorageGuestTokenStorage({ storage }) },
    });
    // Two providers asking at once (e.g. two SDK clients at start-up): still one guest.
    const [a, b] = await Promise.all([first.credentials()(), first.credentials({ scope: 'uploads' })()]);
    assert.equal(keywarden.received('POST', '/identities/guest') - created, 1, 'one guest created');
    assert.equal(a.identityId, b.identityId);
    assert.equal(a.role, 'guest');
    const token = storage.entries.get('keywarden.guestToken');
    assert.match(token ?? '', /^kwg_/, 'the token is kept under the default key');
    assert.equal(keywarden.aws.credentials.get(a.accessKeyId)?.identityId, a.identityId);

    // The app starts again: a new provider on the same storage is the same guest, nothing created.
    const restarted = fromKeywarden({
      baseUrl: keywarden.url,
      guest: { storage: localStorageGuestTokenStorage({ storage }) },
    });
    const again = await restarted();
    assert.equal(again.identityId, a.identityId);
    assert.equal(keywarden.received('POST', '/identities/guest') - created, 1);
    assert.equal(storage.entries.get('keywarden.guestToken'), token);

    // createGuest() answers the stored guest's identity and never the token.
    const identity = await first.createGuest();
    assert.deepEqual(identity, { identityId: a.identityId });
  });

  it('starts a new guest when keywarden refuses the stored token (expired, used up)', async () => {
    const store = secureStore();
    store.entries.set('app.guest', 'kwg_no-longer-known-to-keywarden-0000000000000000000000');
    const provider = fromKeywarden({
      baseUrl: keywarden.url,
      guest: { storage: secureStoreGuestTokenStorage(store, 'app.guest') },
    });
    const credentials = await provider();
    assert.equal(credentials.role, 'guest');
    const replaced = store.entries.get('app.guest') ?? '';
    assert.match(replaced, /^kwg_/);
    assert.notEqual(replaced, 'kwg_no-longer-known-to-keywarden-0000000000000000000000');
    assert.equal((await credentialsWithGuestToken(replaced)).status, 200);
  });

  it('a refusal that arrives after another request already replaced the stale token keeps the new one', async () => {
    const stale = 'kwg_stale-and-shared-000000000000000000000000000000';
    const storage = webStorage();
    storage.entries.set('keywarden.guestToken', stale);
    let replaced!: () => void;
    const newTokenStored = new Promise<void>((resolve) => {
      replaced = resolve;
    });
    let staleSent = 0;
    const created = keywarden.received('POST', '/identities/guest');
    const client = createKeywardenClient({
      baseUrl: keywarden.url,
      guest: {
        storage: {
          ...localStorageGuestTokenStorage({ storage }),
          set: (token) => {
            storage.setItem('keywarden.guestToken', token);
            replaced();
          },
        },
      },
      // The second request's 401 is held back until the first one has stored a new guest.
      fetch: async (url, init) => {
        const response = await fetch(url, init);
        if (new Headers(init.headers).get('x-guest-token') === stale && ++staleSent === 2)
          await newTokenStored;
        return response;
      },
    });
    const [a, b] = await Promise.all([client.credentials()(), client.credentials({ scope: 'uploads' })()]);
    assert.equal(staleSent, 2);
    assert.equal(a.identityId, b.identityId, 'one new guest for both');
    assert.equal(keywarden.received('POST', '/identities/guest') - created, 1);
  });
});

describe('sign-in upgrade (bearer app that started as a guest)', () => {
  it('links the guest identity to the login, forgets the used-up token, and carries on as the user', async () => {
    const store = secureStore();
    let token: string | undefined;
    const client = createKeywardenClient({
      baseUrl: keywarden.url,
      getToken: () => token,
      guest: { storage: secureStoreGuestTokenStorage(store) },
    });

    const asGuest = await client.credentials()();
    assert.equal(asGuest.role, 'guest');
    const guestToken = store.entries.get('keywarden.guestToken')!;
    assert.match(guestToken, /^kwg_/);
    await assert.rejects(
      client.upgradeGuest(),
      { status: 401, code: 'unauthenticated' },
      'not signed in yet',
    );
    assert.equal(store.entries.get('keywarden.guestToken'), guestToken, 'nothing used up');

    // The user signs in with the app's own IdP.
    token = await keywarden.tokenFor('upgraded-user');
    const upgraded = await client.upgradeGuest();
    assert.deepEqual(
      upgraded,
      { identityId: asGuest.identityId },
      'a first sign-in keeps the guest identity',
    );
    assert.equal(store.entries.has('keywarden.guestToken'), false, 'the token is forgotten');
    const refused = await credentialsWithGuestToken(guestToken);
    assert.equal(refused.status, 401, 'keywarden used the token up');
    assert.equal((await refused.json()).code, 'invalid_guest_token');

    const asUser = await client.credentials()();
    assert.equal(asUser.role, 'reader');
    assert.equal(asUser.identityId, asGuest.identityId, 'the same identity, now signed in');
    assert.equal(await client.upgradeGuest(), null, 'nothing left to upgrade');
  });

  it('a signed-in caller has no guest identity: createGuest() is refused with 409', async () => {
    const client = createKeywardenClient({
      baseUrl: keywarden.url,
      getToken: () => keywarden.tokenFor('someone'),
    });
    await assert.rejects(client.createGuest(), { status: 409, code: 'already_signed_in' });
  });
});
