import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  DeleteIdentitiesCommand,
  LookupDeveloperIdentityCommand,
  MergeDeveloperIdentitiesCommand,
  ResourceNotFoundException,
  TooManyRequestsException,
  UnlinkDeveloperIdentityCommand,
} from '@aws-sdk/client-cognito-identity';
import {
  GetRolePolicyCommand,
  IAMClient,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../src/app.ts';
import { createAwsClients } from '../src/aws/clients.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import {
  ADMIN_ARN,
  credentialOverrides,
  DEVELOPER_PROVIDER,
  GUEST_ARN,
  POOL_ID,
  READER_ARN,
} from './fixtures/credentials/config.ts';
import { type JwksIssuer, startJwksIssuer } from './support/jwks-issuer.ts';
import { type CapturedLogs, captureLogs } from './support/logs.ts';
import { testConfig } from './support/test-config.ts';

/**
 * The exact requests keywarden's admin sends to Cognito and IAM (aws-sdk-client-mock on the
 * real SDK clients), and what it makes of their errors: the four identity operations with
 * their documented parameters, and the revocation policy read and written on every role.
 */

const API = 'https://api.keywarden.test';
const IDENTITY = 'us-east-1:11111111-2222-4333-8444-555555555555';
const OTHER_IDENTITY = 'us-east-1:99999999-2222-4333-8444-555555555555';
const POLICY_NAME = 'keywarden-revoked-credentials';

let issuer: JwksIssuer;
let app: Express;
let logs: CapturedLogs;
let adminToken: string;
const clients = createAwsClients(
  { ...testConfig(credentialOverrides()).aws },
  { credentials: { accessKeyId: 'AKIASERVICE', secretAccessKey: 'service-secret' } },
);
const iamClient = new IAMClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIASERVICE', secretAccessKey: 'service-secret' },
});
const cognito = mockClient(clients.cognito);
const iam = mockClient(iamClient);

before(async () => {
  issuer = await startJwksIssuer();
  const config = testConfig({
    ...credentialOverrides(),
    bearer: { issuers: { ops: { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: [API] } } },
    admin: { enabled: true, bearer: [{ issuer: 'ops', claim: 'groups', values: ['admins'] }] },
  });
  logs = captureLogs();
  app = await createApp({
    config,
    store: new MemoryStore(),
    logger: logs.logger,
    awsClients: { ...clients, iam: async () => iamClient },
  });
  adminToken = await issuer.sign({ aud: API, sub: 'ops-1', groups: ['admins'] });
});

after(async () => {
  logs.assertNoneContain([adminToken, 'service-secret']);
  await issuer.close();
});

beforeEach(() => {
  cognito.reset();
  iam.reset();
});

const asAdmin = (test: request.Test) => test.set('Authorization', `Bearer ${adminToken}`);

function notFound(): ResourceNotFoundException {
  return new ResourceNotFoundException({ message: 'not found', $metadata: {} });
}

