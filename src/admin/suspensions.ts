import type { Request, RequestHandler } from 'express';
import type { Principal } from '../auth/principal.ts';
import { secretDigest } from '../auth/secret-token.ts';
import type { SignInAdmission } from '../auth/session/session-middleware.ts';
import type { CredentialOwner, Revocation, VendedEntry, VendGuard } from '../broker/credential-broker.ts';
import { UserSuspendedError } from '../http/errors.ts';
import { UserIndex, type UserRef, userTag } from '../identity/user-index.ts';
import type { AuditLog } from '../observability/audit.ts';
import type { StateStore } from '../store/types.ts';

/**
 * An admin's revocation, as one small record per user (`susp:{<user digest>}`) and one per
 * Cognito identity id of theirs (`susp:id:{<identity digest>}`, which guest tokens of a linked
 * identity are checked against):
 *  - `before`: credentials issued before this moment were revoked (at AWS, by the deny policy;
 *    in keywarden's cache, by not serving an entry that old);
 *  - `until`: new sign-ins and vends are refused until then (null: until lifted);
 *  - `lifted`: when an admin lifted the suspension early.
 * The record outlives the suspension for as long as any credential issued before `before` could
 * still be cached (`keepMs`: the longest credential lifetime), then expires. Reading it is one
 * GET of one key, issued alongside a request's existing round trips.
 */
export interface SuspensionMark {
  readonly before: number;
  readonly until: number | null;
  readonly lifted?: number;
  /** Why, as the admin put it (a ticket number, say); never shown to the user. */
  readonly reason?: string;
}

const userMarkKey = (user: UserRef) => `susp:${userTag(user)}`;
const identityMarkKey = (identityId: string) => `susp:id:{${secretDigest(identityId)}}`;

export function isSuspended(mark: SuspensionMark | undefined, now = Date.now()): boolean {
  return mark !== undefined && mark.lifted === undefined && (mark.until === null || mark.until > now);
}

function parseMark(raw: string | null): SuspensionMark | undefined {
  if (raw === null) return undefined;
  try {
    const mark = JSON.parse(raw) as SuspensionMark;
    return typeof mark.before === 'number' ? mark : undefined;
  } catch {
    return undefined;
  }
}

function revocationOf(mark: SuspensionMark | undefined): Revocation | undefined {
  return mark ? { suspended: isSuspended(mark), before: mark.before } : undefined;
}

function ownerKey(owner: CredentialOwner): string {
  return owner.kind === 'user' ? userMarkKey(owner.principal) : identityMarkKey(owner.identityId);
}

/** The cache entries a user's index lists: `{"k":cache key,"r":role,"s":scope}`. */
export interface IndexedCredential {
  readonly cacheKey: string;
  readonly role: string;
  readonly scope: string | undefined;
}

export function credentialMember(entry: Pick<VendedEntry, 'cacheKey' | 'role' | 'scope'>): string {
  return JSON.stringify({ k: entry.cacheKey, r: entry.role, ...(entry.scope ? { s: entry.scope } : {}) });
}

export function parseCredentialMember(member: string): IndexedCredential | undefined {
  try {
    const { k, r, s } = JSON.parse(member) as { k?: unknown; r?: unknown; s?: unknown };
    if (typeof k !== 'string' || typeof r !== 'string') return undefined;
    return { cacheKey: k, role: r, scope: typeof s === 'string' ? s : undefined };
  } catch {
    return undefined;
  }
}

export class Suspensions {
  readonly #store: StateStore;
  readonly #index: UserIndex;
  readonly #keepMs: number;
  readonly #audit: AuditLog;

  constructor(deps: { store: StateStore; audit: AuditLog; keepMs: number }) {
    this.#store = deps.store;
    this.#index = new UserIndex(deps.store);
    this.#keepMs = deps.keepMs;
    this.#audit = deps.audit;
  }

