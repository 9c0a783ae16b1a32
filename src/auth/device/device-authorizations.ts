import type { DeviceConfig } from '../../config/portal-schema.ts';
import { UserIndex, type UserRef } from '../../identity/user-index.ts';
import type { StateStore } from '../../store/types.ts';
import type { Principal } from '../principal.ts';
import { newSecretToken, secretDigest } from '../secret-token.ts';
import { formatUserCode, newUserCode, normalizeUserCode } from './user-code.ts';

/**
 * Pending device authorizations (RFC 8628) in the shared store, so any instance can answer
 * the CLI's polls and the browser's approval. The device code is 256 random bits and, like
 * the user code, is kept only as a SHA-256 digest: a store dump yields nothing to redeem.
 *
 * Keys: `device:code:<digest>` the record (kept a little past expiry, so a late poll hears
 * `expired_token` rather than `invalid_grant`), `device:user:<digest>` user code → device
 * code digest (until expiry; taken at approval, so a user code is used once),
 * `device:poll:<digest>` the polling interval guard, `device:slow:<digest>` how many times the
 * client was told to slow down (each adds 5 s, §3.5).
 */

export interface DeviceRecord {
  readonly clientId: string;
  /** The formatted user code, shown again on the approval page. */
  readonly userCode: string;
  readonly status: 'pending' | 'approved' | 'denied';
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Shown on the approval page, so a user can tell a request they did not start. */
  readonly requestedFrom?: string;
  readonly userAgent?: string;
  /** Set at approval: who the CLI will act for. */
  readonly principal?: Principal;
}

export interface StartedAuthorization {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly expiresIn: number;
  readonly interval: number;
}

export type PollResult =
  | { readonly status: 'pending' }
  | { readonly status: 'slow_down'; readonly interval: number }
  | { readonly status: 'expired' }
  | { readonly status: 'denied' }
  | { readonly status: 'invalid' }
  | { readonly status: 'approved'; readonly record: DeviceRecord };

const LATE_POLL_GRACE_MS = 10 * 60_000;
const SLOW_DOWN_STEP_SECONDS = 5;

const recordKey = (deviceDigest: string) => `device:code:${deviceDigest}`;
const userKey = (userCode: string) => `device:user:${secretDigest(userCode)}`;
const pollKey = (deviceDigest: string) => `device:poll:${deviceDigest}`;
const slowKey = (deviceDigest: string) => `device:slow:${deviceDigest}`;

/** Device codes are base64url of 32 bytes; anything else is not one of ours. */
const DEVICE_CODE_SHAPE = /^[A-Za-z0-9_-]{43}$/;

const ownerOf = (principal: Principal): UserRef => ({
  provider: principal.provider,
  subject: principal.subject,
});

function parseRecord(raw: string | null): DeviceRecord | undefined {
  if (raw === null) return undefined;
  return JSON.parse(raw) as DeviceRecord;
}

export class DeviceAuthorizations {
  readonly #store: StateStore;
  readonly #config: Readonly<DeviceConfig>;
  readonly #index: UserIndex;

  constructor(store: StateStore, config: Readonly<DeviceConfig>) {
    this.#store = store;
    this.#config = config;
    this.#index = new UserIndex(store);
  }

