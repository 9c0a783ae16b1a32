/**
 * STS (AWS Query protocol: form-encoded POST, XML responses, namespace https://sts.amazonaws.com/doc/2011-06-15/).
 */
import { randomUUID } from 'node:crypto';
import { accountOf, vendCredentials } from './credentials.ts';
import { type PolicyDocument, parsePolicy } from './policy.ts';
import { type ReceivedRequest, SigV4Error, verifySigV4 } from './sigv4.ts';
import { ACCOUNT_ID, AwsError, COGNITO_ISSUER, type LocalAwsState, xmlEscape } from './state.ts';
import { principalTagsFromClaims, TokenError, verifyCognitoToken } from './tokens.ts';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const PACKED_POLICY_LIMIT = 2048;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@\-/]+$/;

const validation = (message: string) => new AwsError(400, 'ValidationError', message);

export function stsErrorXml(e: AwsError, requestId: string): string {
  const type = e.status >= 500 ? 'Receiver' : 'Sender';
  return (
    `<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${xmlEscape(e.code)}</Code>` +
    `<Message>${xmlEscape(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

export function sigV4ErrorToSts(e: SigV4Error): AwsError {
  switch (e.kind) {
    case 'missing':
      return new AwsError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
    case 'malformed':
      return new AwsError(400, 'IncompleteSignature', e.message);
    case 'unknownKey':
    case 'invalidToken':
      return new AwsError(
        403,
        'InvalidClientTokenId',
        'The security token included in the request is invalid.',
      );
    case 'expiredToken':
      return new AwsError(400, 'ExpiredToken', 'The security token included in the request is expired');
    case 'skewed':
      return new AwsError(403, 'SignatureDoesNotMatch', `Signature expired: ${e.message}`);
    default:
      return new AwsError(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
  }
}

export class StsService {
  state: LocalAwsState;
  constructor(state: LocalAwsState) {
    this.state = state;
  }

  async handle(action: string, params: URLSearchParams, req: ReceivedRequest): Promise<string> {
    const version = params.get('Version');
    if (version !== '2011-06-15') {
      throw new AwsError(
        400,
        'InvalidAction',
        `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`,
      );
    }
    switch (action) {
      case 'AssumeRoleWithWebIdentity':
        return this.assumeRoleWithWebIdentity(params);
      case 'GetCallerIdentity':
        return this.getCallerIdentity(req);
      default:
        throw new AwsError(400, 'InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
    }
  }

  private async assumeRoleWithWebIdentity(params: URLSearchParams): Promise<string> {
    const roleArn = params.get('RoleArn');
    const sessionName = params.get('RoleSessionName');
    const token = params.get('WebIdentityToken');
    const problems: string[] = [];
    if (roleArn === null)
      problems.push("Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
    else if (roleArn.length < 20 || roleArn.length > 2048) {
      problems.push(
        `Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048`,
      );
    }
    if (sessionName === null) {
      problems.push("Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null");
    } else if (!SESSION_NAME.test(sessionName)) {
      problems.push(
        `Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64`,
      );
    }
    if (token === null)
      problems.push("Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null");
    else if (token.length < 4 || token.length > 20000) {
      problems.push(
        "Value at 'webIdentityToken' failed to satisfy constraint: Member must have length between 4 and 20000",
      );
    }
    const durationRaw = params.get('DurationSeconds');
    let duration = 3600;
    if (durationRaw !== null) {
      duration = Number(durationRaw);
      if (!/^\d+$/.test(durationRaw))
        problems.push(`Value '${durationRaw}' at 'durationSeconds' is not a valid integer`);
      else if (duration < 900) {
        problems.push(
          `Value '${durationRaw}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
        );
      } else if (duration > 43200) {
        problems.push(
          `Value '${durationRaw}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200`,
        );
      }
    }
    if (problems.length > 0) {
      throw validation(
        `${problems.length} validation error${problems.length > 1 ? 's' : ''} detected: ${problems.join('; ')}`,
      );
    }
    const policyText = params.get('Policy');
    let sessionPolicy: PolicyDocument | undefined;
    if (policyText !== null) {
      if (policyText.length > PACKED_POLICY_LIMIT) {
        throw new AwsError(
          400,
          'PackedPolicyTooLarge',
          `Packed policy consumes ${Math.round((policyText.length / PACKED_POLICY_LIMIT) * 100)}% of allotted space, please use smaller policy for the session.`,
        );
      }
      sessionPolicy = parsePolicy(policyText);
    }

    const role = Object.hasOwn(this.state.roles, roleArn!) ? this.state.roles[roleArn!] : undefined;
    if (!ROLE_ARN.test(roleArn!) || !role || role.trustsPool === false) {
      throw new AwsError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    }
    let claims: Awaited<ReturnType<typeof verifyCognitoToken>>;
    try {
      claims = await verifyCognitoToken(this.state, token!);
    } catch (e) {
      if (e instanceof TokenError) {
        if (e.reason === 'expired') throw new AwsError(400, 'ExpiredTokenException', e.message);
        throw new AwsError(400, 'InvalidIdentityToken', e.message);
      }
      throw e;
    }
    const amr = claims.amr ?? [];
    const authenticated = amr.includes('authenticated');
    if (!authenticated && !amr.includes('unauthenticated')) {
      throw new AwsError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    }
    // Trust-policy stand-in: the pool's unauthenticated role requires amr "unauthenticated", every other
    // role trusting the pool requires amr "authenticated".
    const wantsUnauth = roleArn === this.state.poolRoles.unauthenticated;
    if (wantsUnauth === authenticated) {
      throw new AwsError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    }
    if (duration > role.maxSessionDuration) {
      throw validation('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    }
    const creds = vendCredentials(this.state, {
      roleArn: roleArn!,
      roleSessionName: sessionName!,
      identityId: claims.sub!,
      authenticationType: authenticated ? 'authenticated' : 'unauthenticated',
      durationSeconds: duration,
      ...(sessionPolicy ? { sessionPolicy } : {}),
      principalTags: principalTagsFromClaims(claims),
      source: 'sts',
    });
    const requestId = randomUUID();
    return (
      `<AssumeRoleWithWebIdentityResponse xmlns="${NS}"><AssumeRoleWithWebIdentityResult>` +
      `<SubjectFromWebIdentityToken>${xmlEscape(claims.sub!)}</SubjectFromWebIdentityToken>` +
      `<Audience>${xmlEscape(this.state.identityPoolId)}</Audience>` +
      `<AssumedRoleUser><Arn>${xmlEscape(creds.assumedRoleArn)}</Arn><AssumedRoleId>${xmlEscape(creds.assumedRoleId)}</AssumedRoleId></AssumedRoleUser>` +
      `<Credentials><AccessKeyId>${creds.accessKeyId}</AccessKeyId><SecretAccessKey>${xmlEscape(creds.secretAccessKey)}</SecretAccessKey>` +
      `<SessionToken>${xmlEscape(creds.sessionToken)}</SessionToken><Expiration>${new Date(creds.expiration).toISOString()}</Expiration></Credentials>` +
      `<Provider>${xmlEscape(COGNITO_ISSUER.replace(/^https:\/\//, ''))}</Provider>` +
      `</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`
    );
  }

  private async getCallerIdentity(req: ReceivedRequest): Promise<string> {
    let accessKeyId: string;
    try {
      ({ accessKeyId } = await verifySigV4(req, {
        service: 'sts',
        region: this.state.region,
        uriEscapePath: true,
        allowPresigned: true,
        allowUnsignedPayload: false,
        now: this.state.now(),
        lookup: (akid) => {
          if (akid === this.state.serviceCredentials.accessKeyId) {
            return { secretAccessKey: this.state.serviceCredentials.secretAccessKey };
          }
          const v = this.state.vended.get(akid);
          return v
            ? { secretAccessKey: v.secretAccessKey, sessionToken: v.sessionToken, expiration: v.expiration }
            : undefined;
        },
      }));
    } catch (e) {
      if (e instanceof SigV4Error) throw sigV4ErrorToSts(e);
      throw e;
    }
    const vended = this.state.vended.get(accessKeyId);
    const arn = vended ? vended.assumedRoleArn : `arn:aws:iam::${ACCOUNT_ID}:user/keywarden-service`;
    const userId = vended ? vended.assumedRoleId : 'AIDAKEYWARDENSERVICE0';
    return (
      `<GetCallerIdentityResponse xmlns="${NS}"><GetCallerIdentityResult><Arn>${xmlEscape(arn)}</Arn>` +
      `<UserId>${xmlEscape(userId)}</UserId><Account>${vended ? accountOf(vended.roleArn) : ACCOUNT_ID}</Account></GetCallerIdentityResult>` +
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
    );
  }
}

export function redactStsParams(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) out[k] = k === 'WebIdentityToken' ? '[redacted]' : v;
  return out;
}
