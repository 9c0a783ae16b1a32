import type { Logger } from 'pino';
import type { CliTokens } from '../auth/device/cli-tokens.ts';
import type { DeviceAuthorizations } from '../auth/device/device-authorizations.ts';
import { FirstSignInProfiles } from '../auth/oidc/first-sign-in-profile.ts';
import { revokeSessions } from '../auth/session/session.ts';
import { endUserSession, type ListedSession, listUserSessions } from '../auth/session/user-sessions.ts';
import type { Config } from '../config/schema.ts';
import { NotFoundError } from '../http/errors.ts';
import { identityCounterKeys } from '../http/middleware/rate-limit.ts';
import type { IdentityResolver } from '../identity/identity-resolver.ts';
import { UserIndex, type UserRef, userId } from '../identity/user-index.ts';
import type { AuditFields, AuditLog } from '../observability/audit.ts';
import type { StateStore } from '../store/types.ts';
import type { CognitoIdentities, DeveloperIdentity } from './cognito-identities.ts';
import type { IssuedCredentialsRevoker, RoleRevocation } from './issued-credentials.ts';
import { isSuspended, parseCredentialMember, type SuspensionMark, type Suspensions } from './suspensions.ts';

/** Who acts, for the audit trail: the admin's principal, the request, the channel. */
export interface AdminContext {
  readonly actor: UserRef;
  readonly requestId: string;
  readonly sourceIp?: string | undefined;
  /** `api` (REST and the CLI) or `portal`. */
  readonly channel: string;
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();

export interface SuspensionView {
  readonly suspended: boolean;
  /** null: until lifted. */
  readonly until: string | null;
  /** Credentials issued before this were revoked. */
  readonly revokedBefore: string;
  readonly liftedAt?: string;
  readonly reason?: string;
}

export interface UserLookup {
  readonly user: string;
  readonly provider: string;
  readonly subject: string;
  /** Every Cognito identity id keywarden knows for this login (and its linked guest identities). */
  readonly identityIds: string[];
  /** What Cognito says (LookupDeveloperIdentity); null when it knows no identity; absent when not asked. */
  readonly cognito?: { identityId: string; logins: readonly string[] } | null;
  readonly suspension: SuspensionView | null;
  readonly sessions: Array<
    Omit<ListedSession, 'createdAt' | 'lastSeenAt' | 'expiresAt'> & {
      createdAt: string;
      lastSeenAt: string;
      expiresAt: string;
    }
  >;
  readonly cliTokens: Array<{
    id: string;
    clientId: string;
    issuedAt: string;
    expiresAt: string;
    requestedFrom?: string;
    userAgent?: string;
  }>;
  /** Device sign-ins approved and not yet redeemed by the CLI. */
  readonly deviceGrants: Array<{ expiresAt: string }>;
  /** Cached credential entries: role, scope and expiry, never the secrets. */
  readonly cachedCredentials: Array<{ role: string; scope?: string; expiresAt: string }>;
  readonly guestIdentities: string[];
}

/** What a revocation ended, and whether AWS now refuses the credentials issued before it. */
export interface RevocationResult {
  readonly user: string;
  readonly suspendedUntil: string | null;
  readonly revokedBefore: string;
  readonly sessions: number;
  readonly cliTokens: number;
  readonly deviceGrants: number;
  readonly cachedCredentials: number;
  readonly identityIds: string[];
  readonly issuedCredentials: IssuedCredentialsOutcome;
}

export interface IssuedCredentialsOutcome {
  /** True when the deny policy is on every role keywarden vends. */
  readonly revoked: boolean;
  readonly roles: RoleRevocation[];
  /** Why nothing was written: `disabled` (admin.revokeIssuedCredentials.enabled is false), `no_identity`. */
  readonly skipped?: string;
}

export interface ErasureResult {
  readonly user: string;
  readonly deletedIdentityIds: string[];
  /** Identities Cognito could not delete, with its error code. */
  readonly unprocessed: Array<{ identityId: string; errorCode: string }>;
  readonly sessions: number;
  readonly cliTokens: number;
  readonly deviceGrants: number;
  readonly cachedCredentials: number;
  readonly issuedCredentials: IssuedCredentialsOutcome;
}

export interface AdminServiceDeps {
  config: Readonly<Config>;
  store: StateStore;
  suspensions: Suspensions;
  revoker: IssuedCredentialsRevoker;
  cognito: CognitoIdentities;
  identities: IdentityResolver;
  cliTokens: CliTokens;
  devices: DeviceAuthorizations;
  audit: AuditLog;
  logger: Logger;
}

/**
 * What an admin can do to a user (`provider:subject`), from any instance: look them up, cut
 * them off (revoke and suspend), lift a suspension, end one session, and the identity
 * lifecycle Cognito offers (unlink, merge, delete), each reflected in keywarden's own records
 * and each audited with who did what to whom.
 */
export class AdminService {
  readonly #deps: AdminServiceDeps;
  readonly #index: UserIndex;

