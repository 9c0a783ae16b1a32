/**
 * Cognito Identity (AWS JSON 1.1 protocol: POST /, X-Amz-Target: AWSCognitoIdentityService.<Op>).
 */
import { randomUUID } from 'node:crypto';
import { vendCredentials } from './credentials.ts';
import { type ReceivedRequest, type SigV4Error, verifyServiceCall } from './sigv4.ts';
import { AwsError, COGNITO_LOGIN_PROVIDER, type IdentityRecord, type LocalAwsState } from './state.ts';
import {
  type CognitoTokenClaims,
  issueCognitoToken,
  principalTagsFromClaims,
  TokenError,
  verifyCognitoToken,
} from './tokens.ts';

export const COGNITO_TARGET_PREFIX = 'AWSCognitoIdentityService.';

/** Operations AWS requires to be SigV4-signed with developer (IAM) credentials. */
const SIGNED_OPERATIONS = new Set([
  'GetOpenIdTokenForDeveloperIdentity',
  'LookupDeveloperIdentity',
  'MergeDeveloperIdentities',
  'UnlinkDeveloperIdentity',
  'DeleteIdentities',
  'DescribeIdentity',
]);
/** LookupDeveloperIdentity's MaxResults and DeleteIdentities' IdentityIdsToDelete: 1–60. */
const MAX_BATCH = 60;

const GET_OPEN_ID_TOKEN_SECONDS = 600; // "The OpenID token is valid for 10 minutes."
const DEFAULT_DEVELOPER_TOKEN_SECONDS = 900; // TokenDuration default: 15 minutes
const CREDENTIALS_SECONDS = 3600;
const ID_PATTERN = /^[\w-]+:[0-9a-f-]+$/;

type Input = Record<string, unknown>;

const notAuthorized = (message: string) => new AwsError(400, 'NotAuthorizedException', message);
const invalidParameter = (message: string) => new AwsError(400, 'InvalidParameterException', message);
const notFound = (message: string) => new AwsError(400, 'ResourceNotFoundException', message);

export function sigV4ErrorToCognito(e: SigV4Error): AwsError {
  switch (e.kind) {
    case 'missing':
      return new AwsError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    case 'malformed':
      return new AwsError(400, 'IncompleteSignatureException', e.message);
    case 'unknownKey':
    case 'invalidToken':
      return new AwsError(
        400,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    case 'expiredToken':
      return new AwsError(
        400,
        'ExpiredTokenException',
        'The security token included in the request is expired',
      );
    case 'skewed':
      return new AwsError(400, 'InvalidSignatureException', `Signature expired: ${e.message}`);
    default:
      return new AwsError(
        400,
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
  }
}

function str(input: Input, name: string, required: true): string;
function str(input: Input, name: string, required?: false): string | undefined;
function str(input: Input, name: string, required = false): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) {
    if (required) {
      throw invalidParameter(
        `1 validation error detected: Value null at '${name.charAt(0).toLowerCase() + name.slice(1)}' failed to satisfy constraint: Member must not be null`,
      );
    }
    return undefined;
  }
  if (typeof v !== 'string') throw new AwsError(400, 'SerializationException', `${name} must be a string`);
  return v;
}

function stringMap(input: Input, name: string): Record<string, string> | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v))
    throw new AwsError(400, 'SerializationException', `${name} must be a map`);
  for (const value of Object.values(v)) {
    if (typeof value !== 'string')
      throw new AwsError(400, 'SerializationException', `${name} values must be strings`);
  }
  return v as Record<string, string>;
}

function checkIdFormat(value: string, field: string): void {
  if (value.length < 1 || value.length > 55 || !ID_PATTERN.test(value)) {
    throw invalidParameter(
      `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+:[0-9a-f-]+`,
    );
  }
}

export class CognitoService {
  state: LocalAwsState;
  constructor(state: LocalAwsState) {
    this.state = state;
  }

