/**
 * A small IAM policy evaluator for inline session policies: Allow/Deny statements, Action/NotAction,
 * Resource/NotResource with `*` / `?` wildcards (string or array), explicit Deny wins, no match => implicit
 * deny. Policy variables (`${aws:PrincipalTag/x}`, `${cognito-identity.amazonaws.com:sub}`, `${*}`, `${?}`,
 * `${$}`) are substituted for Version 2012-10-17. Conditions: String*, Date*, Bool, Null operators (with
 * IfExists and ForAnyValue:/ForAllValues: qualifiers); an unsupported operator makes the statement not apply.
 */
import { AwsError } from './state.ts';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean | number>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

/** context keys are matched case-insensitively; values may be multi-valued */
export type PolicyContext = Record<string, string | string[] | undefined>;

function malformed(message: string): AwsError {
  return new AwsError(400, 'MalformedPolicyDocument', message);
}

function isStringOrStringArray(v: unknown): v is string | string[] {
  return typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'));
}

/** Parses and validates a policy document; throws MalformedPolicyDocument. */
export function parsePolicy(text: string): PolicyDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed('Syntax errors in policy.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw malformed('Syntax errors in policy.');
  const d = doc as Record<string, unknown>;
  if (d.Version !== undefined && d.Version !== '2012-10-17' && d.Version !== '2008-10-17') {
    throw malformed('The policy must contain a valid version string');
  }
  const rawStatements = Array.isArray(d.Statement)
    ? d.Statement
    : d.Statement !== undefined
      ? [d.Statement]
      : [];
  if (rawStatements.length === 0) throw malformed('Policy document must contain at least one statement.');
  const statements: PolicyStatement[] = [];
  for (const s of rawStatements) {
    if (typeof s !== 'object' || s === null) throw malformed('Syntax errors in policy.');
    const st = s as Record<string, unknown>;
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw malformed('Invalid effect in policy statement.');
    const hasAction = st.Action !== undefined;
    const hasNotAction = st.NotAction !== undefined;
    if (hasAction === hasNotAction) throw malformed('Policy statement must contain actions.');
    if (hasAction && !isStringOrStringArray(st.Action)) throw malformed('Syntax errors in policy.');
    if (hasNotAction && !isStringOrStringArray(st.NotAction)) throw malformed('Syntax errors in policy.');
    const hasResource = st.Resource !== undefined;
    const hasNotResource = st.NotResource !== undefined;
    if (hasResource === hasNotResource) throw malformed('Policy statement must contain resources.');
    if (hasResource && !isStringOrStringArray(st.Resource)) throw malformed('Syntax errors in policy.');
    if (hasNotResource && !isStringOrStringArray(st.NotResource)) throw malformed('Syntax errors in policy.');
    if (st.Principal !== undefined || st.NotPrincipal !== undefined) {
      throw malformed('Policy document should not specify a principal.');
    }
    if (st.Condition !== undefined && (typeof st.Condition !== 'object' || st.Condition === null)) {
      throw malformed('Syntax errors in policy.');
    }
    for (const a of [st.Action, st.NotAction].flat()) {
      if (typeof a === 'string' && a !== '*' && !/^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$/.test(a)) {
        throw malformed(`Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. (${a})`);
      }
    }
    statements.push(st as unknown as PolicyStatement);
  }
  return { Version: d.Version as string | undefined, Statement: statements };
}

/** marks a literal character produced by policy-variable substitution */
const LITERAL = '\u0000';

function globToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, caseInsensitive ? 'is' : 's');
}

export function wildcardMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  return globToRegExp(pattern, caseInsensitive).test(value);
}

function lookup(context: PolicyContext, key: string): string[] | undefined {
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(context)) {
    if (k.toLowerCase() === lower && v !== undefined) return Array.isArray(v) ? v : [v];
  }
  return undefined;
}

/**
 * Substitutes policy variables. Returns undefined if a referenced variable is missing (the element then
 * cannot match, as in IAM).
 */
function substitute(value: string, context: PolicyContext, enabled: boolean): string | undefined {
  if (!enabled) return value;
  let missing = false;
  const out = value.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    if (name === '*' || name === '?' || name === '$') return `\u0000${name}`;
    const v = lookup(context, name)?.[0];
    if (v === undefined) {
      missing = true;
      return '';
    }
    // substituted values are literal: escape wildcards
    return v.replace(/[*?]/g, (c) => `\u0000${c}`);
  });
  return missing ? undefined : out;
}

function matchWithLiterals(pattern: string, value: string, caseInsensitive: boolean): boolean {
  // \u0000x marks a literal x produced by variable substitution
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\u0000') {
      i++;
      re += (pattern[i] ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, caseInsensitive ? 'is' : 's').test(value);
}

