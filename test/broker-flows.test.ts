import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  type CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
  GetOpenIdTokenCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
  InternalErrorException,
  InvalidIdentityPoolConfigurationException,
  NotAuthorizedException,
  ResourceConflictException,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-cognito-identity';
import {
  AssumeRoleWithWebIdentityCommand,
  ExpiredTokenException,
  InvalidIdentityTokenException,
  PackedPolicyTooLargeException,
  type STSClient,
  STSServiceException,
} from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { Principal } from '../src/auth/principal.ts';
import { createAwsClients } from '../src/aws/clients.ts';
import { type CredentialServices, createCredentialServices } from '../src/broker/credential-services.ts';
import type { Config } from '../src/config/schema.ts';
import { KeywardenError } from '../src/http/errors.ts';
import { createAuditLog } from '../src/observability/audit.ts';
import { createMetrics, type Metrics } from '../src/observability/metrics.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import {
  ADMIN_ARN,
  BUCKET,
  credentialOverrides,
  DEVELOPER_PROVIDER,
  GUEST_ARN,
  POOL_ID,
  READER_ARN,
} from './fixtures/credentials/config.ts';
import { type CapturedLogs, captureLogs } from './support/logs.ts';
import { testConfig } from './support/test-config.ts';

const IDENTITY = 'us-east-1:11111111-2222-4333-8444-555555555555';
const GUEST_IDENTITY = 'us-east-1:99999999-2222-4333-8444-555555555555';
const EXPIRATION = () => new Date(Date.now() + 3600_000);
const CREDS = () => ({
  AccessKeyId: 'ASIAMOCKACCESSKEY001',
  SecretAccessKey: 'mock/secret/key/that/never/appears/in/logs',
  SessionToken: 'mock-session-token-never-logged',
  Expiration: EXPIRATION(),
});

const alice: Principal = {
  provider: 'corp',
  subject: 'alice',
  kind: 'user',
  claims: { email: 'alice@example.com', groups: ['staff'] },
};
const admin: Principal = { provider: 'corp', subject: 'root', kind: 'user', claims: { groups: ['admins'] } };
const guest: Principal = { provider: 'guest', subject: GUEST_IDENTITY, kind: 'guest', claims: {} };

const mockCognito = (client: CognitoIdentityClient) => mockClient(client);
const mockSts = (client: STSClient) => mockClient(client);

interface Harness {
  services: CredentialServices;
  cognito: ReturnType<typeof mockCognito>;
  sts: ReturnType<typeof mockSts>;
  metrics: Metrics;
  logs: CapturedLogs;
  config: Readonly<Config>;
  store: MemoryStore;
}

function harness(flow: 'basic' | 'enhanced' = 'basic', extra: Record<string, unknown> = {}): Harness {
  const overrides = credentialOverrides({ flow });
  const config = testConfig({ ...overrides, ...extra });
  const logs = captureLogs();
  const metrics = createMetrics({ collectProcessMetrics: false });
  const store = new MemoryStore();
  const clients = createAwsClients(config.aws, {
    credentials: { accessKeyId: 'AKIASERVICE', secretAccessKey: 'service-secret' },
  });
  const cognito = mockCognito(clients.cognito);
  const sts = mockSts(clients.sts);
  const services = createCredentialServices({
    config,
    store,
    logger: logs.logger,
    metrics,
    audit: createAuditLog(logs.logger),
    awsClients: clients,
  });
  return { services, cognito, sts, metrics, logs, config, store };
}

function mockDeveloperToken(h: Harness, identityId = IDENTITY): void {
  h.cognito
    .on(GetOpenIdTokenForDeveloperIdentityCommand)
    .resolves({ IdentityId: identityId, Token: 'cognito-openid-token' });
}

