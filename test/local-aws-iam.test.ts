/**
 * What the local AWS (and so the test double) was taught for identity administration, proved
 * with the real AWS SDK clients: IAM inline role policies (Put/Get/Delete/ListRolePolicies,
 * signed by the service only, IAM's size quota, the URL-encoded document GetRolePolicy answers)
 * taking part in S3's authorization with `aws:TokenIssueTime` and the Date operators; and
 * Cognito's DeleteIdentities and LookupDeveloperIdentity shapes and errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CognitoIdentityClient,
  DeleteIdentitiesCommand,
  DescribeIdentityCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
  LookupDeveloperIdentityCommand,
} from '@aws-sdk/client-cognito-identity';
import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  type AwsDouble,
  DEFAULT_AUTHENTICATED_ROLE_ARN,
  DEFAULT_BUCKET,
  DEFAULT_IDENTITY_POOL_ID,
  DEFAULT_SERVICE_CREDENTIALS,
  startAwsDouble,
} from './support/aws-double/index.ts';

const PROVIDER = 'login.keywarden.test';
const ROLE_NAME = 'keywarden-authenticated';

let aws: AwsDouble;
let cognito: CognitoIdentityClient;
let sts: STSClient;
let iam: IAMClient;

async function rejects(promise: Promise<unknown>, name: string, status?: number): Promise<void> {
  await assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, name, `${error.name}: ${error.message}`);
    if (status !== undefined) assert.equal(error.$metadata?.httpStatusCode, status);
    return true;
  });
}

/** Fresh credentials for a new developer identity, through Cognito and STS as keywarden gets them. */
async function vend(user: string) {
  const { IdentityId, Token } = await cognito.send(
    new GetOpenIdTokenForDeveloperIdentityCommand({
      IdentityPoolId: DEFAULT_IDENTITY_POOL_ID,
      Logins: { [PROVIDER]: user },
    }),
  );
  const { Credentials } = await sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: DEFAULT_AUTHENTICATED_ROLE_ARN,
      RoleSessionName: IdentityId!.replace(':', '.'),
      WebIdentityToken: Token!,
    }),
  );
  const s3 = new S3Client({
    endpoint: aws.url,
    region: aws.region,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: {
      accessKeyId: Credentials!.AccessKeyId!,
      secretAccessKey: Credentials!.SecretAccessKey!,
      sessionToken: Credentials!.SessionToken!,
    },
  });
  return { identityId: IdentityId!, s3 };
}

function denyBefore(identityId: string, before: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RevokeOlder',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: {
          DateLessThan: { 'aws:TokenIssueTime': before },
          StringEquals: { 'cognito-identity.amazonaws.com:sub': [identityId] },
        },
      },
    ],
  });
}

