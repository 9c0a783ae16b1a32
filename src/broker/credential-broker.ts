import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { developerUserIdentifier, type Principal } from '../auth/principal.ts';
import { type AwsCallContext, AwsConfigurationError } from '../aws/aws-call.ts';
import type { AwsClients } from '../aws/clients.ts';
import type {
  AwsCredentials,
  CachedCredentials,
  CacheOutcome,
  CredentialCache,
} from '../cache/credential-cache.ts';
import {
  type AwsConfig,
  type CredentialsConfig,
  ENHANCED_FLOW_SECONDS,
  MIN_SESSION_SECONDS,
} from '../config/aws-schema.ts';
import { BadRequestError, ForbiddenError, UserSuspendedError } from '../http/errors.ts';
import type { IdentityResolver } from '../identity/identity-resolver.ts';
import type { Metrics } from '../observability/metrics.ts';
import { assumeRoleWithWebIdentity, getCredentialsForIdentity } from './credential-flows.ts';
import { type AllowedRole, allowedRoleNames, allowedRoles } from './role-mapping.ts';
import { renderScopePolicy, ScopePolicyTooLargeError, ScopeVariableError } from './scope-policy.ts';
import { VendingNotConfiguredError, vendingConfigured } from './vending-readiness.ts';

export interface CredentialRequest {
  readonly principal: Principal;
  /** For guests: their identity id (defaults to the guest principal's subject). */
  readonly identityId?: string;
  /** For signed-in users: the guest identity this session had before sign-in, to link once. */
  readonly guestIdentityId?: string;
  /** A role name from config; defaults to the principal's preferred allowed role. */
  readonly role?: string;
  /** A scope name from config; defaults to `credentials.defaultScope`. */
  readonly scope?: string;
  readonly durationSeconds?: number;
  /** For audit records of identity linking. */
  readonly requestId?: string;
  readonly sourceIp?: string;
}

export interface IssuedCredentials {
  readonly identityId: string;
  /** The role's name in config. */
  readonly role: string;
  readonly roleArn: string;
  readonly scope: string | undefined;
  /** The session length asked of AWS (enhanced flow: always 3600). */
  readonly durationSeconds: number;
  readonly credentials: AwsCredentials;
  readonly cache: CacheOutcome;
}

/** Whose credentials a cache entry holds: a signed-in user's, or a guest identity's. */
export type CredentialOwner =
  | { readonly kind: 'user'; readonly principal: Principal }
  | { readonly kind: 'guest'; readonly identityId: string };

/** An admin's revocation of an owner, as the vend path reads it. */
export interface Revocation {
  /** New credentials are refused (`user_suspended`) while this holds. */
  readonly suspended: boolean;
  /** Credentials issued before this time (epoch ms) were revoked at AWS: a cached entry that old is not served. */
  readonly before: number;
}

/** A vend that missed the cache, for the owner's index (role, scope and expiry; never the secret). */
export interface VendedEntry {
  readonly cacheKey: string;
  readonly role: string;
  readonly scope: string | undefined;
  readonly identityId: string;
  readonly expiresAt: number;
}

/**
 * Puts every vend to admins' revocations (src/admin/; present only when admin is configured).
 * `check` is issued in the same tick as the cache read, so both travel in one round trip;
 * after a vend, `afterVend` indexes the new entry for the owner and checks again, so a vend
 * in flight when a revocation landed never reaches its caller.
 */
export interface VendGuard {
  check(owner: CredentialOwner): Promise<Revocation | undefined>;
  afterVend(owner: CredentialOwner, entry: VendedEntry): Promise<Revocation | undefined>;
  /** Deletes a cache entry that may no longer be served. */
  discard(cacheKey: string): Promise<void>;
}

export interface CredentialBrokerDeps {
  clients: AwsClients;
  aws: Readonly<AwsConfig>;
  config: Readonly<CredentialsConfig>;
  identities: IdentityResolver;
  cache: CredentialCache;
  metrics: Metrics;
  logger: Logger;
  guard?: VendGuard | undefined;
}

function refuseIfSuspended(revocation: Revocation | undefined): void {
  if (revocation?.suspended) throw new UserSuspendedError();
}

const MAX_REMEMBERED_KEYS = 2_000;

/** Stand-in identity used to check that a scope renders before anything is asked of AWS. */
const PROBE_IDENTITY = 'us-east-1:00000000-0000-0000-0000-000000000000';

/**
 * Principal + request → credentials. Everything that can be refused is refused before AWS
 * is called (role, scope, duration, unrenderable claims); then the cache decides whether a
 * vend is needed, and at most one vend per (identity, role, scope, duration) runs at a time.
 */
export class CredentialBroker {
  readonly #deps: CredentialBrokerDeps;
  readonly #aws: AwsCallContext;
  /** Cache keys of recent requests by their material: the same caller asks again and again. */
  readonly #cacheKeys = new Map<string, string>();