async function rejection(promise: Promise<unknown>): Promise<KeywardenError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeywardenError, `expected a KeywardenError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

describe('credential flows: exact AWS parameters', () => {
  let h: Harness;
  afterEach(() => {
    h.cognito.restore();
    h.sts.restore();
  });

  it('basic flow, signed-in user: developer token then AssumeRoleWithWebIdentity with the rendered scope', async () => {
    h = harness('basic');
    mockDeveloperToken(h);
    h.sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: CREDS() });
    const issued = await h.services.broker.getCredentials({
      principal: alice,
      scope: 'own',
      durationSeconds: 1800,
    });

    assert.deepEqual(h.cognito.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand)[0]!.args[0].input, {
      IdentityPoolId: POOL_ID,
      Logins: { [DEVELOPER_PROVIDER]: 'corp:alice' },
      TokenDuration: 300,
    });
    const sts = h.sts.commandCalls(AssumeRoleWithWebIdentityCommand)[0]!.args[0].input;
    assert.deepEqual(
      { ...sts, Policy: JSON.parse(sts.Policy!) },
      {
        RoleArn: READER_ARN,
        RoleSessionName: 'us-east-1.11111111-2222-4333-8444-555555555555',
        WebIdentityToken: 'cognito-openid-token',
        DurationSeconds: 1800,
        Policy: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['s3:GetObject', 's3:PutObject'],
              Resource: [`arn:aws:s3:::${BUCKET}/users/${IDENTITY}/*`],
            },
          ],
        },
      },
    );
    assert.equal(issued.identityId, IDENTITY);
    assert.equal(issued.role, 'reader');
    assert.equal(issued.credentials.accessKeyId, 'ASIAMOCKACCESSKEY001');
    assert.equal(issued.cache, 'miss');
    assert.equal(
      await h.services.identities.knownIdentityId(alice),
      IDENTITY,
      'user → identity id remembered',
    );
  });

  it('basic flow without a scope sends no Policy; the role max bounds the default duration', async () => {
    h = harness('basic');
    mockDeveloperToken(h);
    h.sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: CREDS() });
    await h.services.broker.getCredentials({ principal: admin, role: 'admin' });
    const input = h.sts.commandCalls(AssumeRoleWithWebIdentityCommand)[0]!.args[0].input;
    assert.equal(input.Policy, undefined);
    assert.equal(input.RoleArn, ADMIN_ARN);
    assert.equal(input.DurationSeconds, 3600);
  });

  it('principal tags from mapped claims go with the developer token request', async () => {
    h = harness('basic', {
      aws: {
        ...(credentialOverrides().aws as object),
        pool: {
          identityPoolId: POOL_ID,
          developerProviderName: DEVELOPER_PROVIDER,
          principalTags: { email: 'email', team: 'team' },
        },
      },
    });
    mockDeveloperToken(h);
    h.sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: CREDS() });
    await h.services.broker.getCredentials({ principal: alice });
    assert.deepEqual(
      h.cognito.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand)[0]!.args[0].input.PrincipalTags,
      {
        email: 'alice@example.com',
      },
    );
  });

  it('principal tags leave out claim values Cognito would refuse, and log the tag, never the value', async () => {
    h = harness('basic', {
      aws: {
        ...(credentialOverrides().aws as object),
        pool: {
          identityPoolId: POOL_ID,
          developerProviderName: DEVELOPER_PROVIDER,
          principalTags: {
            email: 'email',
            office: 'office',
            path: 'path',
            longest: 'longest',
            quoted: 'quoted',
            markup: 'markup',
            newline: 'newline',
            emoji: 'emoji',
            surrogate: 'surrogate',
            tooLong: 'tooLong',
            empty: 'empty',
            groups: 'groups',
            subject: 'sub',
          },
        },
      },
    });
    const odd: Principal = {
      provider: 'corp',
      subject: 'auth0|bob',
      kind: 'user',
      claims: {
        email: 'bob+aws@example.com',
        office: 'Zürich Büro 2',
        path: 'dept/eng:platform=core_1.2-@x',
        longest: 'x'.repeat(256),
        quoted: 'O\u2019Brien-quote"d',
        markup: '<b>secret-markup</b>',
        newline: 'first\nsecond-line',
        emoji: 'team-rocket-\u{1F680}',
        surrogate: '\uD800lone-surrogate-value',
        tooLong: 'y'.repeat(257),
        empty: '',
        groups: ['staff', 'admins'],
      },
    };
    mockDeveloperToken(h);
    h.sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: CREDS() });
    const issued = await h.services.broker.getCredentials({ principal: odd });
    assert.equal(issued.identityId, IDENTITY);
    assert.deepEqual(
      h.cognito.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand)[0]!.args[0].input.PrincipalTags,
      {
        email: 'bob+aws@example.com',
        office: 'Zürich Büro 2',
        path: 'dept/eng:platform=core_1.2-@x',
        longest: 'x'.repeat(256),
      },
    );
    const leftOut = h.logs.records().filter((record) => record.msg === 'principal tag left out');
    assert.deepEqual(
      leftOut.map((record) => [record.tag, record.reason]),
      [
        ['quoted', 'characters Cognito refuses'],
        ['markup', 'characters Cognito refuses'],
        ['newline', 'characters Cognito refuses'],
        ['emoji', 'characters Cognito refuses'],
        ['surrogate', 'characters Cognito refuses'],
        ['tooLong', 'empty or longer than 256 characters'],
        ['empty', 'empty or longer than 256 characters'],
        ['groups', 'not a single string'],
        ['subject', 'characters Cognito refuses'],
      ],
    );
    h.logs.assertNoneContain([
      'secret-markup',
      'second-line',
      'team-rocket',
      'lone-surrogate-value',
      'y'.repeat(257),
    ]);
  });

  it('enhanced flow, signed-in user: GetCredentialsForIdentity with the Cognito login, CustomRoleArn only for non-default roles', async () => {
    h = harness('enhanced');
    mockDeveloperToken(h);
    h.cognito.on(GetCredentialsForIdentityCommand).resolves({
      IdentityId: IDENTITY,
      Credentials: {
        ...CREDS(),
        SecretAccessKey: undefined,
        SecretKey: 'enhanced-secret-key-value',
      } as never,
    });
    const issued = await h.services.broker.getCredentials({ principal: alice });
    assert.deepEqual(h.cognito.commandCalls(GetCredentialsForIdentityCommand)[0]!.args[0].input, {
      IdentityId: IDENTITY,
      Logins: { 'cognito-identity.amazonaws.com': 'cognito-openid-token' },
    });
    assert.equal(issued.credentials.secretAccessKey, 'enhanced-secret-key-value');
    assert.equal(issued.durationSeconds, 3600);

    await h.services.broker.getCredentials({ principal: admin, role: 'admin' });
    assert.deepEqual(h.cognito.commandCalls(GetCredentialsForIdentityCommand)[1]!.args[0].input, {
      IdentityId: IDENTITY,
      Logins: { 'cognito-identity.amazonaws.com': 'cognito-openid-token' },
      CustomRoleArn: ADMIN_ARN,
    });
    assert.equal(h.sts.calls().length, 0, 'the enhanced flow never calls STS');
  });

  it('guest, basic flow: GetOpenIdToken without logins, then the guest role', async () => {
    h = harness('basic');
    h.cognito.on(GetOpenIdTokenCommand).resolves({ IdentityId: GUEST_IDENTITY, Token: 'guest-openid-token' });
    h.sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: CREDS() });
    const issued = await h.services.broker.getCredentials({ principal: guest, identityId: GUEST_IDENTITY });
    assert.deepEqual(h.cognito.commandCalls(GetOpenIdTokenCommand)[0]!.args[0].input, {
      IdentityId: GUEST_IDENTITY,
    });
    assert.deepEqual(h.sts.commandCalls(AssumeRoleWithWebIdentityCommand)[0]!.args[0].input, {
      RoleArn: GUEST_ARN,
      RoleSessionName: 'us-east-1.99999999-2222-4333-8444-555555555555',
      WebIdentityToken: 'guest-openid-token',
      DurationSeconds: 3600,
    });
    assert.equal(issued.role, 'guest');
    assert.equal(h.cognito.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand).length, 0);
  });

  it('guest, enhanced flow: GetCredentialsForIdentity with no logins', async () => {
    h = harness('enhanced');
    h.cognito
      .on(GetCredentialsForIdentityCommand)
      .resolves({ IdentityId: GUEST_IDENTITY, Credentials: { ...CREDS(), SecretKey: 's' } as never });
    await h.services.broker.getCredentials({ principal: guest, identityId: GUEST_IDENTITY });
    assert.deepEqual(h.cognito.commandCalls(GetCredentialsForIdentityCommand)[0]!.args[0].input, {
      IdentityId: GUEST_IDENTITY,
    });
  });

  it('creating a guest identity is GetId with only the pool id', async () => {
    h = harness('basic');
    h.cognito.on(GetIdCommand).resolves({ IdentityId: GUEST_IDENTITY });
    assert.equal(await h.services.identities.createGuestIdentity(), GUEST_IDENTITY);
    assert.deepEqual(h.cognito.commandCalls(GetIdCommand)[0]!.args[0].input, { IdentityPoolId: POOL_ID });
  });

  it('a signed-in former guest links the login to the guest identity (IdentityId) once', async () => {
    h = harness('basic');
    mockDeveloperToken(h, GUEST_IDENTITY);
    h.sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: CREDS() });
    const first = await h.services.broker.getCredentials({
      principal: alice,
      guestIdentityId: GUEST_IDENTITY,
    });
    assert.equal(first.identityId, GUEST_IDENTITY);
    const calls = h.cognito
      .commandCalls(GetOpenIdTokenForDeveloperIdentityCommand)
      .map((call) => call.args[0].input);
    assert.equal(calls[0]!.IdentityId, GUEST_IDENTITY, 'the link call names the guest identity');
    assert.equal(calls.filter((input) => input.IdentityId !== undefined).length, 1);
    await h.services.broker.getCredentials({
      principal: alice,
      guestIdentityId: GUEST_IDENTITY,
      scope: 'own',
    });
    const after = h.cognito
      .commandCalls(GetOpenIdTokenForDeveloperIdentityCommand)
      .map((call) => call.args[0].input);
    assert.equal(after.filter((input) => input.IdentityId !== undefined).length, 1, 'linked only once');
  });

  it('a burst of first requests after sign-in links the guest identity once and vends once', async () => {
    h = harness('basic');
    mockDeveloperToken(h, GUEST_IDENTITY);
    h.sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: CREDS() });
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        h.services.broker.getCredentials({ principal: alice, guestIdentityId: GUEST_IDENTITY }),
      ),
    );
    assert.ok(results.every((result) => result.identityId === GUEST_IDENTITY));
    const inputs = h.cognito
      .commandCalls(GetOpenIdTokenForDeveloperIdentityCommand)
      .map((call) => call.args[0].input);
    assert.equal(inputs.filter((input) => input.IdentityId === GUEST_IDENTITY).length, 1);
    assert.equal(h.sts.commandCalls(AssumeRoleWithWebIdentityCommand).length, 1);
  });

  it('a guest identity already owned by another login (ResourceConflictException) is left alone', async () => {
    h = harness('basic');
    h.cognito
      .on(GetOpenIdTokenForDeveloperIdentityCommand)
      .resolves({ IdentityId: IDENTITY, Token: 't' })
      .on(GetOpenIdTokenForDeveloperIdentityCommand, { IdentityId: GUEST_IDENTITY })
      .rejects(new ResourceConflictException({ message: 'already linked', $metadata: {} }));
    h.sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: CREDS() });
    const issued = await h.services.broker.getCredentials({
      principal: alice,
      guestIdentityId: GUEST_IDENTITY,
    });
    assert.equal(issued.identityId, IDENTITY);
    const audit = h.logs.records().find((r) => r.event === 'identity.linked');
    assert.equal(audit?.outcome, 'failure');
    assert.equal(audit?.reason, 'resource_conflict');
  });
});

describe('credential flows: refusals before AWS is called', () => {
  let h: Harness;
  beforeEach(() => {
    h = harness('basic');
    mockDeveloperToken(h);
    h.sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: CREDS() });
  });
  afterEach(() => {
    h.cognito.restore();
    h.sts.restore();
  });

  const cases: Array<
    [string, Parameters<CredentialServices['broker']['getCredentials']>[0], number, string]
  > = [
    ['a role the rules do not allow', { principal: alice, role: 'admin' }, 403, 'role_not_allowed'],
    ['an unknown role', { principal: alice, role: 'nobody' }, 403, 'role_not_allowed'],
    ['a guest asking for a user role', { principal: guest, role: 'reader' }, 403, 'role_not_allowed'],
    ['an unknown scope', { principal: alice, scope: 'everything' }, 400, 'unknown_scope'],
    ['a duration below 900 s', { principal: alice, durationSeconds: 899 }, 400, 'invalid_duration'],
    [
      'a duration above the role maximum',
      { principal: alice, durationSeconds: 3601 },
      400,
      'invalid_duration',
    ],
    [
      'a multi-valued claim in a scope',
      { principal: { ...alice, claims: { email: ['a', 'b'] } }, scope: 'byEmail' },
      403,
      'scope_not_available',
    ],
    [
      'a claim with a slash in a scope',
      { principal: { ...alice, claims: { email: 'bob/..' } }, scope: 'byEmail' },
      403,
      'scope_not_available',
    ],
    [
      'a missing claim in a scope',
      { principal: { ...alice, claims: {} }, scope: 'byEmail' },
      403,
      'scope_not_available',
    ],
  ];
  for (const [name, request, status, code] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const error = await rejection(h.services.broker.getCredentials(request));
      assert.equal(error.status, status);
      assert.equal(error.code, code);
      assert.equal(h.cognito.calls().length + h.sts.calls().length, 0, 'nothing was asked of AWS');
    });
  }

  it('the admin rule allows both nothing else and its own role first', () => {
    assert.deepEqual(
      h.services.broker.allowedRoles(admin).map((role) => [role.name, role.account, role.displayName]),
      [['admin', '123456789012', 'Administrator']],
    );
    assert.deepEqual(
      h.services.broker.allowedRoles(alice).map((role) => role.name),
      ['reader'],
    );
    assert.deepEqual(
      h.services.broker.allowedRoles(guest).map((role) => role.name),
      ['guest'],
    );
  });

  it('a claim holding * or " is escaped: the policy matches only that literal value', async () => {
    const sneaky: Principal = { ...alice, subject: 'sneaky', claims: { email: '*"],"Resource":["*' } };
    await h.services.broker.getCredentials({ principal: sneaky, scope: 'byEmail' });
    const policy = JSON.parse(h.sts.commandCalls(AssumeRoleWithWebIdentityCommand)[0]!.args[0].input.Policy!);
    assert.equal(policy.Statement.length, 1);
    assert.deepEqual(policy.Statement[0].Resource, [
      `arn:aws:s3:::${BUCKET}/mail/\${*}"],"Resource":["\${*}/*`,
    ]);
  });
});

describe('credential flows: AWS errors map to the right answer', () => {
  let h: Harness;
  afterEach(() => {
    h.cognito.restore();
    h.sts.restore();
  });

  const meta = { $metadata: { httpStatusCode: 400 } };
  const stsError = (name: string, status: number) =>
    new STSServiceException({
      name,
      $fault: status >= 500 ? 'server' : 'client',
      message: `aws says ${name}`,
      $metadata: { httpStatusCode: status },
    });
  const timeout = Object.assign(new Error('socket hang up (timeout)'), { name: 'TimeoutError' });

  const cases: Array<[string, 'cognito' | 'sts', unknown, number, string]> = [
    [
      'NotAuthorizedException',
      'cognito',
      new NotAuthorizedException({ message: 'aws says no', ...meta }),
      403,
      'aws_access_denied',
    ],
    ['STS AccessDenied', 'sts', stsError('AccessDenied', 403), 403, 'aws_access_denied'],
    [
      'InvalidIdentityToken',
      'sts',
      new InvalidIdentityTokenException({ message: 'aws says bad token', ...meta }),
      403,
      'aws_access_denied',
    ],
    [
      'ExpiredToken',
      'sts',
      new ExpiredTokenException({ message: 'aws says expired', ...meta }),
      403,
      'aws_access_denied',
    ],
    [
      'TooManyRequestsException',
      'cognito',
      new TooManyRequestsException({ message: 'aws says slow down', ...meta }),
      503,
      'service_unavailable',
    ],
    ['STS Throttling', 'sts', stsError('Throttling', 400), 503, 'service_unavailable'],
    [
      'InternalErrorException',
      'cognito',
      new InternalErrorException({ message: 'aws says oops', $metadata: { httpStatusCode: 500 } }),
      503,
      'service_unavailable',
    ],
    ['STS 500', 'sts', stsError('InternalFailure', 500), 503, 'service_unavailable'],
    ['a timeout', 'cognito', timeout, 503, 'service_unavailable'],
    [
      'ResourceNotFoundException (no such pool)',
      'cognito',
      new ResourceNotFoundException({ message: 'aws says no pool', ...meta }),
      500,
      'credentials_misconfigured',
    ],
    [
      'InvalidIdentityPoolConfiguration',
      'cognito',
      new InvalidIdentityPoolConfigurationException({ message: 'aws says roles', ...meta }),
      500,
      'credentials_misconfigured',
    ],
    [
      'PackedPolicyTooLarge',
      'sts',
      new PackedPolicyTooLargeException({ message: 'aws says big', ...meta }),
      500,
      'credentials_misconfigured',
    ],
  ];
  for (const [name, service, error, status, code] of cases) {
    it(`${name} → ${status} ${code}${status === 503 ? ' with Retry-After' : ''}`, async () => {
      h = harness('basic');
      if (service === 'cognito')
        h.cognito.on(GetOpenIdTokenForDeveloperIdentityCommand).rejects(error as Error);
      else {
        mockDeveloperToken(h);
        h.sts.on(AssumeRoleWithWebIdentityCommand).rejects(error as Error);
      }
      const problem = await rejection(h.services.broker.getCredentials({ principal: alice }));
      assert.equal(problem.status, status);
      assert.equal(problem.code, code);
      if (status === 503) assert.match(problem.headers['Retry-After'] ?? '', /^\d+$/);
      assert.doesNotMatch(
        problem.expose ? problem.message : '',
        /aws says/,
        'no AWS text reaches the client',
      );
      const metric = await h.metrics.registry.getSingleMetricAsString('keywarden_aws_calls_total');
      assert.match(metric, /outcome="(denied|throttled|unavailable|misconfigured)"/);
    });
  }

  it('a missing identity pool is a 501 vending_not_configured before any AWS call', async () => {
    h = harness('basic', { aws: { pool: { identityPoolId: undefined } } });
    const problem = await rejection(h.services.broker.getCredentials({ principal: alice }));
    assert.equal(problem.status, 501);
    assert.equal(problem.code, 'vending_not_configured');
    assert.equal(problem.expose, true);
    assert.equal(problem.message, 'Credential vending is not configured on this server.');
    assert.equal(h.cognito.calls().length, 0);
  });
});

describe('credential flows: SDK retries', () => {
  /**
   * The SDK's retry strategy runs around the transport and a mocked client replaces `send`
   * altogether, so these tests fail inside the middleware stack instead, below the retries.
   */
  function failingTransport(h: Harness, errors: Error[]): { attempts: () => number } {
    h.cognito.restore();
    h.sts.restore();
    let attempts = 0;
    h.services.clients.cognito.middlewareStack.add(
      () => async () => {
        attempts += 1;
        const error = errors.shift();
        if (error) throw error;
        return { output: { IdentityId: IDENTITY, Token: 'after-retry', $metadata: {} }, response: {} };
      },
      { step: 'finalizeRequest', name: 'scriptedTransport', priority: 'low' },
    );
    return { attempts: () => attempts };
  }

  it('NotAuthorized is not retried', async () => {
    const h = harness('basic', { aws: { ...(credentialOverrides().aws as object), maxAttempts: 3 } });
    const transport = failingTransport(h, [
      new NotAuthorizedException({ message: 'no', $metadata: { httpStatusCode: 400 } }),
    ]);
    const problem = await rejection(h.services.identities.openIdTokenForUser(alice));
    assert.equal(problem.status, 403);
    assert.equal(transport.attempts(), 1);
  });

  it('throttling is retried with backoff up to maxAttempts, then succeeds', async () => {
    const h = harness('basic', { aws: { ...(credentialOverrides().aws as object), maxAttempts: 3 } });
    const throttled = () =>
      new TooManyRequestsException({ message: 'slow', $metadata: { httpStatusCode: 400 } });
    const transport = failingTransport(h, [throttled(), throttled()]);
    const started = Date.now();
    const token = await h.services.identities.openIdTokenForUser(alice);
    assert.equal(token.token, 'after-retry');
    assert.equal(transport.attempts(), 3);
    assert.ok(Date.now() - started >= 50, 'the SDK waited between attempts');
  });

  it('throttling beyond maxAttempts → 503', async () => {
    const h = harness('basic', { aws: { ...(credentialOverrides().aws as object), maxAttempts: 2 } });
    const throttled = () =>
      new TooManyRequestsException({ message: 'slow', $metadata: { httpStatusCode: 400 } });
    const transport = failingTransport(h, [throttled(), throttled(), throttled()]);
    const problem = await rejection(h.services.identities.openIdTokenForUser(alice));
    assert.equal(problem.status, 503);
    assert.equal(transport.attempts(), 2);
  });
});
