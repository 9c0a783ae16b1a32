import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { secretDigest } from '../auth/secret-token.ts';
import { awsErrorName, classifyAwsError } from '../aws/aws-call.ts';
import type { AwsClients } from '../aws/clients.ts';
import type { AdminConfig } from '../config/admin-schema.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { StateStore } from '../store/types.ts';
import {
  PolicyFullError,
  parseRevocationPolicy,
  planRevocationPolicy,
  type RevocationStatement,
} from './revocation-policy.ts';
import { isSuspended, type Suspensions } from './suspensions.ts';

/** A role keywarden vends, and how long a credential on it can live. */
export interface VendedRole {
  /** The role's name in `credentials.roles`. */
  readonly name: string;
  readonly arn: string;
  readonly keepMs: number;
}

/** What revoking issued credentials did on one role. */
export interface RoleRevocation {
  readonly role: string;
  readonly revoked: boolean;
  /**
   * Why not: `iam_access_denied` (keywarden may not write the role's policies),
   * `iam_unavailable`, `role_not_found`, `policy_too_large` (IAM refused the size: other inline
   * policies use the quota), `policy_full` (too many revocations at once for the budget),
   * `policy_busy` (another instance kept it locked), `iam_error`.
   */
  readonly error?: string;
}

const LOCK_TTL_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

/** The IAM role name in an ARN (`arn:aws:iam::123456789012:role/path/name` → `name`). */
export function roleNameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

function failureCode(error: unknown): string {
  if (error instanceof PolicyFullError) return 'policy_full';
  if ((error as { name?: unknown } | undefined)?.name === 'PolicyBusy') return 'policy_busy';
  const name = awsErrorName(error);
  if (name === 'NoSuchEntityException' || name === 'NoSuchEntity') return 'role_not_found';
  if (name === 'LimitExceededException' || name === 'LimitExceeded') return 'policy_too_large';
  switch (classifyAwsError(error)) {
    case 'denied':
      return 'iam_access_denied';
    case 'throttled':
    case 'unavailable':
      return 'iam_unavailable';
    default:
      return 'iam_error';
  }
}

/**
 * Writes the revocation policy (revocation-policy.ts) onto every role keywarden vends, with
 * `iam:GetRolePolicy` then `iam:PutRolePolicy`. The read-modify-write of one role runs under a
 * store lock, so two instances revoking at once do not drop each other's statements. One
 * role's failure does not stop the others; each role's outcome is answered.
 */
export class IssuedCredentialsRevoker {
  readonly #clients: AwsClients;
  readonly #config: Readonly<AdminConfig['revokeIssuedCredentials']>;
  readonly #roles: readonly VendedRole[];
  readonly #store: StateStore;
  readonly #suspensions: Suspensions;
  readonly #logger: Logger;
  readonly #metrics: Metrics;

  constructor(deps: {
    clients: AwsClients;
    config: Readonly<AdminConfig['revokeIssuedCredentials']>;
    roles: readonly VendedRole[];
    store: StateStore;
    suspensions: Suspensions;
    logger: Logger;
    metrics: Metrics;
  }) {
    this.#clients = deps.clients;
    this.#config = deps.config;
    this.#roles = deps.roles;
    this.#store = deps.store;
    this.#suspensions = deps.suspensions;
    this.#logger = deps.logger;
    this.#metrics = deps.metrics;
  }

  get enabled(): boolean {
    return this.#config.enabled && this.#roles.length > 0;
  }

  /** Denies the identities' credentials issued before `before`, on every role. */
  async revoke(identityIds: readonly string[], before: number): Promise<RoleRevocation[]> {
    if (!this.enabled || identityIds.length === 0) return [];
    return Promise.all(
      this.#roles.map((role) =>
        this.#revokeOnRole(role, { before, identityIds }).then(
          (): RoleRevocation => ({ role: role.name, revoked: true }),
          (error: unknown): RoleRevocation => {
            const code = failureCode(error);
            this.#logger.warn(
              { role: role.name, reason: code, awsError: awsErrorName(error) },
              'could not write the revocation policy on a role; credentials already issued on it stay valid until they expire',
            );
            return { role: role.name, revoked: false, error: code };
          },
        ),
      ),
    );
  }

  async #revokeOnRole(role: VendedRole, add: RevocationStatement): Promise<void> {
    const lockKey = `lock:revocation-policy:${secretDigest(role.arn)}`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    let lock = await this.#store.tryLock(lockKey, LOCK_TTL_MS);
    while (!lock) {
      if (Date.now() >= deadline) throw Object.assign(new Error('policy lock busy'), { name: 'PolicyBusy' });
      await sleep(100);
      lock = await this.#store.tryLock(lockKey, LOCK_TTL_MS);
    }
    try {
      const iam = await import('@aws-sdk/client-iam');
      const client = await this.#iamClient();
      const roleName = roleNameOf(role.arn);
      const policyName = this.#config.policyName;
      let currentText: string | undefined;
      try {
        const answer = await this.#send('GetRolePolicy', () =>
          client.send(new iam.GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
        );
        // IAM answers the document URL-encoded (RFC 3986).
        currentText = answer.PolicyDocument ? decodeURIComponent(answer.PolicyDocument) : undefined;
      } catch (error) {
        // No policy yet is the usual first time; a missing role is reported by the put below.
        if (!(error instanceof iam.NoSuchEntityException)) throw error;
      }
      const current = parseRevocationPolicy(currentText);
      const plan = await this.#plan(role, current, add);
      await this.#send('PutRolePolicy', () =>
        client.send(
          new iam.PutRolePolicyCommand({ RoleName: roleName, PolicyName: policyName, PolicyDocument: plan }),
        ),
      );
    } finally {
      await lock.release().catch(() => false);
    }
  }

  async #plan(role: VendedRole, current: RevocationStatement[], add: RevocationStatement): Promise<string> {
    const input = {
      current,
      add,
      now: Date.now(),
      keepMs: role.keepMs,
      maxChars: this.#config.maxPolicyChars,
    };
    try {
      return planRevocationPolicy({ ...input, suspendedSince: () => undefined }).text;
    } catch (error) {
      if (!(error instanceof PolicyFullError)) throw error;
    }
    // Over budget: find who has been suspended without a break, whose statements may merge.
    const identityIds = [...new Set(current.flatMap((statement) => statement.identityIds))];
    const marks = await Promise.all(identityIds.map((id) => this.#suspensions.identityMark(id)));
    const since = new Map<string, number>();
    identityIds.forEach((id, at) => {
      const mark = marks[at];
      if (mark && isSuspended(mark)) since.set(id, mark.before);
    });
    return planRevocationPolicy({ ...input, suspendedSince: (id) => since.get(id) }).text;
  }

  async #iamClient() {
    if (!this.#clients.iam) throw new Error('no IAM client is configured');
    return this.#clients.iam();
  }

  /** One IAM call, counted like keywarden's other AWS calls; errors are left to the caller. */
  async #send<T>(operation: string, send: () => Promise<T>): Promise<T> {
    const stop = this.#metrics.awsCallDuration.startTimer({ operation });
    try {
      const result = await send();
      this.#metrics.awsCalls.inc({ operation, outcome: 'success' });
      return result;
    } catch (error) {
      this.#metrics.awsCalls.inc({ operation, outcome: classifyAwsError(error) });
      throw error;
    } finally {
      stop();
    }
  }
}
