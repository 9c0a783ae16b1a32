import { ServiceUnavailableError } from '../../http/errors.ts';

/**
 * Runs `load` on first use and keeps the result. A failure is not cached for good: the next
 * attempt is allowed after a backoff that doubles up to `maxBackoffMs`, and callers in
 * between get a 503 with Retry-After at once. So an IdP that is down at boot (or the
 * in-process development IdP before the server listens) never stops keywarden from starting,
 * and a flapping IdP is not hammered.
 */
export class LazyDiscovery<T> {
  readonly #load: () => Promise<T>;
  readonly #maxBackoffMs: number;
  readonly #baseBackoffMs: number;
  #value: T | undefined;
  #pending: Promise<T> | undefined;
  #failures = 0;
  #retryAt = 0;

  constructor(load: () => Promise<T>, options: { maxBackoffMs: number; baseBackoffMs?: number }) {
    this.#load = load;
    this.#maxBackoffMs = options.maxBackoffMs;
    this.#baseBackoffMs = options.baseBackoffMs ?? 500;
  }

  get(): Promise<T> {
    if (this.#value !== undefined) return Promise.resolve(this.#value);
    if (this.#pending) return this.#pending;
    const waitMs = this.#retryAt - Date.now();
    if (waitMs > 0) return Promise.reject(this.#unavailable(waitMs));
    this.#pending = this.#load().then(
      (value) => {
        this.#value = value;
        this.#failures = 0;
        this.#pending = undefined;
        return value;
      },
      (error: unknown) => {
        this.#pending = undefined;
        const backoff = Math.min(this.#baseBackoffMs * 2 ** this.#failures, this.#maxBackoffMs);
        this.#failures += 1;
        this.#retryAt = Date.now() + backoff;
        throw this.#unavailable(backoff, error);
      },
    );
    return this.#pending;
  }

  #unavailable(waitMs: number, cause?: unknown): ServiceUnavailableError {
    return new ServiceUnavailableError(
      'The identity provider cannot be reached; retry later.',
      Math.max(1, Math.ceil(waitMs / 1000)),
      { cause },
    );
  }
}