  async start(request: {
    clientId: string;
    requestedFrom?: string;
    userAgent?: string;
  }): Promise<StartedAuthorization> {
    const ttlMs = this.#config.codeTtlSeconds * 1000;
    const deviceCode = newSecretToken();
    const deviceDigest = secretDigest(deviceCode);
    // A user code is short, so two live requests could draw the same one: claim it first.
    let userCode: string | undefined;
    for (let attempt = 0; attempt < 5 && userCode === undefined; attempt += 1) {
      const candidate = newUserCode();
      if (await this.#store.set(userKey(candidate), deviceDigest, { ttlMs, onlyIfAbsent: true })) {
        userCode = candidate;
      }
    }
    if (userCode === undefined) throw new Error('could not draw an unused user code');
    const now = Date.now();
    const record: DeviceRecord = {
      clientId: request.clientId,
      userCode: formatUserCode(userCode),
      status: 'pending',
      createdAt: now,
      expiresAt: now + ttlMs,
      ...(request.requestedFrom ? { requestedFrom: request.requestedFrom } : {}),
      ...(request.userAgent ? { userAgent: request.userAgent.slice(0, 200) } : {}),
    };
    await this.#store.set(recordKey(deviceDigest), JSON.stringify(record), {
      ttlMs: ttlMs + LATE_POLL_GRACE_MS,
    });
    return {
      deviceCode,
      userCode: record.userCode,
      expiresIn: this.#config.codeTtlSeconds,
      interval: this.#config.pollIntervalSeconds,
    };
  }

  /** The pending request a user code names, for the approval page; undefined when none. */
  async findPending(userCodeInput: unknown): Promise<DeviceRecord | undefined> {
    const userCode = normalizeUserCode(userCodeInput);
    if (!userCode) return undefined;
    const deviceDigest = await this.#store.get(userKey(userCode));
    if (deviceDigest === null) return undefined;
    const record = parseRecord(await this.#store.get(recordKey(deviceDigest)));
    if (record?.status !== 'pending' || record.expiresAt <= Date.now()) return undefined;
    return record;
  }

  /**
   * Approves or denies the request a user code names. The user code is taken (read and
   * deleted at once), so two approvals of one code cannot both succeed. Answers the record
   * as decided, or undefined when the code names no pending request.
   */
  async decide(
    userCodeInput: unknown,
    decision: { approve: true; principal: Principal } | { approve: false },
  ): Promise<DeviceRecord | undefined> {
    const userCode = normalizeUserCode(userCodeInput);
    if (!userCode) return undefined;
    const deviceDigest = await this.#store.take(userKey(userCode));
    if (deviceDigest === null) return undefined;
    const key = recordKey(deviceDigest);
    const record = parseRecord(await this.#store.get(key));
    if (record?.status !== 'pending' || record.expiresAt <= Date.now()) return undefined;
    const decided: DeviceRecord = decision.approve
      ? { ...record, status: 'approved', principal: decision.principal }
      : { ...record, status: 'denied' };
    const ttlMs = (await this.#store.ttlMs(key)) ?? LATE_POLL_GRACE_MS;
    await this.#store.set(key, JSON.stringify(decided), { ttlMs: Math.max(ttlMs, 1) });
    // An approval not yet redeemed is a grant the user holds: indexed, so revoking the user ends it.
    if (decision.approve) {
      await this.#index.add(ownerOf(decision.principal), 'deviceGrants', deviceDigest, Date.now() + ttlMs);
    }
    return decided;
  }

  /** Withdraws every approved, not yet redeemed device request of a user; answers how many there were. */
  async revokeGrantsOf(user: UserRef): Promise<number> {
    const digests = await this.#index.members(user, 'deviceGrants');
    const deleted = digests.length > 0 ? await this.#store.delete(...digests.map(recordKey)) : 0;
    await this.#index.clear(user, ['deviceGrants']);
    return deleted;
  }

  /** One poll of the token endpoint (§3.4/3.5). An approved request is redeemed exactly once. */
  async poll(deviceCode: string, clientId: string): Promise<PollResult> {
    if (!DEVICE_CODE_SHAPE.test(deviceCode)) return { status: 'invalid' };
    const deviceDigest = secretDigest(deviceCode);
    const key = recordKey(deviceDigest);
    const record = parseRecord(await this.#store.get(key));
    if (!record || record.clientId !== clientId) return { status: 'invalid' };
    if (record.expiresAt <= Date.now()) {
      await this.#store.delete(key);
      return { status: 'expired' };
    }
    if (record.status === 'denied') {
      await this.#store.delete(key);
      return { status: 'denied' };
    }
    if (record.status === 'approved') {
      const taken = parseRecord(await this.#store.take(key));
      // Another poll redeemed it a moment ago: this one gets nothing.
      if (taken?.status !== 'approved' || !taken.principal) return { status: 'invalid' };
      await Promise.all([
        this.#store.delete(
          userKey(taken.userCode.replace('-', '')),
          pollKey(deviceDigest),
          slowKey(deviceDigest),
        ),
        this.#index.remove(ownerOf(taken.principal), 'deviceGrants', [deviceDigest]),
      ]);
      return { status: 'approved', record: taken };
    }
    const slowDowns = Number((await this.#store.get(slowKey(deviceDigest))) ?? 0);
    const interval = this.#config.pollIntervalSeconds + SLOW_DOWN_STEP_SECONDS * slowDowns;
    const remainingMs = record.expiresAt - Date.now();
    // A small tolerance: a client that sleeps exactly `interval` must not be told to slow down.
    const guardMs = Math.max(interval * 1000 - 250, 1);
    const onTime = await this.#store.set(pollKey(deviceDigest), '1', { ttlMs: guardMs, onlyIfAbsent: true });
    if (!onTime) {
      await this.#store.increment(slowKey(deviceDigest), 1, remainingMs + LATE_POLL_GRACE_MS);
      return { status: 'slow_down', interval: interval + SLOW_DOWN_STEP_SECONDS };
    }
    return { status: 'pending' };
  }
}
