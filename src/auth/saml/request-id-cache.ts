import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import type { StateStore } from '../../store/types.ts';

/**
 * node-saml's `CacheProvider` over the shared store, so the AuthnRequest / LogoutRequest ids
 * it issued are known to every instance: the IdP's answer may reach a pod other than the one
 * that sent the request. node-saml's own default keeps them in one process's memory.
 *
 * Keys are namespaced per provider, so a response from one IdP cannot answer a request
 * sent to another.
 */
export class StoreRequestIdCache implements CacheProvider {
  readonly #store: StateStore;
  readonly #prefix: string;
  readonly #ttlMs: number;

  constructor(store: StateStore, providerName: string, ttlMs: number) {
    this.#store = store;
    this.#prefix = `saml:req:${providerName}:`;
    this.#ttlMs = ttlMs;
  }

  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    // A fresh random id never collides; if it did, answering null tells node-saml so.
    const saved = await this.#store.set(this.#prefix + key, value, {
      ttlMs: this.#ttlMs,
      onlyIfAbsent: true,
    });
    return saved ? { value, createdAt: Date.now() } : null;
  }

  async getAsync(key: string): Promise<string | null> {
    return this.#store.get(this.#prefix + key);
  }

  async removeAsync(key: string | null): Promise<string | null> {
    if (!key) return null;
    return this.#store.take(this.#prefix + key);
  }
}