function toArray(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function matchesAny(
  patterns: string[],
  value: string,
  context: PolicyContext,
  vars: boolean,
  ci: boolean,
): boolean {
  return patterns.some((p) => {
    const s = substitute(p, context, vars);
    return s !== undefined && matchWithLiterals(s, value, ci);
  });
}

/** A date condition value: ISO 8601 (`2026-01-01T12:00:00Z`, fractions allowed) or epoch seconds. */
function parseDate(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function compareDates(op: string, actual: string, expected: string): boolean {
  const a = parseDate(actual);
  const e = parseDate(expected);
  // A value that is not a date never matches (and a negated operator then does).
  if (a === undefined || e === undefined) return op === 'datenotequals';
  switch (op) {
    case 'dateequals':
      return a === e;
    case 'datenotequals':
      return a !== e;
    case 'datelessthan':
      return a < e;
    case 'datelessthanequals':
      return a <= e;
    case 'dategreaterthan':
      return a > e;
    default:
      return a >= e;
  }
}

const DATE_OPERATORS = new Set([
  'dateequals',
  'datenotequals',
  'datelessthan',
  'datelessthanequals',
  'dategreaterthan',
  'dategreaterthanequals',
]);

function evaluateOperator(
  op: string,
  actual: string,
  expected: string,
  context: PolicyContext,
  vars: boolean,
): boolean | undefined {
  const exp = substitute(expected, context, vars);
  if (exp === undefined) return false;
  const plain = exp.split(LITERAL).join('');
  switch (op) {
    case 'stringequals':
      return actual === plain;
    case 'stringnotequals':
      return actual !== plain;
    case 'stringequalsignorecase':
      return actual.toLowerCase() === plain.toLowerCase();
    case 'stringnotequalsignorecase':
      return actual.toLowerCase() !== plain.toLowerCase();
    case 'stringlike':
      return matchWithLiterals(exp, actual, false);
    case 'stringnotlike':
      return !matchWithLiterals(exp, actual, false);
    case 'bool':
      return actual.toLowerCase() === plain.toLowerCase();
    default:
      return DATE_OPERATORS.has(op) ? compareDates(op, actual, plain) : undefined;
  }
}

function conditionsHold(statement: PolicyStatement, context: PolicyContext, vars: boolean): boolean {
  if (!statement.Condition) return true;
  for (const [rawOp, block] of Object.entries(statement.Condition)) {
    let op = rawOp.toLowerCase();
    let setOp: 'any' | 'all' | undefined;
    if (op.startsWith('foranyvalue:')) {
      setOp = 'any';
      op = op.slice('foranyvalue:'.length);
    } else if (op.startsWith('forallvalues:')) {
      setOp = 'all';
      op = op.slice('forallvalues:'.length);
    }
    let ifExists = false;
    if (op.endsWith('ifexists')) {
      ifExists = true;
      op = op.slice(0, -'ifexists'.length);
    }
    for (const [key, rawExpected] of Object.entries(block)) {
      const expected = (Array.isArray(rawExpected) ? rawExpected : [rawExpected]).map(String);
      const actual = lookup(context, key);
      if (op === 'null') {
        const wantNull = expected.some((e) => e.toLowerCase() === 'true');
        if ((actual === undefined) !== wantNull) return false;
        continue;
      }
      const negated = op.includes('not');
      if (actual === undefined) {
        if (ifExists || setOp === 'all') continue;
        if (negated) continue;
        return false;
      }
      const test = (value: string): boolean | undefined => {
        const results = expected.map((e) => evaluateOperator(op, value, e, context, vars));
        if (results.some((r) => r === undefined)) return undefined;
        // negated operators: the value must differ from every listed value
        return negated ? results.every(Boolean) : results.some(Boolean);
      };
      const perValue = actual.map(test);
      if (perValue.some((r) => r === undefined)) return false; // unsupported operator
      const ok = setOp === 'all' ? perValue.every(Boolean) : perValue.some(Boolean);
      if (!ok) return false;
    }
  }
  return true;
}

export function evaluatePolicy(
  policy: PolicyDocument,
  action: string,
  resource: string,
  context: PolicyContext,
): Decision {
  const vars = policy.Version === '2012-10-17';
  let allowed = false;
  for (const st of policy.Statement) {
    const actionOk =
      st.Action !== undefined
        ? toArray(st.Action).some((a) => wildcardMatch(a, action, true))
        : !toArray(st.NotAction).some((a) => wildcardMatch(a, action, true));
    if (!actionOk) continue;
    const resourceOk =
      st.Resource !== undefined
        ? matchesAny(toArray(st.Resource), resource, context, vars, false)
        : !matchesAny(toArray(st.NotResource), resource, context, vars, false);
    if (!resourceOk) continue;
    if (!conditionsHold(st, context, vars)) continue;
    if (st.Effect === 'Deny') return 'ExplicitDeny';
    allowed = true;
  }
  return allowed ? 'Allow' : 'ImplicitDeny';
}