  /** The owner's revocation, if any: one GET. */
  async revocationOf(owner: CredentialOwner): Promise<Revocation | undefined> {
    return revocationOf(parseMark(await this.#store.get(ownerKey(owner))));
  }

  async userMark(user: UserRef): Promise<SuspensionMark | undefined> {
    return parseMark(await this.#store.get(userMarkKey(user)));
  }

  async identityMark(identityId: string): Promise<SuspensionMark | undefined> {
    return parseMark(await this.#store.get(identityMarkKey(identityId)));
  }

  /** Kept until the suspension ends and every credential issued before `before` has expired. */
  #ttlMs(mark: SuspensionMark, now: number): number | undefined {
    if (isSuspended(mark, now) && mark.until === null) return undefined;
    const end = Math.max(mark.lifted ?? mark.until ?? now, mark.before + this.#keepMs);
    return Math.max(1_000, end - now);
  }

  /** Writes the marks of a user and their identities (first, before anything they hold is ended). */
  async suspend(user: UserRef, identityIds: readonly string[], mark: SuspensionMark): Promise<void> {
    const now = Date.now();
    const text = JSON.stringify(mark);
    const ttlMs = this.#ttlMs(mark, now);
    await Promise.all(
      [userMarkKey(user), ...identityIds.map(identityMarkKey)].map((key) =>
        this.#store.set(key, text, ttlMs === undefined ? {} : { ttlMs }),
      ),
    );
  }

  /**
   * Lifts a user's suspension (and their identities'): sign-ins and vends work again, while the
   * mark stays, as `lifted`, until credentials issued before the revocation are all expired.
   * Answers the mark as it was, or undefined when there was none.
   */
  async lift(user: UserRef, identityIds: readonly string[]): Promise<SuspensionMark | undefined> {
    const current = await this.userMark(user);
    if (!current) return undefined;
    const now = Date.now();
    const lifted: SuspensionMark = { ...current, lifted: now };
    const ttlMs = this.#ttlMs(lifted, now);
    const text = JSON.stringify(lifted);
    const identityMarks = await Promise.all(identityIds.map((id) => this.identityMark(id)));
    await Promise.all([
      this.#store.set(userMarkKey(user), text, { ttlMs }),
      // Only the identity marks this revocation wrote: another user's later one is not theirs to lift.
      ...identityIds
        .filter((_, at) => identityMarks[at]?.before === current.before)
        .map((id) => this.#store.set(identityMarkKey(id), text, { ttlMs })),
    ]);
    return current;
  }

  /** Forgets the marks of deleted identities. */
  async forgetIdentities(identityIds: readonly string[]): Promise<void> {
    if (identityIds.length > 0) await this.#store.delete(...identityIds.map(identityMarkKey));
  }

  /** The sign-in and CLI-token admission: a suspended user is refused (and audited). */
  admission(): SignInAdmission {
    return async (req: Request, principal: Principal) => {
      const revocation = await this.revocationOf({ kind: 'user', principal });
      if (!revocation?.suspended) return;
      this.#audit.record('login.failed', {
        outcome: 'denied',
        requestId: req.scope.requestId,
        sourceIp: req.scope.sourceIp,
        provider: principal.provider,
        subject: principal.subject,
        reason: 'user_suspended',
      });
      throw new UserSuspendedError();
    };
  }

  /**
   * The credential broker's guard: the mark read with the cache entry; after a vend, the new
   * entry indexed for its user (its role, scope and expiry, for the admin's lookup and the
   * purge at revocation) and the mark read once more.
   */
  vendGuard(): VendGuard {
    return {
      check: (owner) => this.revocationOf(owner),
      afterVend: async (owner, entry) => {
        const [revocation, evicted] = await Promise.all([
          this.revocationOf(owner),
          owner.kind === 'user'
            ? this.#index.add(owner.principal, 'credentials', credentialMember(entry), entry.expiresAt)
            : [],
        ]);
        const stale = evicted.flatMap((member) => parseCredentialMember(member)?.cacheKey ?? []);
        if (stale.length > 0) await this.#store.delete(...stale).catch(() => undefined);
        return revocation;
      },
      discard: async (cacheKey) => {
        await this.#store.delete(cacheKey);
      },
    };
  }

  /**
   * After authentication: callers whose credential a revocation cannot delete (bearer tokens
   * from other issuers, guest tokens of a linked identity) have their mark read now, and the
   * answer is awaited with the route's rate-limit count (`req.scope.screening`), so a suspended
   * caller is refused on every route without a round trip of its own. Sessions and CLI tokens
   * are deleted by the revocation itself.
   */
  screening(): RequestHandler {
    return (req, _res, next) => {
      const principal = req.scope.principal;
      const method = req.scope.authMethod;
      if (!principal || (method !== 'bearer' && method !== 'guest-token')) return next();
      const owner: CredentialOwner =
        principal.kind === 'guest'
          ? { kind: 'guest', identityId: req.scope.identityId ?? principal.subject }
          : { kind: 'user', principal };
      const screening = this.revocationOf(owner).then((revocation) => {
        if (revocation?.suspended) throw new UserSuspendedError();
      });
      // Observed now so that a refusal is never an unhandled rejection; awaited by the route.
      screening.catch(() => undefined);
      req.scope.screening = screening;
      next();
    };
  }
}
