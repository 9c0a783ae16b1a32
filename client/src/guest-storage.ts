/**
 * Where a guest's token is kept between app starts. The token is the guest identity: lose
 * it and the guest's data under its prefix is out of reach; leak it and someone else is
 * that guest. Keep it where the platform keeps secrets.
 */
export interface GuestTokenStorage {
  get(): Promise<string | null | undefined> | string | null | undefined;
  set(token: string): Promise<void> | void;
  remove(): Promise<void> | void;
}

export const DEFAULT_GUEST_TOKEN_KEY = 'keywarden.guestToken';

/** The part of the Web Storage API used here (`localStorage`, `sessionStorage`). */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Browsers: the guest token in `localStorage` (or another Web Storage object). Any script on
 * the page can read it, as it could use a cookie session; keep the page free of XSS.
 */
export function localStorageGuestTokenStorage(
  options: { key?: string; storage?: WebStorageLike } = {},
): GuestTokenStorage {
  const key = options.key ?? DEFAULT_GUEST_TOKEN_KEY;
  const storage = (): WebStorageLike => {
    const found = options.storage ?? (globalThis as { localStorage?: WebStorageLike }).localStorage;
    if (!found) throw new Error('localStorage is not available here; pass a guest token storage');
    return found;
  };
  return {
    get: () => storage().getItem(key),
    set: (token) => storage().setItem(key, token),
    remove: () => storage().removeItem(key),
  };
}

/** What `expo-secure-store` exports (and what a thin wrapper over react-native-keychain can offer). */
export interface SecureStoreLike {
  getItemAsync(key: string): Promise<string | null>;
  setItemAsync(key: string, value: string): Promise<void>;
  deleteItemAsync(key: string): Promise<void>;
}

/**
 * React Native: the guest token in the platform keystore (iOS Keychain, Android Keystore)
 * through `expo-secure-store`: `secureStoreGuestTokenStorage(SecureStore)`.
 */
export function secureStoreGuestTokenStorage(
  secureStore: SecureStoreLike,
  key: string = DEFAULT_GUEST_TOKEN_KEY,
): GuestTokenStorage {
  return {
    get: () => secureStore.getItemAsync(key),
    set: (token) => secureStore.setItemAsync(key, token),
    remove: () => secureStore.deleteItemAsync(key),
  };
}

/** For one process (a script, a test): the token is gone when the process ends. */
export function memoryGuestTokenStorage(initial?: string): GuestTokenStorage {
  let token = initial;
  return {
    get: () => token,
    set: (value) => {
      token = value;
    },
    remove: () => {
      token = undefined;
    },
  };
}
