/**
 * A bucket's key prefix template (`users/${identityId}/`): checked once at config load, then
 * rendered per caller and used to recognise a key that names some identity's prefix.
 *
 * Only `${identityId}` may appear. Subjects, provider names and claims come from IdPs and may
 * hold `/`, `..` or look-alike characters; a Cognito identity id has a fixed shape we check.
 */

/** `<region>:<uuid>`, the shape of every Cognito identity id. */
const IDENTITY_ID_SOURCE =
  '[a-z]{2}(?:-[a-z0-9]+)+:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const IDENTITY_ID = new RegExp(`^${IDENTITY_ID_SOURCE}$`);
const VARIABLE = /\$\{([^}]*)\}/g;
// biome-ignore lint/suspicious/noTemplateCurlyInString: keywarden's own template syntax, not a JS template
const IDENTITY_VARIABLE = '${identityId}';
/** S3's "safe characters" for key names, plus `/`: a template's literal text needs nothing else. */
const SAFE_LITERAL = /^[A-Za-z0-9!_.*'()/-]*$/;
const MAX_TEMPLATE_LENGTH = 256;

export interface PrefixTemplate {
  readonly template: string;
  /** Literal text before and after `${identityId}`. */
  readonly head: string;
  readonly tail: string;
  /** Matches a key that begins with this template rendered for any identity id (group 1). */
  readonly anyIdentityPrefix: RegExp;
}

function isIdentityId(value: string): boolean {
  return IDENTITY_ID.test(value);
}

/** Problems with a template, for the config loader; empty when the template is usable. */
export function prefixTemplateProblems(template: string): string[] {
  const problems: string[] = [];
  if (template.length > MAX_TEMPLATE_LENGTH)
    problems.push(`is longer than ${MAX_TEMPLATE_LENGTH} characters`);
  const variables = [...template.matchAll(VARIABLE)].map((match) => match[0]);
  const unknown = variables.filter((variable) => variable !== IDENTITY_VARIABLE);
  if (unknown.length > 0) {
    problems.push(`unknown variable ${unknown.join(', ')}: only \${identityId} may be used`);
  }
  if (variables.filter((variable) => variable === IDENTITY_VARIABLE).length !== 1) {
    problems.push(`must contain ${IDENTITY_VARIABLE} exactly once, so each identity has a prefix of its own`);
  }
  const literal = template.replace(VARIABLE, 'x');
  if (!SAFE_LITERAL.test(literal)) {
    problems.push("literal text may use only letters, digits, / and !_.*'()-");
  }
  if (!template.endsWith('/')) problems.push('must end with /');
  if (template.startsWith('/')) problems.push('must not start with /');
  if (literal.includes('//')) problems.push('must not contain an empty segment (//)');
  if (literal.split('/').some((segment) => /^\.+$/.test(segment))) {
    problems.push('must not contain . or .. segments');
  }
  return problems;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Parses a template that prefixTemplateProblems accepted. */
export function parsePrefixTemplate(template: string): PrefixTemplate {
  const problems = prefixTemplateProblems(template);
  if (problems.length > 0)
    throw new Error(`invalid key prefix template "${template}": ${problems.join('; ')}`);
  const at = template.indexOf(IDENTITY_VARIABLE);
  const head = template.slice(0, at);
  const tail = template.slice(at + IDENTITY_VARIABLE.length);
  // The tail is optional at the very end so `users/<id>` (no slash) is recognised too.
  const anyIdentityPrefix = new RegExp(
    `^${escapeRegExp(head)}(${IDENTITY_ID_SOURCE})(?:${escapeRegExp(tail)}|$)`,
  );
  return { template, head, tail, anyIdentityPrefix };
}

/** The caller's own prefix. Refuses an identity id of any other shape rather than splice it. */
export function renderPrefix(template: PrefixTemplate, identityId: string): string {
  if (!isIdentityId(identityId)) throw new Error('identity id has an unexpected shape; no key prefix built');
  return `${template.head}${identityId}${template.tail}`;
}

/** The identity id whose prefix `key` begins with, if it begins with one. */
export function identityPrefixOf(template: PrefixTemplate, key: string): string | undefined {
  return template.anyIdentityPrefix.exec(key)?.[1];
}
