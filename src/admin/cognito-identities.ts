import {
  DeleteIdentitiesCommand,
  LookupDeveloperIdentityCommand,
  MergeDeveloperIdentitiesCommand,
  UnlinkDeveloperIdentityCommand,
} from '@aws-sdk/client-cognito-identity';
import type { Logger } from 'pino';
import { type AwsCallContext, callAws } from '../aws/aws-call.ts';
import type { AwsClients } from '../aws/clients.ts';
import { VendingNotConfiguredError } from '../broker/vending-readiness.ts';
import type { AwsConfig } from '../config/aws-schema.ts';
import type { Metrics } from '../observability/metrics.ts';

/** Cognito's largest batch for DeleteIdentities (IdentityIdsToDelete: 1–60). */
const DELETE_BATCH = 60;

export interface DeveloperIdentity {
  readonly identityId: string;
  /** The developer user identifiers (`provider:subject`) linked to that identity. */
  readonly logins: readonly string[];
}

/**
 * The developer-authenticated identity administration Cognito offers, for the pool keywarden
 * vends from: LookupDeveloperIdentity, UnlinkDeveloperIdentity, MergeDeveloperIdentities and
 * DeleteIdentities, signed with keywarden's own AWS credentials. Errors are AWS's mapped to
 * keywarden's (aws-call.ts): refused → 403, throttled or down → 503, anything else → 500.
 */
export class CognitoIdentities {
  readonly #clients: AwsClients;
  readonly #config: Readonly<AwsConfig>;
  readonly #aws: AwsCallContext;

  constructor(deps: { clients: AwsClients; config: Readonly<AwsConfig>; metrics: Metrics; logger: Logger }) {
    this.#clients = deps.clients;
    this.#config = deps.config;
    this.#aws = { metrics: deps.metrics, logger: deps.logger };
  }

  get configured(): boolean {
    return this.#config.pool.identityPoolId !== undefined;
  }

  get #poolId(): string {
    const poolId = this.#config.pool.identityPoolId;
    if (!poolId) throw new VendingNotConfiguredError();
    return poolId;
  }

  /** The identity a developer user identifier is linked to; undefined when Cognito knows none. */
  async lookup(developerUserId: string): Promise<DeveloperIdentity | undefined> {
    const poolId = this.#poolId;
    try {
      const output = await this.#clients.cognito.send(
        new LookupDeveloperIdentityCommand({
          IdentityPoolId: poolId,
          DeveloperUserIdentifier: developerUserId,
          MaxResults: 60,
        }),
      );
      if (!output.IdentityId) return undefined;
      return { identityId: output.IdentityId, logins: output.DeveloperUserIdentifierList ?? [] };
    } catch (error) {
      if ((error as { name?: unknown }).name === 'ResourceNotFoundException') return undefined;
      // Anything else goes through the one mapping (and metric) of AWS failures.
      return callAws(this.#aws, 'LookupDeveloperIdentity', () => Promise.reject(error));
    }
  }

  /** Unlinks a login from its identity; the login's next sign-in gets a new identity. */
  async unlink(identityId: string, developerUserId: string): Promise<void> {
    const poolId = this.#poolId;
    await callAws(this.#aws, 'UnlinkDeveloperIdentity', () =>
      this.#clients.cognito.send(
        new UnlinkDeveloperIdentityCommand({
          IdentityId: identityId,
          IdentityPoolId: poolId,
          DeveloperProviderName: this.#config.pool.developerProviderName,
          DeveloperUserIdentifier: developerUserId,
        }),
      ),
    );
  }

  /** Merges the source login's identity into the destination login's; answers the surviving identity id. */
  async merge(sourceUserId: string, destinationUserId: string): Promise<string> {
    const poolId = this.#poolId;
    const output = await callAws(this.#aws, 'MergeDeveloperIdentities', () =>
      this.#clients.cognito.send(
        new MergeDeveloperIdentitiesCommand({
          SourceUserIdentifier: sourceUserId,
          DestinationUserIdentifier: destinationUserId,
          DeveloperProviderName: this.#config.pool.developerProviderName,
          IdentityPoolId: poolId,
        }),
      ),
    );
    if (!output.IdentityId) throw new Error('MergeDeveloperIdentities answered without an identity id');
    return output.IdentityId;
  }

  /** Deletes identities (in batches of 60); answers the ones Cognito could not delete, with why. */
  async delete(identityIds: readonly string[]): Promise<Array<{ identityId: string; errorCode: string }>> {
    if (!this.configured) throw new VendingNotConfiguredError();
    const unprocessed: Array<{ identityId: string; errorCode: string }> = [];
    for (let start = 0; start < identityIds.length; start += DELETE_BATCH) {
      const batch = identityIds.slice(start, start + DELETE_BATCH);
      const output = await callAws(this.#aws, 'DeleteIdentities', () =>
        this.#clients.cognito.send(new DeleteIdentitiesCommand({ IdentityIdsToDelete: [...batch] })),
      );
      for (const item of output.UnprocessedIdentityIds ?? []) {
        if (item.IdentityId)
          unprocessed.push({ identityId: item.IdentityId, errorCode: item.ErrorCode ?? 'Unknown' });
      }
    }
    return unprocessed;
  }
}