before(async () => {
  aws = await startAwsDouble();
  const common = { endpoint: aws.url, region: aws.region, maxAttempts: 1 };
  cognito = new CognitoIdentityClient({ ...common, credentials: DEFAULT_SERVICE_CREDENTIALS });
  sts = new STSClient({ ...common, credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
  iam = new IAMClient({ ...common, credentials: DEFAULT_SERVICE_CREDENTIALS });
});

after(async () => {
  await aws.close();
});

describe('local AWS: IAM inline role policies', () => {
  it('writes, reads (URL-encoded, as IAM answers), lists and deletes a role policy', async () => {
    const document = denyBefore('us-east-1:00000000-0000-4000-8000-000000000001', '2026-01-01T00:00:00Z');
    await iam.send(
      new PutRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: 'p1', PolicyDocument: document }),
    );
    const read = await iam.send(new GetRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: 'p1' }));
    assert.equal(read.RoleName, ROLE_NAME);
    assert.notEqual(read.PolicyDocument, document, 'IAM answers the document URL-encoded');
    assert.equal(decodeURIComponent(read.PolicyDocument!), document);
    const listed = await iam.send(new ListRolePoliciesCommand({ RoleName: ROLE_NAME }));
    assert.deepEqual(listed.PolicyNames, ['p1']);
    await iam.send(new DeleteRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: 'p1' }));
    await rejects(
      iam.send(new GetRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: 'p1' })),
      'NoSuchEntityException',
      404,
    );
    await rejects(
      iam.send(new DeleteRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: 'p1' })),
      'NoSuchEntityException',
      404,
    );
  });

  it('refuses unknown roles, malformed documents, the size quota, and any key but the service’s', async () => {
    await rejects(
      iam.send(
        new PutRolePolicyCommand({
          RoleName: 'no-such-role',
          PolicyName: 'p',
          PolicyDocument: denyBefore('x:1', '2026-01-01T00:00:00Z'),
        }),
      ),
      'NoSuchEntityException',
      404,
    );
    await rejects(
      iam.send(
        new PutRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: 'p', PolicyDocument: '{"Statement": [' }),
      ),
      'MalformedPolicyDocumentException',
      400,
    );
    const many = Array.from(
      { length: 300 },
      (_, n) => `us-east-1:${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`,
    );
    const large = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'cognito-identity.amazonaws.com:sub': many } },
        },
      ],
    });
    await rejects(
      iam.send(new PutRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: 'big', PolicyDocument: large })),
      'LimitExceededException',
      409,
    );
    const user = await vend('iam-intruder');
    const asUser = new IAMClient({
      endpoint: aws.url,
      region: aws.region,
      maxAttempts: 1,
      credentials: await user.s3.config.credentials(),
    });
    await rejects(
      asUser.send(
        new PutRolePolicyCommand({
          RoleName: ROLE_NAME,
          PolicyName: 'mine',
          PolicyDocument: denyBefore('x:1', '2026-01-01T00:00:00Z'),
        }),
      ),
      'InvalidClientTokenId',
      403,
    );
  });

  it('applies an inline deny keyed on the identity and aws:TokenIssueTime to S3 requests', async () => {
    const revoked = await vend('revoked-user');
    const bystander = await vend('bystander');
    const key = (identityId: string) => `users/${identityId}/f.txt`;
    await revoked.s3.send(
      new PutObjectCommand({ Bucket: DEFAULT_BUCKET, Key: key(revoked.identityId), Body: '1' }),
    );
    // Credentials issued before this moment are denied; the double's clock is the real one.
    const moment = new Date(Date.now() + 5).toISOString();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: ROLE_NAME,
        PolicyName: 'revoked',
        PolicyDocument: denyBefore(revoked.identityId, moment),
      }),
    );
    await rejects(
      revoked.s3.send(
        new PutObjectCommand({ Bucket: DEFAULT_BUCKET, Key: key(revoked.identityId), Body: '2' }),
      ),
      'AccessDenied',
      403,
    );
    await bystander.s3.send(
      new PutObjectCommand({ Bucket: DEFAULT_BUCKET, Key: key(bystander.identityId), Body: '3' }),
    );
    // New credentials for the same identity, issued after the moment, are not denied.
    const again = await vend('revoked-user');
    assert.equal(again.identityId, revoked.identityId);
    await again.s3.send(
      new PutObjectCommand({ Bucket: DEFAULT_BUCKET, Key: key(again.identityId), Body: '4' }),
    );
    await iam.send(new DeleteRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: 'revoked' }));
    await revoked.s3.send(
      new PutObjectCommand({ Bucket: DEFAULT_BUCKET, Key: key(revoked.identityId), Body: '5' }),
    );
  });
});

describe('local AWS: Cognito identity administration', () => {
  it('deletes identities (and their logins); unknown ids are not an error; 1–60 ids per call', async () => {
    const { IdentityId } = await cognito.send(
      new GetOpenIdTokenForDeveloperIdentityCommand({
        IdentityPoolId: DEFAULT_IDENTITY_POOL_ID,
        Logins: { [PROVIDER]: 'to-delete' },
      }),
    );
    const deleted = await cognito.send(
      new DeleteIdentitiesCommand({
        IdentityIdsToDelete: [IdentityId!, 'us-east-1:00000000-0000-4000-8000-0000000000aa'],
      }),
    );
    assert.deepEqual(deleted.UnprocessedIdentityIds, []);
    await rejects(
      cognito.send(new DescribeIdentityCommand({ IdentityId })),
      'ResourceNotFoundException',
      400,
    );
    await rejects(
      cognito.send(
        new LookupDeveloperIdentityCommand({
          IdentityPoolId: DEFAULT_IDENTITY_POOL_ID,
          DeveloperUserIdentifier: 'to-delete',
        }),
      ),
      'ResourceNotFoundException',
      400,
    );
    await rejects(
      cognito.send(new DeleteIdentitiesCommand({ IdentityIdsToDelete: [] })),
      'InvalidParameterException',
      400,
    );
    const tooMany = Array.from(
      { length: 61 },
      (_, n) => `us-east-1:${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`,
    );
    await rejects(
      cognito.send(new DeleteIdentitiesCommand({ IdentityIdsToDelete: tooMany })),
      'InvalidParameterException',
      400,
    );
    const unsigned = new CognitoIdentityClient({
      endpoint: aws.url,
      region: aws.region,
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIANOTTHESERVICE000', secretAccessKey: 'nope' },
    });
    await rejects(
      unsigned.send(new DeleteIdentitiesCommand({ IdentityIdsToDelete: [IdentityId!] })),
      'UnrecognizedClientException',
      400,
    );
  });

  it('refuses a LookupDeveloperIdentity MaxResults outside 1–60', async () => {
    await rejects(
      cognito.send(
        new LookupDeveloperIdentityCommand({
          IdentityPoolId: DEFAULT_IDENTITY_POOL_ID,
          DeveloperUserIdentifier: 'anyone',
          MaxResults: 61,
        }),
      ),
      'InvalidParameterException',
      400,
    );
  });
});
