import { createHash, randomBytes } from 'node:crypto';
import { createClient, createCluster, createSentinel } from '@redis/client';
import type { RedisConfig } from '../../config/schema.ts';
import { boundedStoreCall } from '../bounded-call.ts';
import { DeadlineWatch } from '../deadline-watch.ts';
import type { IndexEntry, Lock, SetOptions, StateStore, WindowCount } from '../types.ts';
import { StoreUnavailableError } from '../types.ts';

/**
 * The commands keywarden uses, which standalone, Sentinel and Cluster clients all offer.
 * Naming them here keeps the three client types behind one small surface.
 */
interface RedisCommands {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: object): Promise<string | null>;
  getDel(key: string): Promise<string | null>;
  del(keys: string | string[]): Promise<number>;
  pTTL(key: string): Promise<number>;
  sAdd(key: string, members: string[]): Promise<number>;
  sMembers(key: string): Promise<string[]>;
  sRem(key: string, members: string[]): Promise<number>;
  pExpire(key: string, ms: number): Promise<number>;
  zRangeWithScores(
    key: string,
    min: number | string,
    max: number | string,
    options?: { BY: 'SCORE' },
  ): Promise<Array<{ value: string; score: number }>>;
  zRem(key: string, members: string[]): Promise<number>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  isReady?: boolean;
}

