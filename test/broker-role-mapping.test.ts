// biome-ignore-all lint/suspicious/noTemplateCurlyInString: policy templates and IAM variables are literal ${...} strings
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from '../src/auth/principal.ts';
import { allowedRoleNames, allowedRoles } from '../src/broker/role-mapping.ts';
import { escapeForPolicy, renderScopePolicy } from '../src/broker/scope-policy.ts';
import { credentialsSchema } from '../src/config/aws-schema.ts';

const ARN = (name: string) => `arn:aws:iam::210987654321:role/${name}`;

const config = credentialsSchema.parse({
  roles: {
    admin: { arn: ARN('admin'), displayName: 'Admins' },
    dev: { arn: ARN('dev') },
    contractor: { arn: ARN('contractor'), account: 'Contractors' },
    outsider: { arn: ARN('outsider') },
    base: { arn: ARN('base') },
    guest: { arn: ARN('guest') },
  },
  roleRules: [
    { claim: 'groups', match: 'equals', value: 'admins', role: 'admin' },
    { claim: 'email', match: 'startsWith', value: 'dev.', role: 'dev' },
    { claim: 'groups', match: 'contains', value: 'contract', role: 'contractor' },
    { claim: 'department', match: 'notEqual', value: 'engineering', role: 'outsider' },
  ],
  defaultRole: 'base',
  guestRole: 'guest',
});

const user = (claims: Principal['claims']): Principal => ({
  provider: 'corp',
  subject: 'u',
  kind: 'user',
  claims,
});

describe('role mapping', () => {
  it('every matching rule allows its role, in rule order', () => {
    assert.deepEqual(
      allowedRoleNames(config, user({ groups: ['staff', 'admins', 'contractors-eu'], email: 'dev.ann@x' })),
      ['admin', 'dev', 'contractor'],
    );
  });

  it('notEqual matches when no value equals and never when the claim is missing', () => {
    assert.deepEqual(allowedRoleNames(config, user({ department: 'sales' })), ['outsider']);
    assert.deepEqual(allowedRoleNames(config, user({ department: 'engineering' })), ['base']);
    assert.deepEqual(allowedRoleNames(config, user({})), ['base'], 'a missing claim matches nothing');
  });

  it('no rule matched: the default role, or nothing when ambiguity resolves to deny', () => {
    assert.deepEqual(allowedRoleNames(config, user({ groups: ['staff'] })), ['base']);
    const deny = { ...config, ambiguousRoleResolution: 'deny' as const };
    assert.deepEqual(allowedRoleNames(deny, user({ groups: ['staff'] })), []);
    assert.deepEqual(allowedRoleNames(deny, user({ groups: ['admins'] })), ['admin']);
  });

  it('guests get only the guest role; rules never apply to them', () => {
    const guest: Principal = {
      provider: 'guest',
      subject: 'us-east-1:g',
      kind: 'guest',
      claims: { groups: ['admins'] },
    };
    assert.deepEqual(allowedRoleNames(config, guest), ['guest']);
  });

  it('the portal view carries display names and accounts (from config or the ARN)', () => {
    assert.deepEqual(allowedRoles(config, user({ groups: ['admins', 'contract'] })), [
      {
        name: 'admin',
        arn: ARN('admin'),
        displayName: 'Admins',
        account: '210987654321',
        maxSessionDuration: 3600,
      },
      {
        name: 'contractor',
        arn: ARN('contractor'),
        displayName: 'contractor',
        account: 'Contractors',
        maxSessionDuration: 3600,
      },
    ]);
  });
});

describe('scope rendering', () => {
  const template = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::b/${provider}/${sub}/${claim.team}/*',
        Condition: { StringEquals: { 'aws:PrincipalTag/team': '${claim.team}', 's3:x': '${aws:username}' } },
      },
    ],
  };
  const vars = (sub: string, team: string) => ({
    identityId: 'us-east-1:i',
    sub,
    provider: 'corp',
    claims: { team },
  });

  it('substitutes keywarden variables and leaves IAM variables alone', () => {
    const policy = JSON.parse(renderScopePolicy(template, vars('ann', 'blue'), 64));
    assert.equal(policy.Statement[0].Resource, 'arn:aws:s3:::b/corp/ann/blue/*');
    assert.equal(policy.Statement[0].Condition.StringEquals['s3:x'], '${aws:username}');
  });

  it('IAM wildcards and variable syntax in values become literals; quotes stay inside the string', () => {
    assert.equal(escapeForPolicy('a*b?c$d'), 'a${*}b${?}c${$}d');
    const rendered = renderScopePolicy(template, vars('*', '${aws:username}"}'), 64);
    const policy = JSON.parse(rendered);
    assert.equal(policy.Statement.length, 1);
    assert.equal(policy.Statement[0].Resource, 'arn:aws:s3:::b/corp/${*}/${$}{aws:username}"}/*');
  });

  it('refuses values with / or control characters, empty or too long values', () => {
    for (const bad of ['a/b', 'a\nb', '', 'x'.repeat(65)]) {
      assert.throws(
        () => renderScopePolicy(template, vars(bad, 'blue'), 64),
        { name: 'ScopeVariableError' },
        JSON.stringify(bad),
      );
    }
  });
});
