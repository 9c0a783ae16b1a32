/** AWS rejects inline session policies longer than this (plain text, before packing). */
const SESSION_POLICY_MAX_CHARS = 2_048;

/**
 * Scope templates → inline session policies. A template is a policy document whose string
 * values may hold keywarden variables. Values are substituted inside already-parsed JSON
 * strings and the document is serialised afterwards, so a `"` or `\` in a claim is escaped by
 * JSON.stringify and can never close a string or add a statement. Inside the string, IAM's
 * own wildcard characters are escaped with IAM's policy-variable escapes (`${*}`, `${?}`,
 * `${$}`), so a claim of `*` matches only a literal `*`. A `/` would let one user's value
 * name a sub-prefix of another's (`alice/x` under `alice`), so values holding `/` or
 * control characters are refused rather than escaped.
 */

/** `${name}` where name has no colon: a keywarden variable. IAM variables always carry a colon. */
const VARIABLE = /\$\{([^}:]*)\}/g;
const IAM_ESCAPES = new Set(['*', '?', '$']);
const CLAIM_PREFIX = 'claim.';
const FIXED_VARIABLES = new Set(['identityId', 'sub', 'provider']);

export interface ScopeVariables {
  identityId: string;
  sub: string;
  provider: string;
  claims: Readonly<Record<string, string | readonly string[]>>;
}

/** A variable's value cannot be placed in a policy (missing, multi-valued, too long, unsafe). */
export class ScopeVariableError extends Error {
  readonly variable: string;
  constructor(variable: string, reason: string) {
    super(`scope variable ${variable}: ${reason}`);
    this.name = 'ScopeVariableError';
    this.variable = variable;
  }
}

/** The rendered policy is over AWS's limit (the variables were longer than the template allows). */
export class ScopePolicyTooLargeError extends Error {
  constructor(length: number) {
    super(`rendered session policy is ${length} characters, over ${SESSION_POLICY_MAX_CHARS}`);
    this.name = 'ScopePolicyTooLargeError';
  }
}

function isKnownVariable(name: string): boolean {
  if (IAM_ESCAPES.has(name) || FIXED_VARIABLES.has(name)) return true;
  return name.startsWith(CLAIM_PREFIX) && /^[\w.-]+$/.test(name.slice(CLAIM_PREFIX.length));
}

/** Escapes IAM wildcard and variable characters so the value matches only itself. */
export function escapeForPolicy(value: string): string {
  return value.replace(/[*?$]/g, (char) => `\${${char}}`);
}

function lookup(name: string, variables: ScopeVariables, maxLength: number): string {
  let value: string | readonly string[] | undefined;
  if (name === 'identityId') value = variables.identityId;
  else if (name === 'sub') value = variables.sub;
  else if (name === 'provider') value = variables.provider;
  else {
    const claim = name.slice(CLAIM_PREFIX.length);
    value = Object.hasOwn(variables.claims, claim) ? variables.claims[claim] : undefined;
  }
  if (value === undefined) throw new ScopeVariableError(name, 'missing');
  if (typeof value !== 'string') throw new ScopeVariableError(name, 'has several values');
  if (value.length === 0) throw new ScopeVariableError(name, 'is empty');
  if (value.length > maxLength) throw new ScopeVariableError(name, `is longer than ${maxLength}`);
  // A lone surrogate serialises as a six-character `\udXXX` escape (beyond the worst case the
  // load-time size check assumes) and IAM refuses it as malformed.
  if (!value.isWellFormed()) throw new ScopeVariableError(name, 'is not well-formed Unicode');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[/\u0000-\u001f\u007f]/.test(value))
    throw new ScopeVariableError(name, 'holds a / or a control character');
  return escapeForPolicy(value);
}

function substitute(text: string, resolve: (name: string) => string): string {
  return text.replace(VARIABLE, (whole, name: string) => (IAM_ESCAPES.has(name) ? whole : resolve(name)));
}

function mapStrings(node: unknown, map: (text: string) => string): unknown {
  if (typeof node === 'string') return map(node);
  if (Array.isArray(node)) return node.map((item) => mapStrings(item, map));
  if (typeof node === 'object' && node !== null) {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [map(key), mapStrings(value, map)]));
  }
  return node;
}

/** Renders a scope template for one caller; throws ScopeVariableError or ScopePolicyTooLargeError. */
export function renderScopePolicy(
  template: Readonly<Record<string, unknown>>,
  variables: ScopeVariables,
  maxVariableLength: number,
): string {
  const document = mapStrings(template, (text) =>
    substitute(text, (name) => lookup(name, variables, maxVariableLength)),
  );
  const policy = JSON.stringify(document);
  if (policy.length > SESSION_POLICY_MAX_CHARS) throw new ScopePolicyTooLargeError(policy.length);
  return policy;
}

/**
 * A template with `${identityId}` set to `identityId` and every other keywarden variable set
 * to `placeholder`, IAM variables left as they are: what config checks inspect.
 */
export function renderScopeSample(
  template: Readonly<Record<string, unknown>>,
  identityId: string,
  placeholder: string,
): unknown {
  return mapStrings(template, (text) =>
    substitute(text, (name) => (name === 'identityId' ? identityId : placeholder)),
  );
}

/**
 * Checks a template at config load: known variables only, the shape of a policy, and that it
 * fits the size limit even when every variable holds its longest, most-escaped value.
 */
export function validateScopeTemplate(
  template: Record<string, unknown>,
  maxVariableLength: number,
): string[] {
  const problems: string[] = [];
  const unknown = new Set<string>();
  mapStrings(template, (text) => {
    for (const [, name] of text.matchAll(VARIABLE))
      if (name !== undefined && !isKnownVariable(name)) unknown.add(name);
    return text;
  });
  for (const name of unknown) {
    problems.push(
      `unknown variable \${${name}} (use identityId, sub, provider or claim.<name>; IAM variables carry a colon)`,
    );
  }
  const statements = template.Statement;
  if (template.Version !== '2012-10-17')
    problems.push('Version must be "2012-10-17" (policy variables need it)');
  if (
    !(Array.isArray(statements) && statements.length > 0) &&
    !(typeof statements === 'object' && statements)
  ) {
    problems.push('Statement must be a statement or a non-empty list of statements');
  }
  if (problems.length > 0) return problems;
  // Worst case: every variable at its longest, made only of characters that escape to 4.
  const worst = '*'.repeat(maxVariableLength);
  const worstIdentity = `${'x'.repeat(14)}-${'x'.repeat(4)}-1:00000000-0000-0000-0000-000000000000`;
  const sample = mapStrings(template, (text) =>
    substitute(text, (name) => (name === 'identityId' ? worstIdentity : escapeForPolicy(worst))),
  );
  const length = JSON.stringify(sample).length;
  if (length > SESSION_POLICY_MAX_CHARS) {
    problems.push(
      `renders to ${length} characters with ${maxVariableLength}-character variables, over AWS's ${SESSION_POLICY_MAX_CHARS}; shorten it or lower credentials.maxVariableLength`,
    );
  }
  return problems;
}