/** A Lua script, sent by its SHA-1 (EVALSHA) and by its text only when Redis does not know it yet. */
interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const RELEASE_LOCK = script(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`,
);
// INCRBY, then give the key its lifetime only if it has none, so a counter's window starts at its first hit.
const INCREMENT_WITH_TTL = script(`local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`);
// Rate-limit hits, one per key (ARGV[i] is KEYS[i]'s window): each count and what is left of its
// window (which starts at the first hit).
const HIT = script(`local out = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then redis.call('PEXPIRE', key, ARGV[i]) ttl = tonumber(ARGV[i]) end
  out[#out + 1] = count
  out[#out + 1] = ttl
end
return out`);
const ADD_TO_SET = script(
  `redis.call('SADD', KEYS[1], unpack(ARGV, 2)) redis.call('PEXPIRE', KEYS[1], ARGV[1]) return 1`,
);

// One bounded-index add: drop lapsed members, add this one, trim to the cap (answering the
// members trimmed, soonest-lapsing first), and let the key live as long as its last member.
const ADD_TO_INDEX = script(`redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
local evicted = {}
if over > 0 then
  evicted = redis.call('ZRANGE', KEYS[1], 0, over - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, over - 1)
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return evicted`);

export interface RedisStoreOptions {
  onError?: (error: Error) => void;
}

/** Backoff with full jitter, so a fleet of pods does not reconnect in lockstep. */
function reconnectDelay(config: RedisConfig, attempt: number): number {
  const ceiling = Math.min(config.reconnectBaseMs * 2 ** Math.min(attempt, 16), config.reconnectMaxMs);
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

function buildClient(config: RedisConfig): RedisCommands {
  const socket = {
    connectTimeout: config.connectTimeoutMs,
    reconnectStrategy: (attempt: number) => reconnectDelay(config, attempt),
    ...(config.tls ? { tls: true as const } : {}),
  };
  const auth = {
    ...(config.username ? { username: config.username } : {}),
    ...(config.password ? { password: config.password } : {}),
  };
  // Commands fail at once while disconnected instead of queueing: a request that needs
  // state gets a quick 503 rather than hanging until Redis comes back. node-redis's own
  // per-command timeout is off: it arms an AbortSignal.timeout per command, which costs more
  // CPU than the command; RedisStore bounds every call with one DeadlineWatch instead.
  const commandOptions = { timeout: 0 };
  const common = { ...auth, socket, disableOfflineQueue: true, commandOptions };
  switch (config.mode) {
    case 'cluster':
      return createCluster({
        rootNodes: config.cluster!.rootNodes.map((node) => ({
          socket: { host: node.host, port: node.port },
        })),
        defaults: common,
        commandOptions,
      }) as unknown as RedisCommands;
    case 'sentinel':
      return createSentinel({
        name: config.sentinel!.masterName,
        sentinelRootNodes: config.sentinel!.sentinels.map((node) => ({ host: node.host, port: node.port })),
        nodeClientOptions: common,
        commandOptions,
      }) as unknown as RedisCommands;
    default:
      return createClient({ url: config.url, ...common }) as unknown as RedisCommands;
  }
}

/** Production state: shared by every instance, so sessions, limits and replay caches hold across pods. */
export class RedisStore implements StateStore {
  readonly kind = 'redis' as const;
  readonly #client: RedisCommands;
  readonly #config: RedisConfig;
  readonly #prefix: string;
  readonly #deadlines: DeadlineWatch;
  #closed = false;

  constructor(config: RedisConfig, options: RedisStoreOptions = {}) {
    this.#config = config;
    this.#prefix = config.keyPrefix;
    this.#client = buildClient(config);
    this.#deadlines = new DeadlineWatch(config.commandTimeoutMs);
    // Without a listener node-redis rethrows socket errors and the process dies.
    this.#client.on('error', (error) => options.onError?.(error));
  }

  /** The underlying client, for libraries that speak Redis themselves (connect-redis, rate limiter). */
  get client(): unknown {
    return this.#client;
  }

  get keyPrefix(): string {
    return this.#prefix;
  }

  /** Connects, or fails after the connect timeout; later disconnects reconnect by themselves. */
  async connect(): Promise<void> {
    await boundedStoreCall(() => this.#client.connect(), {
      what: 'redis connect',
      timeoutMs: this.#config.connectTimeoutMs * 3,
    });
  }

  /** Every command is bounded by the command timeout and fails as StoreUnavailableError. */
  #run<T>(what: string, command: (client: RedisCommands) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError('store is closed'));
    let running: Promise<T>;
    try {
      running = command(this.#client);
    } catch (error) {
      return Promise.reject(new StoreUnavailableError(`redis ${what} failed`, { cause: error }));
    }
    return this.#deadlines.bound(`redis ${what}`, running);
  }

  /** EVALSHA, falling back to EVAL once when Redis has not seen the script (after a restart, say). */
  #script(what: string, lua: Script, keys: string[], args: string[]): Promise<unknown> {
    return this.#run(what, async (client) => {
      try {
        return await client.evalSha(lua.sha, { keys, arguments: args });
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return client.eval(lua.source, { keys, arguments: args });
      }
    });
  }

  #key(key: string): string {
    return this.#prefix + key;
  }

  get(key: string): Promise<string | null> {
    return this.#run('GET', (client) => client.get(this.#key(key)));
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    const flags: Record<string, unknown> = {};
    if (options.ttlMs !== undefined)
      flags.expiration = { type: 'PX', value: Math.max(1, Math.ceil(options.ttlMs)) };
    if (options.onlyIfAbsent) flags.condition = 'NX';
    else if (options.onlyIfPresent) flags.condition = 'XX';
    const reply = await this.#run('SET', (client) => client.set(this.#key(key), value, flags));
    return reply === 'OK';
  }

  take(key: string): Promise<string | null> {
    return this.#run('GETDEL', (client) => client.getDel(this.#key(key)));
  }

  async delete(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    // One DEL per key: in a cluster the keys may live on different shards.
    const counts = await Promise.all(
      keys.map((key) => this.#run('DEL', (client) => client.del(this.#key(key)))),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  async increment(key: string, by: number, ttlMs: number): Promise<number> {
    const reply = await this.#script(
      'INCRBY',
      INCREMENT_WITH_TTL,
      [this.#key(key)],
      [String(by), String(Math.ceil(ttlMs))],
    );
    return Number(reply);
  }

  async touch(key: string, ttlMs: number): Promise<boolean> {
    const reply = await this.#run('PEXPIRE', (client) =>
      client.pExpire(this.#key(key), Math.max(1, Math.ceil(ttlMs))),
    );
    return reply === 1;
  }

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    return (await this.hitAll([{ key, windowMs }]))[0]!;
  }

  async hitAll(counters: ReadonlyArray<{ key: string; windowMs: number }>): Promise<WindowCount[]> {
    // A script may only touch keys of one hash slot in a cluster: there, one script per counter
    // (sent together, so still one round trip).
    if (this.#config.mode === 'cluster' && counters.length > 1) {
      return (await Promise.all(counters.map((counter) => this.hitAll([counter])))).flat();
    }
    const reply = (await this.#script(
      'rate-limit hit',
      HIT,
      counters.map((counter) => this.#key(counter.key)),
      counters.map((counter) => String(Math.ceil(counter.windowMs))),
    )) as number[];
    return counters.map((_, index) => ({
      count: Number(reply[index * 2]),
      resetInMs: Number(reply[index * 2 + 1]),
    }));
  }

  async ttlMs(key: string): Promise<number | null> {
    const reply = await this.#run('PTTL', (client) => client.pTTL(this.#key(key)));
    return reply < 0 ? null : reply;
  }

  async addToSet(key: string, members: readonly string[], ttlMs: number): Promise<void> {
    if (members.length === 0) return;
    await this.#script('SADD', ADD_TO_SET, [this.#key(key)], [String(Math.ceil(ttlMs)), ...members]);
  }

  setMembers(key: string): Promise<string[]> {
    return this.#run('SMEMBERS', (client) => client.sMembers(this.#key(key)));
  }

  async removeFromSet(key: string, members: readonly string[]): Promise<void> {
    if (members.length === 0) return;
    await this.#run('SREM', (client) => client.sRem(this.#key(key), [...members]));
  }

  async addToIndex(key: string, member: string, expiresAt: number, cap: number): Promise<string[]> {
    const reply = await this.#script(
      'index add',
      ADD_TO_INDEX,
      [this.#key(key)],
      [String(Date.now()), String(Math.ceil(expiresAt)), member, String(Math.max(1, Math.floor(cap)))],
    );
    return (reply as string[]).map(String);
  }

  async indexEntries(key: string): Promise<IndexEntry[]> {
    const reply = await this.#run('ZRANGE', (client) =>
      client.zRangeWithScores(this.#key(key), `(${Date.now()}`, '+inf', { BY: 'SCORE' }),
    );
    return reply.map(({ value, score }) => ({ member: String(value), expiresAt: Number(score) }));
  }

  async removeFromIndex(key: string, members: readonly string[]): Promise<void> {
    if (members.length === 0) return;
    await this.#run('ZREM', (client) => client.zRem(this.#key(key), [...members]));
  }

  async tryLock(key: string, ttlMs: number): Promise<Lock | null> {
    const token = randomBytes(16).toString('hex');
    if (!(await this.set(key, token, { ttlMs, onlyIfAbsent: true }))) return null;
    return {
      key,
      // Compare-and-delete in one script: a holder whose lock expired must not free the next holder's.
      release: async () =>
        Number(await this.#script('lock release', RELEASE_LOCK, [this.#key(key)], [token])) === 1,
    };
  }

  async ping(): Promise<void> {
    // A keyed read reaches a master in every mode (a cluster has no keyless PING of its own).
    await this.get('readyz');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await boundedStoreCall(() => this.#client.close(), {
        what: 'redis close',
        timeoutMs: this.#config.commandTimeoutMs * 2,
      });
    } catch {
      this.#client.destroy();
    }
  }
}
