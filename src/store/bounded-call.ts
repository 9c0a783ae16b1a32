import { StoreUnavailableError } from './types.ts';

/**
 * Runs one call to the shared store (or to a library that talks to it directly: connect-redis,
 * the rate limiter) within `timeoutMs`. A call that is slow, throws or rejects fails as
 * StoreUnavailableError (→ 503) instead of hanging the request; an error `passThrough` accepts
 * is an answer rather than a store failure (a rate limiter's "over the limit") and rejects as it is.
 */
export function boundedStoreCall<T>(
  work: () => Promise<T>,
  options: { what: string; timeoutMs: number; passThrough?: (error: unknown) => boolean },
): Promise<T> {
  const { what, timeoutMs, passThrough } = options;
  let running: Promise<T>;
  try {
    running = work();
  } catch (error) {
    return Promise.reject(new StoreUnavailableError(`${what} failed`, { cause: error }));
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailableError(`${what} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([running, timeout])
    .catch((error: unknown) => {
      if (error instanceof StoreUnavailableError || passThrough?.(error)) throw error;
      throw new StoreUnavailableError(`${what} failed`, { cause: error });
    })
    .finally(() => clearTimeout(timer));
}