  async handle(operation: string, input: Input, req: ReceivedRequest): Promise<unknown> {
    if (SIGNED_OPERATIONS.has(operation)) {
      await verifyServiceCall(
        req,
        {
          service: 'cognito-identity',
          region: this.state.region,
          now: this.state.now(),
          serviceKey: this.state.serviceCredentials,
        },
        sigV4ErrorToCognito,
      );
    }
    switch (operation) {
      case 'GetId':
        return this.getId(input);
      case 'GetOpenIdToken':
        return this.getOpenIdToken(input);
      case 'GetOpenIdTokenForDeveloperIdentity':
        return this.getOpenIdTokenForDeveloperIdentity(input);
      case 'GetCredentialsForIdentity':
        return this.getCredentialsForIdentity(input);
      case 'LookupDeveloperIdentity':
        return this.lookupDeveloperIdentity(input);
      case 'MergeDeveloperIdentities':
        return this.mergeDeveloperIdentities(input);
      case 'UnlinkDeveloperIdentity':
        return this.unlinkDeveloperIdentity(input);
      case 'DeleteIdentities':
        return this.deleteIdentities(input);
      case 'DescribeIdentity':
        return this.describeIdentity(input);
      default:
        throw new AwsError(
          400,
          'UnknownOperationException',
          `Operation ${operation} is not supported by the local AWS.`,
        );
    }
  }

  private checkPool(input: Input): void {
    const poolId = str(input, 'IdentityPoolId', true);
    checkIdFormat(poolId, 'identityPoolId');
    if (poolId !== this.state.identityPoolId) throw notFound(`IdentityPool '${poolId}' not found.`);
  }

  private newIdentity(): IdentityRecord {
    const identity: IdentityRecord = {
      id: `${this.state.region}:${randomUUID()}`,
      developerUserIds: new Set(),
      createdAt: this.state.now(),
    };
    this.state.identities.set(identity.id, identity);
    return identity;
  }

  /**
   * Resolves an identity id. A guest identity that was merged into an authenticated one resolves to the
   * surviving identity (Cognito keeps the merged identity's data with the survivor).
   */
  private identity(id: string): IdentityRecord {
    checkIdFormat(id, 'identityId');
    let identity = this.state.identities.get(id);
    const seen = new Set<string>();
    while (identity?.mergedInto && !seen.has(identity.id)) {
      seen.add(identity.id);
      identity = this.state.identities.get(identity.mergedInto);
    }
    if (!identity) throw notFound(`Identity '${id}' not found.`);
    return identity;
  }

  private async verifyLoginToken(
    identity: IdentityRecord | undefined,
    logins: Record<string, string>,
  ): Promise<CognitoTokenClaims> {
    const keys = Object.keys(logins);
    for (const k of keys) {
      if (k === this.state.developerProviderName) {
        throw notAuthorized(
          'Developer provider logins are only accepted by GetOpenIdTokenForDeveloperIdentity.',
        );
      }
      if (k !== COGNITO_LOGIN_PROVIDER)
        throw notAuthorized(`Invalid login token. Unsupported login provider: ${k}`);
    }
    const token = logins[COGNITO_LOGIN_PROVIDER];
    if (!token)
      throw notAuthorized(
        "Logins don't match. Please include at least one valid login for this identity or identity pool.",
      );
    let claims: CognitoTokenClaims;
    try {
      claims = await verifyCognitoToken(this.state, token);
    } catch (e) {
      if (e instanceof TokenError) {
        throw notAuthorized(
          e.reason === 'expired'
            ? 'Invalid login token. Token expired.'
            : `Invalid login token. ${e.message}`,
        );
      }
      throw e;
    }
    if (!claims.amr?.includes('authenticated'))
      throw notAuthorized('Invalid login token. Not an authenticated token.');
    if (identity && claims.sub !== identity.id) {
      throw notAuthorized('Invalid login token. Token does not belong to this identity.');
    }
    return claims;
  }

  private async getId(input: Input): Promise<unknown> {
    this.checkPool(input);
    const logins = stringMap(input, 'Logins');
    if (logins && Object.keys(logins).length > 0) {
      const claims = await this.verifyLoginToken(undefined, logins);
      return { IdentityId: this.identity(claims.sub!).id };
    }
    if (!this.state.allowUnauthenticated)
      throw notAuthorized('Unauthenticated access is not supported for this identity pool.');
    return { IdentityId: this.newIdentity().id };
  }

