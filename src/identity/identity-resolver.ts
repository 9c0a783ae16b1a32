import { createHash } from 'node:crypto';
import {
  GetIdCommand,
  GetOpenIdTokenCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
} from '@aws-sdk/client-cognito-identity';
import type { Logger } from 'pino';
import { developerUserIdentifier, type Principal } from '../auth/principal.ts';
import { type AwsCallContext, AwsConfigurationError, callAws } from '../aws/aws-call.ts';
import type { AwsClients } from '../aws/clients.ts';
import { VendingNotConfiguredError } from '../broker/vending-readiness.ts';
import type { AwsConfig } from '../config/aws-schema.ts';
import { KeywardenError } from '../http/errors.ts';
import type { AuditLog } from '../observability/audit.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { StateStore } from '../store/types.ts';
import { UserIndex, type UserRef, userId } from './user-index.ts';

/**
 * Principal → Cognito identity. A signed-in principal is a developer user identifier
 * (`<provider>:<subject>`) that Cognito maps to one identity id forever; a guest is an
 * identity made by GetId without logins. The store remembers user → identity id so the
 * id is known without a Cognito call (GET /auth/session, cache keys); Cognito stays the
 * source of truth and every vend refreshes the record.
 */

const REMEMBER_MS = 30 * 24 * 3600 * 1000;

export interface OpenIdToken {
  readonly identityId: string;
  /** A Cognito OpenID token: short-lived, used at once, never stored or logged. */
  readonly token: string;
}

export interface IdentityResolverDeps {
  clients: AwsClients;
  config: Readonly<AwsConfig>;
  store: StateStore;
  metrics: Metrics;
  logger: Logger;
  audit: AuditLog;
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * What a principal tag value may hold: Cognito passes the tags on as STS session tags, whose
 * values are at most 256 characters of letters, separators, numbers and `_.:/=+-@` (STS API
 * reference, Tag); Cognito itself wants at least one character.
 */
const PRINCIPAL_TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u;

/** Why a claim value cannot be a principal tag, or undefined when it can. */
function principalTagValueRefusal(value: string): string | undefined {
  if (value.length === 0 || value.length > 256) return 'empty or longer than 256 characters';
  if (!PRINCIPAL_TAG_VALUE.test(value)) return 'characters Cognito refuses';
  return undefined;
}

function isResourceConflict(error: unknown): boolean {
  return (
    error instanceof KeywardenError &&
    (error.cause as { name?: unknown } | undefined)?.name === 'ResourceConflictException'
  );
}

export class IdentityResolver {
  readonly #deps: IdentityResolverDeps;
  readonly #aws: AwsCallContext;
  /**
   * Links in progress in this process, so a burst of first requests after sign-in links once.
   * Keyed by guest identity *and* login: another login naming the same guest identity must get
   * its own answer (ResourceConflict, then its own identity), never this login's token.
   */
  readonly #linking = new Map<string, Promise<OpenIdToken>>();
  /** The user's index lists the identities and linked guest identities of each login (admin lookup, revocation). */
  readonly #index: UserIndex;

  constructor(deps: IdentityResolverDeps) {
    this.#deps = deps;
    this.#aws = { metrics: deps.metrics, logger: deps.logger };
    this.#index = new UserIndex(deps.store);
  }

  get #poolId(): string {
    const poolId = this.#deps.config.pool.identityPoolId;
    if (!poolId) throw new VendingNotConfiguredError();
    return poolId;
  }

  /** The identity id last seen for this signed-in principal, without calling AWS. */
  async knownIdentityId(principal: Principal): Promise<string | undefined> {
    if (principal.kind === 'guest') return principal.subject;
    return (await this.#deps.store.get(this.#userKey(principal))) ?? undefined;
  }

  #userKey(user: UserRef): string {
    return `ident:user:${digest(userId(user))}`;
  }

  /** Remembers which identity a login now resolves to (after an admin's merge). */
  async rememberIdentity(user: UserRef, identityId: string): Promise<void> {
    await Promise.all([
      this.#deps.store.set(this.#userKey(user), identityId, { ttlMs: REMEMBER_MS }),
      this.#index.add(user, 'identities', identityId, Date.now() + REMEMBER_MS),
    ]);
  }

  /** The identity id last seen for a login (admin lookup), without calling AWS. */
  async rememberedIdentity(user: UserRef): Promise<string | undefined> {
    return (await this.#deps.store.get(this.#userKey(user))) ?? undefined;
  }

  /**
   * Forgets what keywarden remembers of a login's identities (after an admin unlinked or
   * deleted them): the login → identity record and, for the guest identities given, that they
   * were linked. The next vend asks Cognito again.
   */
  async forget(user: UserRef, guestIdentityIds: readonly string[] = []): Promise<void> {
    await this.#deps.store.delete(
      this.#userKey(user),
      ...guestIdentityIds.map((guestId) => `ident:linked:${digest(guestId)}`),
    );
  }

  /**
   * The configured claims as Cognito principal tags. A value Cognito would refuse is left out
   * rather than sent: one odd claim would otherwise fail the whole token request
   * (InvalidParameterException → 500) and lock the user out of credentials.
   */
  #principalTags(principal: Principal): Record<string, string> | undefined {
    const tags: Record<string, string> = {};
    for (const [tag, claim] of Object.entries(this.#deps.config.pool.principalTags)) {
      const value = claim === 'sub' ? principal.subject : principal.claims[claim];
      if (value === undefined) continue;
      const refusal = typeof value === 'string' ? principalTagValueRefusal(value) : 'not a single string';
      if (refusal !== undefined || typeof value !== 'string') {
        // The claim's value is the user's data and is never logged; the tag and why suffice.
        this.#deps.logger.debug({ tag, claim, reason: refusal }, 'principal tag left out');
        continue;
      }
      tags[tag] = value;
    }
    return Object.keys(tags).length > 0 ? tags : undefined;
  }