  constructor(deps: AdminServiceDeps) {
    this.#deps = deps;
    this.#index = new UserIndex(deps.store);
  }

  #audit(
    event: Parameters<AuditLog['record']>[0],
    context: AdminContext,
    target: UserRef,
    fields: Omit<AuditFields, 'requestId' | 'sourceIp' | 'provider' | 'subject' | 'actor' | 'target'>,
  ): void {
    this.#deps.audit.record(event, {
      ...fields,
      requestId: context.requestId,
      sourceIp: context.sourceIp,
      provider: context.actor.provider,
      subject: context.actor.subject,
      actor: userId(context.actor),
      target: userId(target),
      channel: context.channel,
    });
  }

  /** What Cognito says, when it is configured and answers; an outage leaves it out. */
  async #cognitoLookup(user: UserRef): Promise<DeveloperIdentity | null | undefined> {
    if (!this.#deps.cognito.configured) return undefined;
    try {
      return (await this.#deps.cognito.lookup(userId(user))) ?? null;
    } catch (error) {
      this.#deps.logger.warn(
        { reason: (error as Error).name },
        "Cognito could not be asked for a user's identity; answering from keywarden's own records",
      );
      return undefined;
    }
  }

  async #identityIds(
    user: UserRef,
    cognito?: DeveloperIdentity | null,
  ): Promise<{ own: string[]; guests: string[] }> {
    const [indexed, guests, remembered] = await Promise.all([
      this.#index.members(user, 'identities'),
      this.#index.members(user, 'guests'),
      this.#deps.identities.rememberedIdentity(user),
    ]);
    const own = new Set(indexed);
    if (remembered) own.add(remembered);
    if (cognito) own.add(cognito.identityId);
    return { own: [...own], guests: guests.filter((id) => !own.has(id)) };
  }

  async lookup(user: UserRef, context: AdminContext): Promise<UserLookup> {
    const { store } = this.#deps;
    const [cognito, sessions, tokens, grants, credentials, mark] = await Promise.all([
      this.#cognitoLookup(user),
      listUserSessions(store, user),
      this.#deps.cliTokens.list(user),
      this.#index.entries(user, 'deviceGrants'),
      this.#liveCredentials(user),
      this.#deps.suspensions.userMark(user),
    ]);
    const { own, guests } = await this.#identityIds(user, cognito);
    this.#audit('admin.lookup', context, user, { outcome: 'success' });
    return {
      user: userId(user),
      provider: user.provider,
      subject: user.subject,
      identityIds: own,
      ...(cognito !== undefined
        ? { cognito: cognito ? { identityId: cognito.identityId, logins: cognito.logins } : null }
        : {}),
      suspension: mark ? suspensionView(mark) : null,
      sessions: sessions.map((session) => ({
        ...session,
        createdAt: iso(session.createdAt),
        lastSeenAt: iso(session.lastSeenAt),
        expiresAt: iso(session.expiresAt),
      })),
      cliTokens: tokens.map(({ id, record }) => ({
        id,
        clientId: record.clientId,
        issuedAt: iso(record.issuedAt),
        expiresAt: iso(record.expiresAt),
        ...(record.requestedFrom ? { requestedFrom: record.requestedFrom } : {}),
        ...(record.userAgent ? { userAgent: record.userAgent } : {}),
      })),
      deviceGrants: grants.map((grant) => ({ expiresAt: iso(grant.expiresAt) })),
      cachedCredentials: credentials.map(({ role, scope, expiresAt }) => ({
        role,
        ...(scope ? { scope } : {}),
        expiresAt: iso(expiresAt),
      })),
      guestIdentities: guests,
    };
  }

  /** The user's indexed cache entries that still exist (dead members are pruned). */
  async #liveCredentials(
    user: UserRef,
  ): Promise<
    Array<{ member: string; cacheKey: string; role: string; scope: string | undefined; expiresAt: number }>
  > {
    const entries = await this.#index.entries(user, 'credentials');
    const parsed = entries.flatMap((entry) => {
      const credential = parseCredentialMember(entry.member);
      return credential ? [{ ...credential, member: entry.member, expiresAt: entry.expiresAt }] : [];
    });
    // Only the presence of each sealed entry is read; nothing is decrypted.
    const present = await Promise.all(parsed.map((entry) => this.#deps.store.get(entry.cacheKey)));
    const gone = parsed.filter((_, at) => present[at] === null).map((entry) => entry.member);
    if (gone.length > 0) await this.#index.remove(user, 'credentials', gone).catch(() => undefined);
    return parsed.filter((_, at) => present[at] !== null);
  }

  /** Deletes the user's cached credential entries; answers how many existed. */
  async #purgeCredentials(user: UserRef): Promise<number> {
    const entries = await this.#index.entries(user, 'credentials');
    const keys = entries.flatMap((entry) => parseCredentialMember(entry.member)?.cacheKey ?? []);
    const deleted = keys.length > 0 ? await this.#deps.store.delete(...keys) : 0;
    await this.#index.clear(user, ['credentials']);
    return deleted;
  }

  /** Sessions, CLI tokens, device grants and cached credentials, ended on every instance. */
  async #endEverything(user: UserRef) {
    const [sessions, cliTokens, deviceGrants, cachedCredentials] = await Promise.all([
      revokeSessions(this.#deps.store, { provider: user.provider, subject: user.subject }),
      this.#deps.cliTokens.revokeAll(user.provider, user.subject),
      this.#deps.devices.revokeGrantsOf(user),
      this.#purgeCredentials(user),
    ]);
    return { sessions, cliTokens, deviceGrants, cachedCredentials };
  }

  async #revokeIssued(identityIds: readonly string[], before: number): Promise<IssuedCredentialsOutcome> {
    if (!this.#deps.revoker.enabled) return { revoked: false, roles: [], skipped: 'disabled' };
    if (identityIds.length === 0) return { revoked: false, roles: [], skipped: 'no_identity' };
    const roles = await this.#deps.revoker.revoke(identityIds, before);
    return { revoked: roles.every((role) => role.revoked), roles };
  }

  /**
   * Cuts a user off now: the suspension marks first (so every instance refuses their next
   * sign-in and vend, and a vend already running does not answer), then every session, CLI token
   * and device grant ended and their cached credentials purged, then the deny policy that makes
   * their outstanding AWS credentials useless.
   */
  async revoke(
    user: UserRef,
    options: { until?: Date | undefined; reason?: string | undefined },
    context: AdminContext,
  ): Promise<RevocationResult> {
    const before = Date.now();
    const cognito = await this.#cognitoLookup(user);
    const { own, guests } = await this.#identityIds(user, cognito);
    const identityIds = [...own, ...guests];
    const until = options.until ? options.until.getTime() : null;
    await this.#deps.suspensions.suspend(user, identityIds, {
      before,
      until,
      ...(options.reason ? { reason: options.reason } : {}),
    });
    const ended = await this.#endEverything(user);
    const issuedCredentials = await this.#revokeIssued(identityIds, before);
    const failed = issuedCredentials.roles.filter((role) => !role.revoked).length;
    this.#audit('admin.user_revoked', context, user, {
      outcome: failed > 0 ? 'failure' : 'success',
      ...(failed > 0 ? { reason: 'issued credentials not revoked on every role' } : {}),
      suspendedUntil: until === null ? 'lifted' : iso(until),
      sessions: ended.sessions,
      tokens: ended.cliTokens,
      grants: ended.deviceGrants,
      cachedCredentials: ended.cachedCredentials,
      identities: identityIds.length,
      rolesRevoked: issuedCredentials.roles.length - failed,
      rolesFailed: failed,
    });
    return {
      user: userId(user),
      suspendedUntil: until === null ? null : iso(until),
      revokedBefore: iso(before),
      ...ended,
      identityIds,
      issuedCredentials,
    };
  }

  /** Lifts a suspension: sign-ins and vends work again; credentials issued before the revocation stay revoked. */
  async unsuspend(user: UserRef, context: AdminContext): Promise<{ user: string; wasSuspended: boolean }> {
    const { own, guests } = await this.#identityIds(user);
    const previous = await this.#deps.suspensions.lift(user, [...own, ...guests]);
    // Entries a vend in flight wrote after the revocation's purge; they are not served anyway.
    await this.#purgeCredentials(user);
    const wasSuspended = isSuspended(previous);
    this.#audit('admin.user_unsuspended', context, user, {
      outcome: 'success',
      ...(wasSuspended ? {} : { reason: 'not suspended' }),
    });
    return { user: userId(user), wasSuspended };
  }

  /** Ends one session (one reported stolen, say) on every instance. */
  async revokeSession(user: UserRef, sessionId: string, context: AdminContext): Promise<void> {
    const ended = await endUserSession(this.#deps.store, user, sessionId);
    this.#audit('admin.session_revoked', context, user, {
      outcome: ended ? 'success' : 'failure',
      sessions: ended ? 1 : 0,
      ...(ended ? {} : { reason: 'unknown_session' }),
    });
    if (!ended) throw new NotFoundError('This user has no such session.', 'unknown_session');
  }

  async #requireIdentity(user: UserRef, context: AdminContext, event: Parameters<AuditLog['record']>[0]) {
    const identity = await this.#deps.cognito.lookup(userId(user));
    if (!identity) {
      this.#audit(event, context, user, { outcome: 'failure', reason: 'unknown_identity' });
      throw new NotFoundError('Cognito has no identity for this user.', 'unknown_identity');
    }
    return identity;
  }

  /**
   * UnlinkDeveloperIdentity: the login leaves its identity (which keeps its other logins and its
   * data); the next vend makes the login a new identity. keywarden forgets the old identity for
   * this login and purges its cached credentials, which were for the old identity.
   */
  async unlink(user: UserRef, context: AdminContext): Promise<{ user: string; identityId: string }> {
    const identity = await this.#requireIdentity(user, context, 'admin.identity_unlinked');
    await this.#deps.cognito.unlink(identity.identityId, userId(user));
    await Promise.all([
      this.#deps.identities.forget(user),
      this.#index.clear(user, ['identities']),
      this.#purgeCredentials(user),
    ]);
    this.#audit('admin.identity_unlinked', context, user, {
      outcome: 'success',
      identityId: identity.identityId,
    });
    return { user: userId(user), identityId: identity.identityId };
  }

  /**
   * MergeDeveloperIdentities: `user`'s identity is merged into `into`'s, which survives with both
   * logins. keywarden then resolves `user` to the surviving identity and purges their cached
   * credentials (made for the identity that no longer exists).
   */
  async merge(
    user: UserRef,
    into: UserRef,
    context: AdminContext,
  ): Promise<{ user: string; into: string; identityId: string }> {
    await this.#requireIdentity(user, context, 'admin.identities_merged');
    await this.#requireIdentity(into, context, 'admin.identities_merged');
    const identityId = await this.#deps.cognito.merge(userId(user), userId(into));
    await Promise.all([
      this.#deps.identities.rememberIdentity(user, identityId),
      this.#purgeCredentials(user),
    ]);
    this.#audit('admin.identities_merged', context, user, {
      outcome: 'success',
      mergedInto: userId(into),
      identityId,
    });
    return { user: userId(user), into: userId(into), identityId };
  }

  /**
   * An erasure request: every session, CLI token, device grant and cached credential ended, the
   * credentials already issued denied at AWS, the identities deleted at Cognito
   * (DeleteIdentities), and everything keywarden keeps about the user erased: its records of
   * their identities and linked guests, their index, their per-identity rate-limit counters and
   * a name kept from a first sign-in. A suspension stays (it is policy, not the user's data).
   */
  async deleteIdentity(user: UserRef, context: AdminContext): Promise<ErasureResult> {
    const before = Date.now();
    // Asked strictly: an erasure that cannot reach Cognito fails (503) rather than half-happen.
    const configured = this.#deps.cognito.configured;
    const cognito = configured ? await this.#deps.cognito.lookup(userId(user)) : null;
    const { own, guests } = await this.#identityIds(user, cognito ?? null);
    const identityIds = [...own, ...guests];
    const ended = await this.#endEverything(user);
    const issuedCredentials = await this.#revokeIssued(identityIds, before);
    const unprocessed =
      configured && identityIds.length > 0 ? await this.#deps.cognito.delete(identityIds) : [];
    const { store, config } = this.#deps;
    await Promise.all([
      this.#deps.identities.forget(user, guests),
      this.#deps.suspensions.forgetIdentities(identityIds),
      this.#index.clear(user),
      store.delete(...identityCounterKeys(config, userId(user))),
      new FirstSignInProfiles(store).forget(user.provider, user.subject),
    ]);
    const failed = issuedCredentials.roles.filter((role) => !role.revoked).length;
    this.#audit('admin.identity_deleted', context, user, {
      outcome: unprocessed.length > 0 || failed > 0 ? 'failure' : 'success',
      ...(unprocessed.length > 0 ? { reason: 'Cognito did not delete every identity' } : {}),
      identities: identityIds.length - unprocessed.length,
      sessions: ended.sessions,
      tokens: ended.cliTokens,
      grants: ended.deviceGrants,
      cachedCredentials: ended.cachedCredentials,
      rolesRevoked: issuedCredentials.roles.length - failed,
      rolesFailed: failed,
    });
    const unprocessedIds = new Set(unprocessed.map((item) => item.identityId));
    return {
      user: userId(user),
      deletedIdentityIds: identityIds.filter((id) => !unprocessedIds.has(id)),
      unprocessed,
      ...ended,
      issuedCredentials,
    };
  }
}

export function suspensionView(mark: SuspensionMark): SuspensionView {
  return {
    suspended: isSuspended(mark),
    until: mark.until === null ? null : iso(mark.until),
    revokedBefore: iso(mark.before),
    ...(mark.lifted !== undefined ? { liftedAt: iso(mark.lifted) } : {}),
    ...(mark.reason ? { reason: mark.reason } : {}),
  };
}