  private async getOpenIdToken(input: Input): Promise<unknown> {
    const identity = this.identity(str(input, 'IdentityId', true));
    const logins = stringMap(input, 'Logins');
    if (logins && Object.keys(logins).length > 0) {
      const claims = await this.verifyLoginToken(identity, logins);
      const token = await issueCognitoToken(
        this.state,
        identity.id,
        claims.amr ?? ['authenticated'],
        GET_OPEN_ID_TOKEN_SECONDS,
        principalTagsFromClaims(claims),
      );
      return { IdentityId: identity.id, Token: token };
    }
    if (identity.developerUserIds.size > 0) {
      throw notAuthorized(
        "Logins don't match. Please include at least one valid login for this identity or identity pool.",
      );
    }
    if (!this.state.allowUnauthenticated)
      throw notAuthorized('Unauthenticated access is not supported for this identity pool.');
    const token = await issueCognitoToken(
      this.state,
      identity.id,
      ['unauthenticated'],
      GET_OPEN_ID_TOKEN_SECONDS,
    );
    return { IdentityId: identity.id, Token: token };
  }

  /**
   * Linking semantics (Cognito developer guide + API reference):
   * - no IdentityId: the developer user identifier maps to the same identity forever (created on first use);
   * - IdentityId of an existing identity and a user identifier not linked yet: the login is linked to that
   *   identity ("associate a new login with an existing authenticated/unauthenticated identity") — this is the
   *   guest upgrade when the identity is unauthenticated;
   * - IdentityId of an UNAUTHENTICATED identity but the user identifier is already linked to another identity:
   *   Cognito merges the guest into the existing authenticated identity and returns the EXISTING identity id
   *   ("Switching unauthenticated users to authenticated users": the app is told the id changed
   *   old -> new). The guest id thereafter resolves to the survivor.
   * - IdentityId of an AUTHENTICATED identity while the user identifier is linked to a different identity:
   *   ResourceConflictException ("a login which is already linked to another account"); merging two
   *   authenticated developer users is what MergeDeveloperIdentities is for.
   */
  private async getOpenIdTokenForDeveloperIdentity(input: Input): Promise<unknown> {
    this.checkPool(input);
    const logins = stringMap(input, 'Logins');
    if (!logins || Object.keys(logins).length === 0) {
      throw invalidParameter(
        "1 validation error detected: Value null at 'logins' failed to satisfy constraint: Member must not be null",
      );
    }
    const provider = this.state.developerProviderName;
    for (const key of Object.keys(logins)) {
      if (key !== provider)
        throw notAuthorized(`Invalid login token. Unsupported or invalid developer provider: ${key}`);
    }
    const userId = logins[provider]!;
    if (userId.length < 1 || userId.length > 1024) {
      throw invalidParameter('DeveloperUserIdentifier must be between 1 and 1024 characters.');
    }
    const rawDuration = input.TokenDuration;
    let duration = DEFAULT_DEVELOPER_TOKEN_SECONDS;
    if (rawDuration !== undefined && rawDuration !== null) {
      if (
        typeof rawDuration !== 'number' ||
        !Number.isInteger(rawDuration) ||
        rawDuration < 1 ||
        rawDuration > 86400
      ) {
        throw invalidParameter(
          `1 validation error detected: Value '${String(rawDuration)}' at 'tokenDuration' failed to satisfy constraint: Member must have value between 1 and 86400`,
        );
      }
      duration = rawDuration;
    }
    const tags = stringMap(input, 'PrincipalTags');
    if (tags) {
      const entries = Object.entries(tags);
      if (entries.length > 50)
        throw invalidParameter('PrincipalTags: map must not contain more than 50 entries.');
      for (const [k, v] of entries) {
        if (k.length < 1 || k.length > 128)
          throw invalidParameter('PrincipalTags: keys must be 1..128 characters.');
        if (v.length > 256) throw invalidParameter('PrincipalTags: values must be at most 256 characters.');
      }
    }

    const existingId = this.state.developerUsers.get(userId);
    const requestedId = str(input, 'IdentityId');
    let identity: IdentityRecord;
    if (requestedId === undefined) {
      identity = existingId ? this.identity(existingId) : this.newIdentity();
    } else {
      const target = this.identity(requestedId);
      const existing = existingId ? this.identity(existingId) : undefined;
      if (existing && existing.id !== target.id) {
        if (target.developerUserIds.size === 0) {
          target.mergedInto = existing.id; // guest merged into the authenticated identity
          identity = existing;
        } else {
          throw new AwsError(
            400,
            'ResourceConflictException',
            'The developer user identifier is already linked to another identity.',
          );
        }
      } else {
        identity = target;
      }
    }
    identity.developerUserIds.add(userId);
    this.state.developerUsers.set(userId, identity.id);
    const amr = ['authenticated', provider, `${provider}:${this.state.identityPoolId}:${userId}`];
    const token = await issueCognitoToken(this.state, identity.id, amr, duration, tags);
    return { IdentityId: identity.id, Token: token };
  }

