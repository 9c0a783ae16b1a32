import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PolicyFullError,
  parseRevocationPolicy,
  planRevocationPolicy,
  policySize,
  type RevocationStatement,
} from '../src/admin/revocation-policy.ts';
import { evaluatePolicy, parsePolicy } from '../src/local-aws/policy.ts';

/**
 * The revocation deny policy on its own: what it denies (checked with the local AWS's IAM
 * evaluator), and how it stays within IAM's inline-policy quota however many users are revoked.
 */

const HOUR = 3_600_000;
const identity = (n: number) => `us-east-1:${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`;

function plan(
  current: RevocationStatement[],
  add: RevocationStatement,
  options: { now?: number; maxChars?: number; suspendedSince?: (id: string) => number | undefined } = {},
) {
  return planRevocationPolicy({
    current,
    add,
    now: options.now ?? add.before,
    keepMs: HOUR,
    maxChars: options.maxChars ?? 10_240,
    suspendedSince: options.suspendedSince ?? (() => undefined),
  });
}

function decide(text: string, sub: string, issuedAt: number) {
  return evaluatePolicy(parsePolicy(text), 's3:GetObject', 'arn:aws:s3:::bucket/key', {
    'cognito-identity.amazonaws.com:sub': sub,
    'aws:TokenIssueTime': new Date(issuedAt).toISOString(),
  });
}

describe('the revocation policy', () => {
  it("denies exactly the revoked identities' credentials issued before the moment", () => {
    const moment = Date.parse('2026-03-01T10:00:00.250Z');
    const { text } = plan([], { before: moment, identityIds: [identity(1), identity(2)] });
    assert.equal(decide(text, identity(1), moment - 1), 'ExplicitDeny');
    assert.equal(decide(text, identity(2), moment - HOUR), 'ExplicitDeny');
    assert.equal(
      decide(text, identity(1), moment),
      'ImplicitDeny',
      'issued at or after the moment: not denied',
    );
    assert.equal(decide(text, identity(3), moment - 1), 'ImplicitDeny', 'another identity: not denied');
    assert.deepEqual(parseRevocationPolicy(text), [
      { before: moment, identityIds: [identity(1), identity(2)] },
    ]);
  });

  it('keeps an identity in its latest statement only, and drops statements nothing can match any more', () => {
    const t0 = Date.parse('2026-03-01T10:00:00Z');
    let statements = plan([], { before: t0, identityIds: [identity(1), identity(2)] }).statements;
    statements = plan(statements, { before: t0 + 10 * 60_000, identityIds: [identity(2)] }).statements;
    assert.deepEqual(statements, [
      { before: t0, identityIds: [identity(1)] },
      { before: t0 + 10 * 60_000, identityIds: [identity(2)] },
    ]);
    // Two hours later every credential issued before t0 (at most an hour long) has expired.
    const later = t0 + 2 * HOUR;
    statements = plan(statements, { before: later, identityIds: [identity(3)] }).statements;
    assert.deepEqual(statements, [{ before: later, identityIds: [identity(3)] }]);
  });

  it('stays within its budget: the still-suspended move to the newest statement, the lifted stay put', () => {
    const t0 = Date.parse('2026-03-01T10:00:00Z');
    let statements: RevocationStatement[] = [];
    const since = new Map<string, number>();
    // One revocation a minute for 20 minutes, 3 identities each: far over the budget unmerged.
    for (let minute = 0; minute < 20; minute += 1) {
      const before = t0 + minute * 60_000;
      const ids = [identity(minute * 3), identity(minute * 3 + 1), identity(minute * 3 + 2)];
      for (const id of ids) since.set(id, before);
      statements = plan(
        statements,
        { before, identityIds: ids },
        { maxChars: 4_096, suspendedSince: (id) => since.get(id) },
      ).statements;
    }
    const { text } = plan(
      statements,
      { before: t0 + 20 * 60_000, identityIds: [identity(999)] },
      {
        maxChars: 4_096,
        suspendedSince: (id) => since.get(id),
      },
    );
    assert.ok(policySize(text) <= 4_096, `${policySize(text)} characters`);
    const final = parseRevocationPolicy(text);
    const everyone = final.flatMap((statement) => statement.identityIds);
    assert.equal(everyone.length, 61, 'nobody was dropped');
    assert.equal(new Set(everyone).size, 61);

    // A lifted identity may not be moved: its new credentials (issued after lifting) must keep working.
    since.delete(identity(0));
    const lifted = plan(
      statements,
      { before: t0 + 21 * 60_000, identityIds: [identity(1000)] },
      {
        maxChars: 4_096,
        suspendedSince: (id) => since.get(id),
      },
    );
    const own = lifted.statements.find((statement) => statement.identityIds.includes(identity(0)));
    assert.ok(own && own.before < t0 + 21 * 60_000, 'the lifted identity keeps its own moment');
    assert.equal(decide(lifted.text, identity(0), t0 + 15 * 60_000), 'ImplicitDeny');
  });

  it('says so when even merging cannot fit the budget, instead of dropping a revocation', () => {
    const t0 = Date.parse('2026-03-01T10:00:00Z');
    const ids = Array.from({ length: 30 }, (_, n) => identity(n));
    assert.throws(() => plan([], { before: t0, identityIds: ids }, { maxChars: 1_024 }), PolicyFullError);
  });

  it('ignores statements it did not write, and unreadable documents', () => {
    const foreign = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'SomeoneElse', Effect: 'Deny', Action: '*', Resource: '*' }],
    });
    assert.deepEqual(parseRevocationPolicy(foreign), []);
    assert.deepEqual(parseRevocationPolicy('{not json'), []);
    assert.deepEqual(parseRevocationPolicy(undefined), []);
  });
});
