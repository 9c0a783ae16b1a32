import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import type { StateStore } from '../../store/types.ts';
import { sameSecret } from '../secret-token.ts';

/** What the store keeps per request id: node-saml's IssueInstant, and for AuthnRequests the browser's binding digest. */
interface StoredRequest {
  issuedAt: string;
  browser?: string;
}

function parseStored(raw: string | null): StoredRequest | undefined {
  if (raw === null) return undefined;
  try {
    const parsed = JSON.parse(raw) as Partial<StoredRequest>;
    if (typeof parsed.issuedAt !== 'string') return undefined;
    return typeof parsed.browser === 'string'
      ? { issuedAt: parsed.issuedAt, browser: parsed.browser }
      : { issuedAt: parsed.issuedAt };
  } catch {
    return undefined;
  }
}

/**
 * node-saml's `CacheProvider` over the shared store, so the AuthnRequest / LogoutRequest ids
 * it issued are known to every instance: the IdP's answer may reach a pod other than the one
 * that sent the request. node-saml's own default keeps them in one process's memory.
 *
 * Keys are namespaced per provider, so a response from one IdP cannot answer a request
 * sent to another.
 *
 * An AuthnRequest id is also bound to the browser that started the login (see
 * ../browser-binding.ts): `forBrowser(digest)` gives a per-request view that saves ids with that
 * digest and finds only ids saved with it, so node-saml's own InResponseTo checks (on the
 * Response and on the signed SubjectConfirmationData alike) refuse an answer posted by another
 * browser. The unbound view (LogoutRequests, whose answers no login cookie accompanies) never
 * finds a bound id, so the two kinds cannot answer for each other.
 */
export class StoreRequestIdCache implements CacheProvider {
  readonly #store: StateStore;
  readonly #providerName: string;
  readonly #prefix: string;
  readonly #ttlMs: number;
  /** Absent: the unbound view. `{ digest: undefined }`: a login whose POST carried no binding cookie. */
  readonly #browser: { readonly digest: string | undefined } | undefined;
  #foundForAnotherBrowser = false;

  constructor(
    store: StateStore,
    providerName: string,
    ttlMs: number,
    browser?: { readonly digest: string | undefined },
  ) {
    this.#store = store;
    this.#providerName = providerName;
    this.#prefix = `saml:req:${providerName}:`;
    this.#ttlMs = ttlMs;
    this.#browser = browser;
  }

  /** The view for one login exchange with one browser (`digest` undefined when it presented no cookie). */
  forBrowser(digest: string | undefined): StoreRequestIdCache {
    return new StoreRequestIdCache(this.#store, this.#providerName, this.#ttlMs, { digest });
  }

  /** True once a lookup found the id but bound to another browser (or this one presented none). */
  get foundForAnotherBrowser(): boolean {
    return this.#foundForAnotherBrowser;
  }

  #visible(entry: StoredRequest): boolean {
    if (!this.#browser) return entry.browser === undefined;
    const digest = this.#browser.digest;
    if (entry.browser !== undefined && digest !== undefined && sameSecret(entry.browser, digest)) {
      return true;
    }
    this.#foundForAnotherBrowser = true;
    return false;
  }

  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    if (this.#browser && this.#browser.digest === undefined) {
      throw new Error('an AuthnRequest id must be saved with the browser binding it answers to');
    }
    const entry: StoredRequest = this.#browser?.digest
      ? { issuedAt: value, browser: this.#browser.digest }
      : { issuedAt: value };
    // A fresh random id never collides; if it did, answering null tells node-saml so.
    const saved = await this.#store.set(this.#prefix + key, JSON.stringify(entry), {
      ttlMs: this.#ttlMs,
      onlyIfAbsent: true,
    });
    return saved ? { value, createdAt: Date.now() } : null;
  }

  /** node-saml reads the value as the request's IssueInstant; an id of another browser reads as unknown. */
  async getAsync(key: string): Promise<string | null> {
    const entry = parseStored(await this.#store.get(this.#prefix + key));
    return entry && this.#visible(entry) ? entry.issuedAt : null;
  }

  /**
   * node-saml spends the id after a success and after any failure. Only an id this view can
   * see is spent, so a POST from a browser that does not hold the binding cannot burn the
   * pending login of the browser that does.
   */
  async removeAsync(key: string | null): Promise<string | null> {
    if (!key) return null;
    const entry = parseStored(await this.#store.get(this.#prefix + key));
    if (!entry || !this.#visible(entry)) return null;
    const taken = parseStored(await this.#store.take(this.#prefix + key));
    return taken?.issuedAt ?? null;
  }
}