  private async getCredentialsForIdentity(input: Input): Promise<unknown> {
    const identity = this.identity(str(input, 'IdentityId', true));
    const logins = stringMap(input, 'Logins');
    const customRoleArn = str(input, 'CustomRoleArn');
    const hasLogins = logins !== undefined && Object.keys(logins).length > 0;
    let roleArn: string | undefined;
    let principalTags: Record<string, string> = {};
    let authenticationType: 'authenticated' | 'unauthenticated';
    if (identity.developerUserIds.size > 0 || hasLogins) {
      if (!hasLogins) {
        throw notAuthorized(
          "Logins don't match. Please include at least one valid login for this identity or identity pool.",
        );
      }
      const claims = await this.verifyLoginToken(identity, logins);
      principalTags = principalTagsFromClaims(claims);
      authenticationType = 'authenticated';
      if (customRoleArn !== undefined) {
        const known =
          Object.hasOwn(this.state.roles, customRoleArn) ||
          customRoleArn === this.state.poolRoles.authenticated;
        if (!known) throw invalidParameter(`Invalid CustomRoleArn: ${customRoleArn}`);
        roleArn = customRoleArn;
      } else {
        roleArn = this.state.poolRoles.authenticated;
      }
    } else {
      if (!this.state.allowUnauthenticated)
        throw notAuthorized('Unauthenticated access is not supported for this identity pool.');
      authenticationType = 'unauthenticated';
      roleArn = this.state.poolRoles.unauthenticated;
    }
    if (!roleArn) {
      throw new AwsError(
        400,
        'InvalidIdentityPoolConfigurationException',
        'Invalid identity pool configuration. Check assigned IAM roles for this pool.',
      );
    }
    const creds = vendCredentials(this.state, {
      roleArn,
      roleSessionName: 'CognitoIdentityCredentials',
      identityId: identity.id,
      authenticationType,
      durationSeconds: CREDENTIALS_SECONDS,
      principalTags,
      source: 'cognito',
    });
    return {
      IdentityId: identity.id,
      Credentials: {
        AccessKeyId: creds.accessKeyId,
        SecretKey: creds.secretAccessKey,
        SessionToken: creds.sessionToken,
        Expiration: creds.expiration / 1000,
      },
    };
  }

  private lookupDeveloperIdentity(input: Input): unknown {
    this.checkPool(input);
    const maxResults = input.MaxResults;
    if (maxResults !== undefined && maxResults !== null) {
      if (
        typeof maxResults !== 'number' ||
        !Number.isInteger(maxResults) ||
        maxResults < 1 ||
        maxResults > MAX_BATCH
      ) {
        throw invalidParameter(
          `1 validation error detected: Value '${String(maxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and ${MAX_BATCH}`,
        );
      }
    }
    const identityId = str(input, 'IdentityId');
    const userId = str(input, 'DeveloperUserIdentifier');
    if (identityId === undefined && userId === undefined) {
      throw invalidParameter('Either IdentityId or DeveloperUserIdentifier must be provided.');
    }
    let identity: IdentityRecord;
    if (userId !== undefined) {
      const id = this.state.developerUsers.get(userId);
      if (!id) throw notFound('DeveloperUserIdentifier not found.');
      identity = this.identity(id);
      if (identityId !== undefined && this.identity(identityId).id !== identity.id) {
        throw new AwsError(
          400,
          'ResourceConflictException',
          'DeveloperUserIdentifier does not belong to IdentityId.',
        );
      }
    } else {
      identity = this.identity(identityId!);
    }
    return { IdentityId: identity.id, DeveloperUserIdentifierList: [...identity.developerUserIds] };
  }

