import { randomBytes } from 'node:crypto';
import type { IndexEntry, Lock, SetOptions, StateStore, WindowCount } from '../types.ts';

interface Entry {
  /** A string, a set (`addToSet`) or an index: member → when it lapses (`addToIndex`). */
  value: string | Set<string> | Map<string, number>;
  expiresAt: number | null;
}

/**
 * The embedded default: state in this process's memory. Correct for exactly one process;
 * a second instance would see none of it, so production refuses it unless told otherwise.
 */
export class MemoryStore implements StateStore {
  readonly kind = 'memory' as const;
  readonly #entries = new Map<string, Entry>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #now: () => number;

  constructor(options: { now?: () => number; sweepIntervalMs?: number } = {}) {
    this.#now = options.now ?? Date.now;
    // Expired entries are dropped lazily on read; the sweep bounds memory for keys never read again.
    this.#sweeper = setInterval(() => this.#sweep(), options.sweepIntervalMs ?? 30_000);
    this.#sweeper.unref();
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt !== null && entry.expiresAt <= now) this.#entries.delete(key);
    }
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt !== null && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #expiry(ttlMs: number | undefined): number | null {
    return ttlMs === undefined ? null : this.#now() + ttlMs;
  }

  async get(key: string): Promise<string | null> {
    const value = this.#live(key)?.value;
    return typeof value === 'string' ? value : null;
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    if (options.onlyIfAbsent && this.#live(key)) return false;
    if (options.onlyIfPresent && !this.#live(key)) return false;
    this.#entries.set(key, { value, expiresAt: this.#expiry(options.ttlMs) });
    return true;
  }

  async take(key: string): Promise<string | null> {
    // Read and delete with no await between them, so concurrent callers cannot both win.
    const value = this.#live(key)?.value;
    if (typeof value !== 'string') return null;
    this.#entries.delete(key);
    return value;
  }

  async delete(...keys: string[]): Promise<number> {
    let count = 0;
    for (const key of keys) if (this.#live(key) && this.#entries.delete(key)) count += 1;
    return count;
  }

  async increment(key: string, by: number, ttlMs: number): Promise<number> {
    const entry = this.#live(key);
    const current = typeof entry?.value === 'string' ? Number(entry.value) : 0;
    const next = current + by;
    this.#entries.set(key, { value: String(next), expiresAt: entry ? entry.expiresAt : this.#expiry(ttlMs) });
    return next;
  }

  async touch(key: string, ttlMs: number): Promise<boolean> {
    const entry = this.#live(key);
    if (!entry) return false;
    entry.expiresAt = this.#expiry(ttlMs);
    return true;
  }

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    const count = await this.increment(key, 1, windowMs);
    return { count, resetInMs: (await this.ttlMs(key)) ?? windowMs };
  }

  hitAll(counters: ReadonlyArray<{ key: string; windowMs: number }>): Promise<WindowCount[]> {
    return Promise.all(counters.map((counter) => this.hit(counter.key, counter.windowMs)));
  }

  async ttlMs(key: string): Promise<number | null> {
    const entry = this.#live(key);
    if (!entry || entry.expiresAt === null) return null;
    return Math.max(0, entry.expiresAt - this.#now());
  }

  async addToSet(key: string, members: readonly string[], ttlMs: number): Promise<void> {
    const entry = this.#live(key);
    const set = entry?.value instanceof Set ? entry.value : new Set<string>();
    for (const member of members) set.add(member);
    this.#entries.set(key, { value: set, expiresAt: this.#expiry(ttlMs) });
  }

  async setMembers(key: string): Promise<string[]> {
    const value = this.#live(key)?.value;
    return value instanceof Set ? [...value] : [];
  }

  async removeFromSet(key: string, members: readonly string[]): Promise<void> {
    const value = this.#live(key)?.value;
    if (!(value instanceof Set)) return;
    for (const member of members) value.delete(member);
    if (value.size === 0) this.#entries.delete(key);
  }

  async addToIndex(key: string, member: string, expiresAt: number, cap: number): Promise<string[]> {
    const now = this.#now();
    const entry = this.#live(key);
    const index = entry?.value instanceof Map ? entry.value : new Map<string, number>();
    for (const [existing, lapses] of index) if (lapses <= now) index.delete(existing);
    index.set(member, expiresAt);
    const evicted: string[] = [];
    if (index.size > cap) {
      const soonest = [...index].sort(([a, x], [b, y]) => x - y || (a < b ? -1 : a > b ? 1 : 0));
      for (const [evict] of soonest.slice(0, index.size - cap)) {
        index.delete(evict);
        evicted.push(evict);
      }
    }
    const longest = Math.max(...index.values());
    if (longest <= now) this.#entries.delete(key);
    else this.#entries.set(key, { value: index, expiresAt: longest });
    return evicted;
  }

  async indexEntries(key: string): Promise<IndexEntry[]> {
    const value = this.#live(key)?.value;
    if (!(value instanceof Map)) return [];
    const now = this.#now();
    return [...value]
      .filter(([, expiresAt]) => expiresAt > now)
      .sort(([a, x], [b, y]) => x - y || (a < b ? -1 : a > b ? 1 : 0))
      .map(([member, expiresAt]) => ({ member, expiresAt }));
  }

  async removeFromIndex(key: string, members: readonly string[]): Promise<void> {
    const value = this.#live(key)?.value;
    if (!(value instanceof Map)) return;
    for (const member of members) value.delete(member);
    if (value.size === 0) this.#entries.delete(key);
  }

  async tryLock(key: string, ttlMs: number): Promise<Lock | null> {
    const token = randomBytes(16).toString('hex');
    if (!(await this.set(key, token, { ttlMs, onlyIfAbsent: true }))) return null;
    return {
      key,
      release: async () => {
        if (this.#live(key)?.value !== token) return false;
        this.#entries.delete(key);
        return true;
      },
    };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#entries.clear();
  }
}