  constructor(deps: CredentialBrokerDeps) {
    this.#deps = deps;
    this.#aws = { metrics: deps.metrics, logger: deps.logger };
  }

  /** Roles this principal may ask for, preferred first (for the portal and GET /auth/session). */
  allowedRoles(principal: Principal): AllowedRole[] {
    return allowedRoles(this.#deps.config, principal);
  }

  async getCredentials(request: CredentialRequest): Promise<IssuedCredentials> {
    const { config, aws } = this.#deps;
    const { principal } = request;
    if (!vendingConfigured({ aws, credentials: config })) throw new VendingNotConfiguredError();

    const allowed = allowedRoleNames(config, principal);
    const roleName = request.role ?? allowed[0];
    if (roleName === undefined) {
      throw new ForbiddenError('No role is available to this caller.', 'no_role_allowed');
    }
    if (!allowed.includes(roleName)) {
      throw new ForbiddenError('This role is not allowed for this caller.', 'role_not_allowed');
    }
    // Own keys only: `constructor` or `toString` must not find Object.prototype's members.
    const role = Object.hasOwn(config.roles, roleName) ? config.roles[roleName] : undefined;
    if (!role) throw new AwsConfigurationError(`role "${roleName}" is not defined`);

    const scopeName = request.scope ?? config.defaultScope;
    const scope =
      scopeName !== undefined && Object.hasOwn(config.scopes, scopeName)
        ? config.scopes[scopeName]
        : undefined;
    if (scopeName !== undefined && !scope) throw new BadRequestError('No such scope.', 'unknown_scope');

    const requested =
      request.durationSeconds ?? Math.min(config.defaultDurationSeconds, role.maxSessionDuration);
    if (
      !Number.isInteger(requested) ||
      requested < MIN_SESSION_SECONDS ||
      requested > role.maxSessionDuration
    ) {
      throw new BadRequestError(
        `durationSeconds must be between ${MIN_SESSION_SECONDS} and ${role.maxSessionDuration} for this role.`,
        'invalid_duration',
      );
    }
    const durationSeconds = aws.pool.flow === 'enhanced' ? ENHANCED_FLOW_SECONDS : requested;

    const isGuest = principal.kind === 'guest';
    const guestIdentityId = isGuest ? (request.identityId ?? principal.subject) : undefined;
    const render = (identityId: string) =>
      scope ? this.#renderScope(scope.policy, principal, identityId) : undefined;
    // Refuses claims that cannot be placed in the scope before anything is asked of AWS. A
    // cached answer needs no check: its key holds the claims, the template and the variable
    // bound, and it was only stored after this very check passed.
    const probe = () => render(guestIdentityId ?? PROBE_IDENTITY);

    if (
      !isGuest &&
      request.guestIdentityId &&
      !(await this.#deps.identities.guestLinkSettled(request.guestIdentityId))
    ) {
      probe();
      // The first request after a guest signs in links the login to the guest identity,
      // even when credentials for the user are already cached from another device.
      await this.#deps.identities.openIdTokenForUser(principal, {
        guestIdentityId: request.guestIdentityId,
        requestId: request.requestId,
        sourceIp: request.sourceIp,
      });
    }

    const cacheKey = this.#cacheKey(
      principal,
      guestIdentityId,
      role.arn,
      roleName,
      scope?.policy,
      scopeName,
      durationSeconds,
    );
    const vend = async (): Promise<CachedCredentials> => {
      probe();
      if (guestIdentityId) {
        if (aws.pool.flow === 'enhanced') {
          const credentials = await getCredentialsForIdentity(this.#deps.clients, this.#aws, {
            identityId: guestIdentityId,
          });
          return { identityId: guestIdentityId, credentials };
        }
        const { token } = await this.#deps.identities.openIdTokenForGuest(guestIdentityId);
        const policy = render(guestIdentityId);
        const credentials = await assumeRoleWithWebIdentity(this.#deps.clients, this.#aws, {
          identityId: guestIdentityId,
          token,
          roleArn: role.arn,
          durationSeconds,
          ...(policy ? { policy } : {}),
        });
        return { identityId: guestIdentityId, credentials };
      }
      const { identityId, token } = await this.#deps.identities.openIdTokenForUser(principal);
      if (aws.pool.flow === 'enhanced') {
        // The pool's authenticated role applies unless another role was chosen.
        const customRoleArn = roleName === config.defaultRole ? undefined : role.arn;
        const credentials = await getCredentialsForIdentity(this.#deps.clients, this.#aws, {
          identityId,
          token,
          ...(customRoleArn ? { customRoleArn } : {}),
        });
        return { identityId, credentials };
      }
      const policy = render(identityId);
      const credentials = await assumeRoleWithWebIdentity(this.#deps.clients, this.#aws, {
        identityId,
        token,
        roleArn: role.arn,
        durationSeconds,
        ...(policy ? { policy } : {}),
      });
      return { identityId, credentials };
    };

    const guard = this.#deps.guard;
    const { value, outcome } = guard
      ? await this.#guardedGet(guard, {
          owner: guestIdentityId
            ? { kind: 'guest', identityId: guestIdentityId }
            : { kind: 'user', principal },
          cacheKey,
          vend,
          durationSeconds,
          role: roleName,
          scope: scopeName,
        })
      : await this.#deps.cache.get(cacheKey, vend);
    return {
      identityId: value.identityId,
      role: roleName,
      roleArn: role.arn,
      scope: scopeName,
      durationSeconds,
      credentials: value.credentials,
      cache: outcome,
    };
  }

  /**
   * The cache lookup under an admin's revocations: the owner's mark is read with the cache entry
   * (one round trip), a vend waits for it, an entry issued before the owner's credentials were
   * revoked is vended anew, and a vend (this request's or a concurrent one's) is checked once
   * more after it returns.
   */
  async #guardedGet(
    guard: VendGuard,
    lookup: {
      owner: CredentialOwner;
      cacheKey: string;
      vend: () => Promise<CachedCredentials>;
      durationSeconds: number;
      role: string;
      scope: string | undefined;
    },
  ): Promise<{ value: CachedCredentials; outcome: CacheOutcome }> {
    const { owner, cacheKey } = lookup;
    const gate = guard.check(owner);
    // Observed now so that a store failure is never an unhandled rejection; awaited below.
    gate.catch(() => undefined);
    const vend = async () => {
      refuseIfSuspended(await gate);
      return lookup.vend();
    };
    let result = await this.#deps.cache.get(cacheKey, vend);
    const revocation = await gate;
    refuseIfSuspended(revocation);
    const issuedAt = result.value.credentials.expiration.getTime() - lookup.durationSeconds * 1000;
    if (revocation && result.outcome !== 'miss' && issuedAt < revocation.before) {
      // Revoked at AWS (and purged at revocation, unless written just after): vend anew.
      await guard.discard(cacheKey);
      result = await this.#deps.cache.get(cacheKey, vend);
    }
    if (result.outcome === 'miss' || result.outcome === 'shared') {
      const after =
        result.outcome === 'miss'
          ? await guard.afterVend(owner, {
              cacheKey,
              role: lookup.role,
              scope: lookup.scope,
              identityId: result.value.identityId,
              expiresAt: result.value.credentials.expiration.getTime(),
            })
          : await guard.check(owner);
      if (after?.suspended) {
        if (result.outcome === 'miss') await guard.discard(cacheKey).catch(() => undefined);
        throw new UserSuspendedError();
      }
    }
    return result;
  }

  #renderScope(
    template: Readonly<Record<string, unknown>>,
    principal: Principal,
    identityId: string,
  ): string {
    try {
      return renderScopePolicy(
        template,
        { identityId, sub: principal.subject, provider: principal.provider, claims: principal.claims },
        this.#deps.config.maxVariableLength,
      );
    } catch (error) {
      if (error instanceof ScopeVariableError || error instanceof ScopePolicyTooLargeError) {
        // The caller's own claims cannot be placed in this scope safely: refuse, never widen.
        throw new ForbiddenError('This scope is not available to this caller.', 'scope_not_available', {
          cause: error,
        });
      }
      throw error;
    }
  }

  /**
   * One cache entry per (identity, role, scope, duration). A signed-in user's identity is
   * named by the developer user identifier (1:1 with the Cognito identity, and known without
   * a Cognito call); the claims are part of the key so a change of groups or of a claim used
   * in a scope is never answered with credentials rendered from the old values. Hashed, so
   * no user name or claim appears in a store key.
   */
  #cacheKey(
    principal: Principal,
    guestIdentityId: string | undefined,
    roleArn: string,
    roleName: string,
    scopePolicy: unknown,
    scopeName: string | undefined,
    durationSeconds: number,
  ): string {
    const owner = guestIdentityId ? `guest:${guestIdentityId}` : `user:${developerUserIdentifier(principal)}`;
    const claims = Object.entries(principal.claims).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const material = JSON.stringify([
      'v2',
      this.#deps.aws.pool.identityPoolId,
      this.#deps.aws.pool.flow,
      owner,
      roleName,
      roleArn,
      scopeName ?? null,
      scopePolicy ?? null,
      this.#deps.config.maxVariableLength,
      durationSeconds,
      claims,
    ]);
    let key = this.#cacheKeys.get(material);
    if (key === undefined) {
      key = `cred:${createHash('sha256').update(material).digest('base64url')}`;
      if (this.#cacheKeys.size >= MAX_REMEMBERED_KEYS)
        this.#cacheKeys.delete(this.#cacheKeys.keys().next().value!);
      this.#cacheKeys.set(material, key);
    }
    return key;
  }
}