describe('Cognito identity administration: exact parameters', () => {
  it('looks a user up by developer user identifier', async () => {
    cognito
      .on(LookupDeveloperIdentityCommand)
      .resolves({ IdentityId: IDENTITY, DeveloperUserIdentifierList: ['corp:zoe'] });
    const response = await asAdmin(request(app).get('/admin/users/corp:zoe'));
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(cognito.commandCalls(LookupDeveloperIdentityCommand)[0]!.args[0].input, {
      IdentityPoolId: POOL_ID,
      DeveloperUserIdentifier: 'corp:zoe',
      MaxResults: 60,
    });
    assert.deepEqual(response.body.cognito, { identityId: IDENTITY, logins: ['corp:zoe'] });
    assert.deepEqual(response.body.identityIds, [IDENTITY]);
  });

  it('answers a lookup from its own records when Cognito knows nobody, or is down', async () => {
    cognito.on(LookupDeveloperIdentityCommand).rejects(notFound());
    const unknown = await asAdmin(request(app).get('/admin/users/corp:nobody'));
    assert.equal(unknown.status, 200);
    assert.equal(unknown.body.cognito, null);
    cognito
      .on(LookupDeveloperIdentityCommand)
      .rejects(new TooManyRequestsException({ message: 'slow', $metadata: {} }));
    const down = await asAdmin(request(app).get('/admin/users/corp:nobody'));
    assert.equal(down.status, 200, 'an outage leaves Cognito out of the answer');
    assert.equal(down.body.cognito, undefined);
  });

  it('unlinks with the identity, pool, developer provider and user identifier', async () => {
    cognito
      .on(LookupDeveloperIdentityCommand)
      .resolves({ IdentityId: IDENTITY, DeveloperUserIdentifierList: ['corp:zoe'] });
    cognito.on(UnlinkDeveloperIdentityCommand).resolves({});
    const response = await asAdmin(request(app).post('/admin/users/corp:zoe/unlink')).send({});
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(cognito.commandCalls(UnlinkDeveloperIdentityCommand)[0]!.args[0].input, {
      IdentityId: IDENTITY,
      IdentityPoolId: POOL_ID,
      DeveloperProviderName: DEVELOPER_PROVIDER,
      DeveloperUserIdentifier: 'corp:zoe',
    });
  });

  it('merges with source and destination user identifiers', async () => {
    cognito.on(LookupDeveloperIdentityCommand).resolves({ IdentityId: OTHER_IDENTITY });
    cognito.on(MergeDeveloperIdentitiesCommand).resolves({ IdentityId: OTHER_IDENTITY });
    const response = await asAdmin(request(app).post('/admin/users/corp:zoe/merge')).send({
      into: 'corp:yan',
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(cognito.commandCalls(MergeDeveloperIdentitiesCommand)[0]!.args[0].input, {
      SourceUserIdentifier: 'corp:zoe',
      DestinationUserIdentifier: 'corp:yan',
      DeveloperProviderName: DEVELOPER_PROVIDER,
      IdentityPoolId: POOL_ID,
    });
    assert.equal(response.body.identityId, OTHER_IDENTITY);
  });

  it("deletes the user's identities and reports those Cognito could not delete", async () => {
    cognito.on(LookupDeveloperIdentityCommand).resolves({ IdentityId: IDENTITY });
    cognito.on(DeleteIdentitiesCommand).resolves({
      UnprocessedIdentityIds: [{ IdentityId: IDENTITY, ErrorCode: 'InternalServerError' }],
    });
    iam.on(GetRolePolicyCommand).rejects(new NoSuchEntityException({ message: 'none', $metadata: {} }));
    iam.on(PutRolePolicyCommand).resolves({});
    const response = await asAdmin(request(app).delete('/admin/users/corp:quinn/identity'));
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(cognito.commandCalls(DeleteIdentitiesCommand)[0]!.args[0].input, {
      IdentityIdsToDelete: [IDENTITY],
    });
    assert.deepEqual(response.body.unprocessed, [{ identityId: IDENTITY, errorCode: 'InternalServerError' }]);
    assert.deepEqual(response.body.deletedIdentityIds, []);
    const audit = logs.records().find((record) => record.event === 'admin.identity_deleted');
    assert.equal(audit?.outcome, 'failure');
  });

  it('maps Cognito failures: unknown user 404, throttling 503 with Retry-After and no AWS text', async () => {
    cognito.on(LookupDeveloperIdentityCommand).rejects(notFound());
    const unknown = await asAdmin(request(app).post('/admin/users/corp:zoe/unlink')).send({});
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'unknown_identity');
    cognito.on(LookupDeveloperIdentityCommand).resolves({ IdentityId: IDENTITY });
    cognito
      .on(UnlinkDeveloperIdentityCommand)
      .rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));
    const throttled = await asAdmin(request(app).post('/admin/users/corp:zoe/unlink')).send({});
    assert.equal(throttled.status, 503);
    assert.ok(throttled.headers['retry-after']);
    assert.ok(!JSON.stringify(throttled.body).includes('Rate exceeded'), 'no AWS text in the answer');
  });
});