  async #developerToken(principal: Principal, linkIdentityId: string | undefined): Promise<OpenIdToken> {
    const { config, clients } = this.#deps;
    const principalTags = this.#principalTags(principal);
    const output = await callAws(this.#aws, 'GetOpenIdTokenForDeveloperIdentity', () =>
      clients.cognito.send(
        new GetOpenIdTokenForDeveloperIdentityCommand({
          IdentityPoolId: this.#poolId,
          Logins: { [config.pool.developerProviderName]: developerUserIdentifier(principal) },
          TokenDuration: config.pool.tokenDurationSeconds,
          ...(principalTags ? { PrincipalTags: principalTags } : {}),
          ...(linkIdentityId ? { IdentityId: linkIdentityId } : {}),
        }),
      ),
    );
    if (!output.IdentityId || !output.Token) {
      throw new AwsConfigurationError(
        'GetOpenIdTokenForDeveloperIdentity answered without an identity or token',
      );
    }
    await Promise.all([
      this.#deps.store.set(this.#userKey(principal), output.IdentityId, { ttlMs: REMEMBER_MS }),
      this.#index.add(principal, 'identities', output.IdentityId, Date.now() + REMEMBER_MS),
    ]);
    return { identityId: output.IdentityId, token: output.Token };
  }

  /**
   * An OpenID token for a signed-in principal. With `guestIdentityId` (the guest identity the
   * same browser or app had before signing in) the login is linked to that identity the first
   * time, as Cognito documents for developer identities:
   *  - the login has no identity yet → it joins the guest identity, whose id survives;
   *  - the login already has an identity → Cognito merges the guest identity into it and
   *    answers the existing id (the guest id becomes an alias of it);
   *  - the guest identity already belongs to another login → ResourceConflictException;
   *    the login then resolves on its own and the guest identity is left alone.
   */
  async openIdTokenForUser(
    principal: Principal,
    options: { guestIdentityId?: string; requestId?: string; sourceIp?: string } = {},
  ): Promise<OpenIdToken> {
    const guestId = options.guestIdentityId;
    const linkedKey = guestId ? `ident:linked:${digest(guestId)}` : undefined;
    if (!guestId || !linkedKey || (await this.#deps.store.get(linkedKey)) !== null) {
      return this.#developerToken(principal, undefined);
    }
    const inflightKey = `${linkedKey}|${digest(developerUserIdentifier(principal))}`;
    const running = this.#linking.get(inflightKey);
    if (running) return running;
    const linking = this.#link(principal, guestId, linkedKey, options).finally(() =>
      this.#linking.delete(inflightKey),
    );
    this.#linking.set(inflightKey, linking);
    return linking;
  }

  async #link(
    principal: Principal,
    guestId: string,
    linkedKey: string,
    options: { requestId?: string; sourceIp?: string },
  ): Promise<OpenIdToken> {
    const audit = {
      requestId: options.requestId,
      sourceIp: options.sourceIp,
      provider: principal.provider,
      subject: principal.subject,
      guestIdentityId: guestId,
    };
    try {
      const result = await this.#developerToken(principal, guestId);
      await Promise.all([
        this.#deps.store.set(linkedKey, result.identityId, { ttlMs: REMEMBER_MS }),
        this.#index.add(principal, 'guests', guestId, Date.now() + REMEMBER_MS),
      ]);
      this.#deps.audit.record('identity.linked', {
        ...audit,
        outcome: 'success',
        identityId: result.identityId,
        merged: result.identityId !== guestId,
      });
      return result;
    } catch (error) {
      if (!isResourceConflict(error)) throw error;
      await this.#deps.store.set(linkedKey, 'conflict', { ttlMs: REMEMBER_MS });
      this.#deps.audit.record('identity.linked', {
        ...audit,
        outcome: 'failure',
        reason: 'resource_conflict',
      });
      return this.#developerToken(principal, undefined);
    }
  }

  /** Links a pre-login guest identity to a principal now (at sign-in); answers the identity id. */
  async linkGuest(
    principal: Principal,
    guestIdentityId: string,
    context: { requestId?: string; sourceIp?: string } = {},
  ): Promise<string> {
    return (await this.openIdTokenForUser(principal, { ...context, guestIdentityId })).identityId;
  }

  /** Whether a guest identity was already linked (or tried), so a caller can skip the AWS call. */
  async guestLinkSettled(guestIdentityId: string): Promise<boolean> {
    return (await this.#deps.store.get(`ident:linked:${digest(guestIdentityId)}`)) !== null;
  }

  /** A new unauthenticated identity; every GetId without logins makes one, so callers keep it. */
  async createGuestIdentity(): Promise<string> {
    const output = await callAws(this.#aws, 'GetId', () =>
      this.#deps.clients.cognito.send(new GetIdCommand({ IdentityPoolId: this.#poolId })),
    );
    if (!output.IdentityId) throw new AwsConfigurationError('GetId answered without an identity id');
    return output.IdentityId;
  }

  /** An unauthenticated OpenID token for a guest identity (basic flow). */
  async openIdTokenForGuest(identityId: string): Promise<OpenIdToken> {
    const output = await callAws(this.#aws, 'GetOpenIdToken', () =>
      this.#deps.clients.cognito.send(new GetOpenIdTokenCommand({ IdentityId: identityId })),
    );
    if (!output.Token) throw new AwsConfigurationError('GetOpenIdToken answered without a token');
    return { identityId: output.IdentityId ?? identityId, token: output.Token };
  }
}
