import type { GuestIdentity } from './api-types.ts';
import { errorFromResponse, KeywardenError, networkError } from './errors.ts';
import { type GuestTokenStorage, localStorageGuestTokenStorage } from './guest-storage.ts';

/** The part of `fetch` this package uses; pass your own for cookies in Node, tracing, tests. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export type TokenSource = () => string | null | undefined | Promise<string | null | undefined>;

/**
 * Who the caller is. The first that applies wins, per request:
 *  - `getToken` answers a token → a bearer caller (`Authorization: Bearer`);
 *  - `guest` is set → a guest holding a guest token from `guest.storage` (created on first use);
 *  - otherwise → the browser session: the cookie (`credentials: 'include'`) and `X-CSRF: 1`.
 * So an app that starts as a guest and signs in later sets both `getToken` (answering
 * nothing until sign-in) and `guest`.
 */
export interface KeywardenClientOptions {
  /** keywarden's origin, e.g. `https://auth.example.com`. Default: the page's own origin. */
  baseUrl?: string;
  /** Default: `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Bearer caller: a JWT from an issuer keywarden trusts, or nothing while signed out. */
  getToken?: TokenSource;
  /** Guest caller. `storage` defaults to `localStorage` (browsers). */
  guest?: { storage?: GuestTokenStorage };
  /** Called when keywarden answers 401 (no or a refused sign-in); the error is thrown after it. */
  onSignInRequired?: (error: KeywardenError) => void | Promise<void>;
  /**
   * keywarden answers 503 with `Retry-After` when a dependency is down. Such answers are
   * retried after that many seconds, at most `maxRetries` times (default 2) and only while
   * `Retry-After` is at most `maxRetryAfterSeconds` (default 10); then the 503 is thrown.
   */
  retry?: { maxRetries?: number; maxRetryAfterSeconds?: number };
}

export interface ApiRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  signal?: AbortSignal | undefined;
  /**
   * `caller` (default): the configured caller. `anonymous`: no credential at all (creating a
   * token guest). `upgrade`: the bearer token and the guest token together (sign-in upgrade).
   */
  as?: 'caller' | 'anonymous' | 'upgrade';
  /** A 401 is an answer here ("not signed in"), not a reason to call `onSignInRequired`. */
  unauthenticatedIsAnswer?: boolean;
}

/** keywarden's HTTP API as the configured caller, with its error, 401 and 503 handling. */
export interface KeywardenApi {
  readonly baseUrl: string;
  readonly guestStorage: GuestTokenStorage | undefined;
  readonly fetch: FetchLike;
  call<T>(request: ApiRequest): Promise<T>;
  /** The bearer token, if `getToken` answers one now. */
  bearerToken(): Promise<string | undefined>;
}

/**
 * Why `signal` was aborted. React Native's AbortSignal has no `reason`: an `AbortError`
 * stands in, the name every platform's fetch rejects with.
 */
export function abortReason(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  const error = new Error('The operation was aborted');
  error.name = 'AbortError';
  return error;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function createKeywardenApi(options: KeywardenClientOptions): KeywardenApi {
  const baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
  // Looked up per call, and called unbound from globalThis: browsers refuse a detached `fetch`.
  const fetchImpl: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const maxRetries = options.retry?.maxRetries ?? 2;
  const maxRetryAfter = options.retry?.maxRetryAfterSeconds ?? 10;
  const guestStorage = options.guest ? (options.guest.storage ?? localStorageGuestTokenStorage()) : undefined;
  let creatingGuest: Promise<string> | undefined;

  async function bearerToken(): Promise<string | undefined> {
    return (await options.getToken?.()) || undefined;
  }

  /** The stored guest token, or a new token guest (one creation however many callers ask). */
  async function guestToken(storage: GuestTokenStorage): Promise<string> {
    const stored = await storage.get();
    if (stored) return stored;
    creatingGuest ??= (async () => {
      const created = await call<GuestIdentity>({
        method: 'POST',
        path: '/identities/guest',
        body: { mode: 'token' },
        as: 'anonymous',
      });
      if (!created.guestToken) {
        throw new KeywardenError(200, 'unexpected_response', 'keywarden created a guest without a token');
      }
      await storage.set(created.guestToken);
      return created.guestToken;
    })().finally(() => {
      creatingGuest = undefined;
    });
    return creatingGuest;
  }

  /** Headers (and cookie mode) for one request, and the guest token when one is sent as the credential. */
  async function credentialsFor(as: ApiRequest['as']): Promise<{
    headers: Record<string, string>;
    credentials: RequestInit['credentials'];
    guestToken?: string;
  }> {
    if (as === 'anonymous') return { headers: {}, credentials: 'omit' };
    const token = await bearerToken();
    if (as === 'upgrade') {
      const stored = await guestStorage?.get();
      if (!token || !stored) throw new Error('a guest upgrade needs both a bearer token and a guest token');
      return {
        headers: { authorization: `Bearer ${token}`, 'x-guest-token': stored },
        credentials: 'omit',
      };
    }
    if (token) return { headers: { authorization: `Bearer ${token}` }, credentials: 'omit' };
    if (guestStorage) {
      const sent = await guestToken(guestStorage);
      return { headers: { 'x-guest-token': sent }, credentials: 'omit', guestToken: sent };
    }
    return { headers: { 'x-csrf': '1' }, credentials: 'include' };
  }

  async function call<T>(request: ApiRequest): Promise<T> {
    let retries = 0;
    let renewedGuest = false;
    for (;;) {
      const caller = await credentialsFor(request.as);
      const headers: Record<string, string> = { accept: 'application/json', ...caller.headers };
      if (request.body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await fetchImpl(baseUrl + request.path, {
          method: request.method,
          headers,
          credentials: caller.credentials,
          ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
        });
      } catch (error) {
        if (request.signal?.aborted) throw abortReason(request.signal);
        throw networkError(error);
      }
      if (response.ok) return (await response.json()) as T;

      const error = await errorFromResponse(response);
      if (
        error.status === 503 &&
        error.retryAfter !== undefined &&
        error.retryAfter <= maxRetryAfter &&
        retries < maxRetries
      ) {
        retries++;
        await sleep(error.retryAfter * 1000, request.signal);
        continue;
      }
      if (caller.guestToken && error.code === 'invalid_guest_token' && guestStorage && !renewedGuest) {
        // The stored token expired or was used up by an upgrade: that guest is gone for this
        // app, as a lost identity id is for the AWS SDK's Cognito provider. Start a new guest,
        // unless a concurrent request already did (then its token is in storage now).
        renewedGuest = true;
        if ((await guestStorage.get()) === caller.guestToken) await guestStorage.remove();
        continue;
      }
      if (error.status === 401 && error.code !== 'invalid_guest_token' && !request.unauthenticatedIsAnswer) {
        await options.onSignInRequired?.(error);
      }
      throw error;
    }
  }

  return { baseUrl, guestStorage, fetch: fetchImpl, call, bearerToken };
}
