/**
 * The inline deny policy that makes credentials already handed out useless (what IAM's
 * "revoke active sessions" does for a whole role, narrowed to the revoked users):
 *
 *   { "Sid": "KeywardenRevoked1767268800123", "Effect": "Deny", "Action": "*", "Resource": "*",
 *     "Condition": {
 *       "DateLessThan": { "aws:TokenIssueTime": "2026-01-01T12:00:00.123Z" },
 *       "StringEquals": { "cognito-identity.amazonaws.com:sub": ["us-east-1:…", …] } } }
 *
 * One statement per revocation moment, listing the Cognito identity ids revoked then. The key
 * is the identity id (`cognito-identity.amazonaws.com:sub`), which both flows carry: the basic
 * flow's sessions (AssumeRoleWithWebIdentity with a Cognito token) and the enhanced flow's
 * (GetCredentialsForIdentity, whose role session name is the same for everyone). Credentials
 * issued after the moment (a user whose suspension was lifted) are not affected.
 *
 * IAM allows 10,240 characters (whitespace excluded) for all of a role's inline policies, so the
 * document is kept small: a statement is dropped once every credential it could deny has
 * expired (its moment is older than the role's longest credential lifetime), an identity is
 * kept only in its latest statement, and when the document is still too large the identities
 * still suspended since their own revocation move to the newest statement (denying more of
 * their time, in which keywarden issued them nothing). If it still does not fit, the caller is
 * told (PolicyFullError) rather than a revocation silently dropped.
 */

export const SUB_KEY = 'cognito-identity.amazonaws.com:sub';
export const ISSUE_TIME_KEY = 'aws:TokenIssueTime';
const SID_PREFIX = 'KeywardenRevoked';

/** The identities revoked at one moment: their credentials issued before `before` are denied. */
export interface RevocationStatement {
  readonly before: number;
  readonly identityIds: readonly string[];
}

/** The document does not fit in its size budget even after pruning and merging. */
export class PolicyFullError extends Error {
  constructor(size: number, budget: number) {
    super(`the revocation policy would take ${size} characters, over its budget of ${budget}`);
    this.name = 'PolicyFullError';
  }
}

interface Statement {
  Sid?: unknown;
  Effect?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** keywarden's statements in a policy document (as GetRolePolicy answers it, URL-decoded); others are ignored. */
export function parseRevocationPolicy(text: string | undefined): RevocationStatement[] {
  if (!text) return [];
  let document: { Statement?: unknown };
  try {
    document = JSON.parse(text) as { Statement?: unknown };
  } catch {
    return [];
  }
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  const parsed: RevocationStatement[] = [];
  for (const raw of statements as Statement[]) {
    if (typeof raw?.Sid !== 'string' || !raw.Sid.startsWith(SID_PREFIX) || raw.Effect !== 'Deny') continue;
    const before = Date.parse(String(raw.Condition?.DateLessThan?.[ISSUE_TIME_KEY] ?? ''));
    const identityIds = asList(raw.Condition?.StringEquals?.[SUB_KEY]);
    if (Number.isFinite(before) && identityIds.length > 0) parsed.push({ before, identityIds });
  }
  return parsed;
}

export function renderRevocationPolicy(statements: readonly RevocationStatement[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: statements.map((statement) => ({
      Sid: `${SID_PREFIX}${statement.before}`,
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: {
        DateLessThan: { [ISSUE_TIME_KEY]: new Date(statement.before).toISOString() },
        StringEquals: { [SUB_KEY]: [...statement.identityIds].sort() },
      },
    })),
  });
}

/** Characters as IAM counts them against the inline-policy quota (whitespace excluded). */
export function policySize(text: string): number {
  return text.replace(/\s/g, '').length;
}

/** Groups identity → moment into statements, oldest first, each identity in one statement only. */
function group(latest: ReadonlyMap<string, number>): RevocationStatement[] {
  const byMoment = new Map<number, string[]>();
  for (const [identityId, before] of latest) {
    const list = byMoment.get(before) ?? [];
    list.push(identityId);
    byMoment.set(before, list);
  }
  return [...byMoment].sort(([a], [b]) => a - b).map(([before, identityIds]) => ({ before, identityIds }));
}

export interface RevocationPlan {
  readonly statements: RevocationStatement[];
  readonly text: string;
}

/**
 * The role's next document: the current statements, minus those nothing can match any more,
 * plus `add`. `suspendedSince(identityId)` answers the moment an identity has been suspended
 * since without a break (its mark's `before` while the suspension holds), or undefined.
 */
export function planRevocationPolicy(input: {
  current: readonly RevocationStatement[];
  add: RevocationStatement;
  now: number;
  /** The longest life of a credential on this role: older statements deny nothing any more. */
  keepMs: number;
  maxChars: number;
  suspendedSince: (identityId: string) => number | undefined;
}): RevocationPlan {
  const latest = new Map<string, number>();
  const keep = (identityId: string, before: number) => {
    if ((latest.get(identityId) ?? Number.NEGATIVE_INFINITY) < before) latest.set(identityId, before);
  };
  for (const statement of input.current) {
    if (statement.before + input.keepMs < input.now) continue;
    for (const identityId of statement.identityIds) keep(identityId, statement.before);
  }
  for (const identityId of input.add.identityIds) keep(identityId, input.add.before);

  let statements = group(latest);
  let text = renderRevocationPolicy(statements);
  if (policySize(text) <= input.maxChars) return { statements, text };

  const newest = Math.max(...latest.values());
  for (const [identityId, before] of latest) {
    if (before < newest && input.suspendedSince(identityId) === before) latest.set(identityId, newest);
  }
  statements = group(latest);
  text = renderRevocationPolicy(statements);
  if (policySize(text) > input.maxChars) throw new PolicyFullError(policySize(text), input.maxChars);
  return { statements, text };
}
