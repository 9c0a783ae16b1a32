import { renderScopeSample } from '../broker/scope-policy.ts';
import type { Config } from '../config/schema.ts';
import { parsePrefixTemplate, renderPrefix } from './key-prefix.ts';

/**
 * Presigned URLs are confined twice: keywarden builds every key under the caller's prefix,
 * and S3 refuses what the signing credentials' session policy (the bucket's `credentialScope`)
 * does not allow. The second layer exists only if that scope is itself confined to the prefix.
 * This check renders each bucket's scope for a sample identity and reports S3 object grants
 * that would also reach another identity's prefix or the rest of the bucket.
 *
 * It warns rather than refuses: it cannot see the role's own IAM policy (which may confine
 * with `${cognito-identity.amazonaws.com:sub}`), and a Condition or a deliberately shared
 * read-only prefix can make a wide Resource legitimate. The application-side confinement
 * holds either way; the warning names the missing second layer.
 */

const SAMPLE_IDENTITY = 'us-east-1:00000000-0000-4000-8000-000000000001';
const OTHER_IDENTITY = 'us-east-1:00000000-0000-4000-8000-000000000002';
// biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template
const COGNITO_SUB = '${cognito-identity.amazonaws.com:sub}';
const PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov'];
const OBJECT_ACTIONS = ['s3:GetObject', 's3:PutObject'];

/**
 * IAM's wildcard match (`*`, `?`), with IAM's own escapes `${*}`, `${?}`, `${$}` taken
 * literally. Action names compare case-insensitively, resource ARNs exactly.
 */
function iamPattern(pattern: string, flags = ''): RegExp {
  const source = pattern
    .split(/(\$\{[*?$]\}|[*?])/)
    .map((part) => {
      if (part === '*') return '.*';
      if (part === '?') return '.';
      if (/^\$\{[*?$]\}$/.test(part)) return `\\${part[2]}`;
      return part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}$`, flags);
}

function list(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** Whether an Allow statement grants reading or writing objects on a resource matching `arn`. */
function grantsObjectAccess(statement: Record<string, unknown>, arns: readonly string[]): string[] {
  if (statement.Effect !== 'Allow') return [];
  const actions = list(statement.Action);
  const actsOnObjects =
    statement.NotAction !== undefined ||
    actions.some((action) => OBJECT_ACTIONS.some((wanted) => iamPattern(action, 'i').test(wanted)));
  if (!actsOnObjects) return [];
  if (statement.NotResource !== undefined) return ['NotResource'];
  return list(statement.Resource)
    .map((resource) => resource.replaceAll(COGNITO_SUB, SAMPLE_IDENTITY))
    .filter((resource) => arns.some((arn) => iamPattern(resource).test(arn)));
}

/** One warning per bucket whose URLs S3 would not confine to the caller's prefix. */
export function presignConfinementWarnings(
  config: Pick<Readonly<Config>, 'aws' | 'credentials' | 'presign'>,
): string[] {
  const warnings: string[] = [];
  for (const bucket of config.presign.buckets) {
    const where = `presign bucket "${bucket.name}"`;
    if (config.aws.pool.flow === 'enhanced') {
      warnings.push(
        `${where}: the enhanced flow has no session policy, so S3 confines keys to ${bucket.keyPrefix} only if the pool's roles do (with ${COGNITO_SUB})`,
      );
      continue;
    }
    const scopeName = bucket.credentialScope ?? config.credentials.defaultScope;
    const scope = scopeName === undefined ? undefined : config.credentials.scopes[scopeName];
    if (!scope) {
      warnings.push(
        `${where}: no credentialScope (and no credentials.defaultScope), so URLs are signed with the role's own permissions; S3 confines keys to ${bucket.keyPrefix} only if the role's policy does`,
      );
      continue;
    }
    const template = parsePrefixTemplate(bucket.keyPrefix);
    const outside = [
      `${renderPrefix(template, OTHER_IDENTITY)}object`,
      `${template.head}object`,
      'object',
    ].flatMap((key) => PARTITIONS.map((partition) => `arn:${partition}:s3:::${bucket.name}/${key}`));
    const sample = renderScopeSample(scope.policy, SAMPLE_IDENTITY, 'sample') as Record<string, unknown>;
    const statements = Array.isArray(sample.Statement) ? sample.Statement : [sample.Statement];
    const wide = statements.flatMap((statement) =>
      typeof statement === 'object' && statement !== null
        ? grantsObjectAccess(statement as Record<string, unknown>, outside)
        : [],
    );
    if (wide.length > 0) {
      warnings.push(
        `${where}: scope "${scopeName}" grants object access beyond ${bucket.keyPrefix} (${[...new Set(wide)].join(', ')}), so S3 would not refuse another identity's keys; confine its Resource to arn:aws:s3:::${bucket.name}/${bucket.keyPrefix}*`,
      );
    }
  }
  return warnings;
}