describe('revoking issued credentials: the IAM calls', () => {
  it('reads, then writes the deny policy on every vended role', async () => {
    cognito.on(LookupDeveloperIdentityCommand).resolves({ IdentityId: IDENTITY });
    iam.on(GetRolePolicyCommand).rejects(new NoSuchEntityException({ message: 'none', $metadata: {} }));
    iam.on(PutRolePolicyCommand).resolves({});
    const before = Date.now();
    const response = await asAdmin(request(app).post('/admin/users/corp:rita/revoke')).send({});
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(
      response.body.issuedCredentials.roles.map((role: { role: string }) => role.role).sort(),
      ['admin', 'guest', 'reader'],
    );
    const gets = iam.commandCalls(GetRolePolicyCommand).map((call) => call.args[0].input);
    assert.deepEqual(
      gets.map((input) => input.RoleName).sort(),
      [ADMIN_ARN, GUEST_ARN, READER_ARN].map((arn) => arn.split('/').pop()).sort(),
    );
    assert.ok(gets.every((input) => input.PolicyName === POLICY_NAME));
    const puts = iam.commandCalls(PutRolePolicyCommand).map((call) => call.args[0].input);
    assert.equal(puts.length, 3);
    const revokedBefore = response.body.revokedBefore;
    assert.ok(Date.parse(revokedBefore) >= before);
    for (const put of puts) {
      assert.equal(put.PolicyName, POLICY_NAME);
      assert.deepEqual(JSON.parse(put.PolicyDocument!), {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: `KeywardenRevoked${Date.parse(revokedBefore)}`,
            Effect: 'Deny',
            Action: '*',
            Resource: '*',
            Condition: {
              DateLessThan: { 'aws:TokenIssueTime': revokedBefore },
              StringEquals: { 'cognito-identity.amazonaws.com:sub': [IDENTITY] },
            },
          },
        ],
      });
    }
  });

  it('keeps what the role already denies, drops what can match nothing any more, and stays one statement per moment', async () => {
    cognito.on(LookupDeveloperIdentityCommand).resolves({ IdentityId: IDENTITY });
    const recent = Date.now() - 60_000;
    const stale = Date.now() - 3 * 3_600_000;
    const existing = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: `KeywardenRevoked${stale}`,
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: {
            DateLessThan: { 'aws:TokenIssueTime': new Date(stale).toISOString() },
            StringEquals: {
              'cognito-identity.amazonaws.com:sub': ['us-east-1:00000000-0000-4000-8000-00000000dead'],
            },
          },
        },
        {
          Sid: `KeywardenRevoked${recent}`,
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: {
            DateLessThan: { 'aws:TokenIssueTime': new Date(recent).toISOString() },
            StringEquals: { 'cognito-identity.amazonaws.com:sub': [OTHER_IDENTITY, IDENTITY] },
          },
        },
      ],
    };
    // IAM answers the document URL-encoded.
    iam.on(GetRolePolicyCommand).resolves({
      RoleName: 'keywarden-authenticated',
      PolicyName: POLICY_NAME,
      PolicyDocument: encodeURIComponent(JSON.stringify(existing)),
    });
    iam.on(PutRolePolicyCommand).resolves({});
    const response = await asAdmin(request(app).post('/admin/users/corp:sam/revoke')).send({});
    assert.equal(response.status, 200);
    const written = JSON.parse(
      iam
        .commandCalls(PutRolePolicyCommand)
        .find((call) => call.args[0].input.RoleName === 'keywarden-authenticated')!.args[0].input
        .PolicyDocument!,
    ) as {
      Statement: Array<{
        Condition: { StringEquals: Record<string, string[]>; DateLessThan: Record<string, string> };
      }>;
    };
    assert.equal(written.Statement.length, 2, 'the statement no credential can match any more is gone');
    const [older, newer] = written.Statement;
    assert.equal(older!.Condition.DateLessThan['aws:TokenIssueTime'], new Date(recent).toISOString());
    assert.deepEqual(older!.Condition.StringEquals['cognito-identity.amazonaws.com:sub'], [OTHER_IDENTITY]);
    assert.equal(newer!.Condition.DateLessThan['aws:TokenIssueTime'], response.body.revokedBefore);
    assert.deepEqual(newer!.Condition.StringEquals['cognito-identity.amazonaws.com:sub'], [IDENTITY]);
  });

  it('reports a role IAM refused, writes the others, and audits the revocation as a failure', async () => {
    cognito.on(LookupDeveloperIdentityCommand).resolves({ IdentityId: IDENTITY });
    iam.on(GetRolePolicyCommand).rejects(new NoSuchEntityException({ message: 'none', $metadata: {} }));
    iam.on(PutRolePolicyCommand).resolves({});
    const denied = Object.assign(new Error('User is not authorized to perform: iam:PutRolePolicy'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    iam.on(PutRolePolicyCommand, { RoleName: 'keywarden-admin' }).rejects(denied);
    const response = await asAdmin(request(app).post('/admin/users/corp:tess/revoke')).send({});
    assert.equal(response.status, 200, 'the user is cut off even when AWS refuses part of it');
    assert.equal(response.body.issuedCredentials.revoked, false);
    const byRole = Object.fromEntries(
      response.body.issuedCredentials.roles.map(
        (role: { role: string; revoked: boolean; error?: string }) => [role.role, role.error ?? 'revoked'],
      ),
    );
    assert.deepEqual(byRole, { admin: 'iam_access_denied', guest: 'revoked', reader: 'revoked' });
    const audit = logs
      .records()
      .filter((record) => record.event === 'admin.user_revoked')
      .at(-1);
    assert.equal(audit?.outcome, 'failure');
    assert.equal(audit?.rolesFailed, 1);
    assert.equal(audit?.rolesRevoked, 2);
  });
});