  private mergeDeveloperIdentities(input: Input): unknown {
    this.checkPool(input);
    if (str(input, 'DeveloperProviderName', true) !== this.state.developerProviderName) {
      throw notFound('Developer provider not found for this identity pool.');
    }
    const source = str(input, 'SourceUserIdentifier', true);
    const destination = str(input, 'DestinationUserIdentifier', true);
    const sourceId = this.state.developerUsers.get(source);
    const destId = this.state.developerUsers.get(destination);
    if (!sourceId || !destId) throw notFound('Developer user identifier not found.');
    const src = this.identity(sourceId);
    const dst = this.identity(destId);
    if (src.id !== dst.id) {
      if (src.developerUserIds.size + dst.developerUserIds.size > 20) {
        throw new AwsError(400, 'LimitExceededException', 'The number of linked logins is limited to 20.');
      }
      for (const u of src.developerUserIds) {
        dst.developerUserIds.add(u);
        this.state.developerUsers.set(u, dst.id);
      }
      src.developerUserIds.clear();
      src.mergedInto = dst.id;
    }
    return { IdentityId: dst.id };
  }

  private unlinkDeveloperIdentity(input: Input): unknown {
    this.checkPool(input);
    if (str(input, 'DeveloperProviderName', true) !== this.state.developerProviderName) {
      throw notFound('Developer provider not found for this identity pool.');
    }
    const identity = this.identity(str(input, 'IdentityId', true));
    const userId = str(input, 'DeveloperUserIdentifier', true);
    if (!identity.developerUserIds.has(userId)) {
      throw new AwsError(
        400,
        'ResourceConflictException',
        'DeveloperUserIdentifier is not linked to this identity.',
      );
    }
    identity.developerUserIds.delete(userId);
    this.state.developerUsers.delete(userId);
    return {};
  }

  /**
   * Deletes identities (their developer logins go with them). Credentials already vended for
   * them stay valid until they expire, as in AWS. An identity id not found is not an error;
   * it is simply not there to delete.
   */
  private deleteIdentities(input: Input): unknown {
    const ids = input.IdentityIdsToDelete;
    if (ids === undefined || ids === null) {
      throw invalidParameter(
        "1 validation error detected: Value null at 'identityIdsToDelete' failed to satisfy constraint: Member must not be null",
      );
    }
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
      throw new AwsError(400, 'SerializationException', 'IdentityIdsToDelete must be a list of strings');
    }
    if (ids.length < 1 || ids.length > MAX_BATCH) {
      throw invalidParameter(
        `1 validation error detected: Value at 'identityIdsToDelete' failed to satisfy constraint: Member must have length between 1 and ${MAX_BATCH}`,
      );
    }
    for (const id of ids as string[]) checkIdFormat(id, 'identityIdsToDelete');
    for (const id of ids as string[]) {
      const identity = this.state.identities.get(id);
      if (!identity) continue;
      for (const userId of identity.developerUserIds) this.state.developerUsers.delete(userId);
      this.state.identities.delete(id);
    }
    return { UnprocessedIdentityIds: [] };
  }

  private describeIdentity(input: Input): unknown {
    const identity = this.identity(str(input, 'IdentityId', true));
    return {
      IdentityId: identity.id,
      Logins: identity.developerUserIds.size > 0 ? [this.state.developerProviderName] : [],
      CreationDate: identity.createdAt / 1000,
      LastModifiedDate: identity.createdAt / 1000,
    };
  }
}

/** Removes tokens (secrets) from a Cognito request before it is recorded in `calls`. */
export function redactCognitoInput(input: Input): Input {
  const out: Input = { ...input };
  const logins = input.Logins;
  if (logins && typeof logins === 'object' && !Array.isArray(logins)) {
    const copy: Record<string, unknown> = { ...(logins as Record<string, unknown>) };
    if (COGNITO_LOGIN_PROVIDER in copy) copy[COGNITO_LOGIN_PROVIDER] = '[redacted]';
    out.Logins = copy;
  }
  return out;
}
