/**
 * IAM (AWS Query protocol, version 2010-05-08): a role's inline policies, as keywarden's admin
 * writes its revocation deny policy. PutRolePolicy, GetRolePolicy (the document answered
 * URL-encoded, as IAM does), DeleteRolePolicy and ListRolePolicies, for the roles the local AWS
 * emulates, signed with the service's own credentials only. The policies take part in S3's
 * authorization as the role's identity-based policies (s3.ts), explicit denies first.
 */
import { randomUUID } from 'node:crypto';
import { roleNameOf } from './credentials.ts';
import { parsePolicy } from './policy.ts';
import { type ReceivedRequest, verifyServiceCall } from './sigv4.ts';
import { AwsError, type LocalAwsState, xmlEscape } from './state.ts';
import { sigV4ErrorToSts } from './sts.ts';

const NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const VERSION = '2010-05-08';
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
/** "Role policy size: 10,240 characters" — all of a role's inline policies together, whitespace excluded. */
export const INLINE_POLICY_QUOTA = 10_240;
/** IAM is global; the SDK signs for us-east-1 unless a custom endpoint keeps the client's region. */
const GLOBAL_SIGNING_REGION = 'us-east-1';

export function iamErrorXml(e: AwsError, requestId: string): string {
  const type = e.status >= 500 ? 'Receiver' : 'Sender';
  return (
    `<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${xmlEscape(e.code)}</Code>` +
    `<Message>${xmlEscape(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

const validation = (message: string) => new AwsError(400, 'ValidationError', message);
const noSuchEntity = (message: string) => new AwsError(404, 'NoSuchEntity', message);

function policySize(text: string): number {
  return text.replace(/\s/g, '').length;
}

function respond(action: string, result = ''): string {
  const body = result ? `<${action}Result>${result}</${action}Result>` : '';
  return (
    `<${action}Response xmlns="${NS}">${body}` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export class IamService {
  readonly state: LocalAwsState;

  constructor(state: LocalAwsState) {
    this.state = state;
  }

  async handle(
    action: string,
    params: URLSearchParams,
    req: ReceivedRequest,
    signingRegion: string,
  ): Promise<string> {
    await this.#authenticate(req, signingRegion);
    const version = params.get('Version');
    if (version !== VERSION) {
      throw new AwsError(
        400,
        'InvalidAction',
        `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`,
      );
    }
    switch (action) {
      case 'PutRolePolicy':
        return this.#putRolePolicy(params);
      case 'GetRolePolicy':
        return this.#getRolePolicy(params);
      case 'DeleteRolePolicy':
        return this.#deleteRolePolicy(params);
      case 'ListRolePolicies':
        return this.#listRolePolicies(params);
      default:
        throw new AwsError(400, 'InvalidAction', `Could not find operation ${action} for version ${VERSION}`);
    }
  }

  async #authenticate(req: ReceivedRequest, signingRegion: string): Promise<void> {
    // Only the service's own (IAM user) keys: credentials vended to users may not edit roles.
    await verifyServiceCall(
      req,
      {
        service: 'iam',
        region: signingRegion === GLOBAL_SIGNING_REGION ? GLOBAL_SIGNING_REGION : this.state.region,
        now: this.state.now(),
        serviceKey: this.state.serviceCredentials,
      },
      sigV4ErrorToSts,
    );
  }

  /** The role ARN for a role name, or NoSuchEntity. */
  #roleArn(params: URLSearchParams): string {
    const name = params.get('RoleName');
    if (name === null)
      throw validation(
        "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null",
      );
    if (!ROLE_NAME.test(name)) {
      throw validation(
        `1 validation error detected: Value '${name}' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
      );
    }
    const arn = Object.keys(this.state.roles).find((candidate) => roleNameOf(candidate) === name);
    if (!arn) throw noSuchEntity(`The role with name ${name} cannot be found.`);
    return arn;
  }

  #policyName(params: URLSearchParams): string {
    const name = params.get('PolicyName');
    if (name === null)
      throw validation(
        "1 validation error detected: Value null at 'policyName' failed to satisfy constraint: Member must not be null",
      );
    if (!POLICY_NAME.test(name)) {
      throw validation(
        `1 validation error detected: Value '${name}' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
      );
    }
    return name;
  }

  #putRolePolicy(params: URLSearchParams): string {
    const arn = this.#roleArn(params);
    const policyName = this.#policyName(params);
    const document = params.get('PolicyDocument');
    if (document === null) {
      throw validation(
        "1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null",
      );
    }
    parsePolicy(document);
    const policies = this.state.roleInlinePolicies.get(arn) ?? new Map<string, string>();
    let total = policySize(document);
    for (const [name, text] of policies) if (name !== policyName) total += policySize(text);
    if (total > INLINE_POLICY_QUOTA) {
      throw new AwsError(
        409,
        'LimitExceeded',
        `Maximum policy size of ${INLINE_POLICY_QUOTA} bytes exceeded for role ${roleNameOf(arn)}`,
      );
    }
    policies.set(policyName, document);
    this.state.roleInlinePolicies.set(arn, policies);
    return respond('PutRolePolicy');
  }

  #getRolePolicy(params: URLSearchParams): string {
    const arn = this.#roleArn(params);
    const policyName = this.#policyName(params);
    const text = this.state.roleInlinePolicies.get(arn)?.get(policyName);
    if (text === undefined) {
      throw noSuchEntity(`The role policy with name ${policyName} cannot be found.`);
    }
    return respond(
      'GetRolePolicy',
      `<RoleName>${xmlEscape(roleNameOf(arn))}</RoleName><PolicyName>${xmlEscape(policyName)}</PolicyName>` +
        `<PolicyDocument>${xmlEscape(encodeURIComponent(text))}</PolicyDocument>`,
    );
  }

  #deleteRolePolicy(params: URLSearchParams): string {
    const arn = this.#roleArn(params);
    const policyName = this.#policyName(params);
    const policies = this.state.roleInlinePolicies.get(arn);
    if (!policies?.delete(policyName)) {
      throw noSuchEntity(`The role policy with name ${policyName} cannot be found.`);
    }
    return respond('DeleteRolePolicy');
  }

  #listRolePolicies(params: URLSearchParams): string {
    const arn = this.#roleArn(params);
    const names = [...(this.state.roleInlinePolicies.get(arn)?.keys() ?? [])].sort();
    return respond(
      'ListRolePolicies',
      `<PolicyNames>${names.map((name) => `<member>${xmlEscape(name)}</member>`).join('')}</PolicyNames><IsTruncated>false</IsTruncated>`,
    );
  }
}
