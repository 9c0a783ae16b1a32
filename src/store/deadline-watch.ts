import { StoreUnavailableError } from './types.ts';

interface Pending {
  readonly deadline: number;
  readonly what: string;
  readonly reject: (error: StoreUnavailableError) => void;
}

/**
 * Bounds many in-flight store calls with one timer. Each call is remembered with its deadline
 * (all share one timeout, so insertion order is deadline order) and a sweep a few times per
 * timeout fails the overdue ones as StoreUnavailableError (→ 503). A timer of its own per call
 * (setTimeout, or node-redis's AbortSignal.timeout) costs more CPU than the command it guards
 * when Redis answers in well under a millisecond; this costs a Set insert and delete.
 *
 * A call fails between `timeoutMs` and `timeoutMs × 1.25` after it started.
 */
export class DeadlineWatch {
  readonly #timeoutMs: number;
  readonly #sweepMs: number;
  readonly #pending = new Set<Pending>();
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#sweepMs = Math.max(1, Math.floor(timeoutMs / 4));
  }

  /** `work` as a promise that also rejects with StoreUnavailableError once it is overdue. */
  bound<T>(what: string, work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { deadline: Date.now() + this.#timeoutMs, what, reject };
      this.#pending.add(entry);
      if (this.#timer === undefined) this.#arm();
      work.then(
        (value) => {
          if (this.#pending.delete(entry)) resolve(value);
        },
        (error: unknown) => {
          if (!this.#pending.delete(entry)) return;
          reject(
            error instanceof StoreUnavailableError
              ? error
              : new StoreUnavailableError(`${what} failed`, { cause: error }),
          );
        },
      );
    });
  }

  #arm(): void {
    this.#timer = setInterval(() => this.#sweep(), this.#sweepMs);
    this.#timer.unref();
  }

  #sweep(): void {
    const now = Date.now();
    for (const entry of this.#pending) {
      if (entry.deadline > now) break;
      this.#pending.delete(entry);
      entry.reject(new StoreUnavailableError(`${entry.what} timed out after ${this.#timeoutMs} ms`));
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
