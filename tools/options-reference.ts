/**
 * Writes docs/options.md, the options reference, from the config schema (src/config/schema.ts):
 * every option's path, environment variable, type, default (the schema's, and what
 * config/<env>.yaml changes), whether it is a secret (`secretPaths`), and its description (the
 * schema's `.describe()`/`.meta()`). An option without a description is an error, so a new option
 * cannot reach the page undocumented. test/options-reference.test.ts fails when the committed
 * page is not what this generates.
 *
 *   npm run docs:options
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BEARER_KIND_DEFAULTS, LOGIN_PRESETS } from '../src/auth/provider-presets.ts';
import { unwrapOption } from '../src/config/env-names.ts';
import { configSchema, secretPaths } from '../src/config/schema.ts';

type Schema = z.core.$ZodType;

export const OPTIONS_PAGE: string = fileURLToPath(new URL('../docs/options.md', import.meta.url));
const CONFIG_DIR = new URL('../config/', import.meta.url);
/** The files that change defaults per NODE_ENV, in the order the page names them. */
const ENV_FILES = ['development', 'test', 'production'] as const;

export const REGENERATE_COMMAND = 'npm run docs:options';

/** What the schema's `.meta()` may say about an option besides its description. */
interface OptionMeta {
  description?: string;
  /** How the type reads on the page when the schema's shape says it badly (a size, a policy). */
  typeText?: string;
  /** How the default reads when it is derived rather than a value (`http://localhost:<port>`). */
  defaultText?: string;
  /** The placeholder for a map's keys (`role` → `credentials.roles.<role>`). */
  key?: string;
  /** A variable read besides the KEYWARDEN_ one (`PORT`), or instead of it (`NODE_ENV`). */
  env?: string;
  envOnly?: boolean;
}

type Segment = { field: string } | { key: string } | { item: true };

interface Row {
  option: string;
  env: string[];
  /** Set as part of which list variable, for options inside list elements. */
  inList?: string;
  type: string;
  defaultText: string;
  secret: boolean;
  description: string;
}

interface Section {
  id: string;
  title: string;
  intro: string[];
  rows: Row[];
  subsections: Section[];
}

// ---- reading the schema ------------------------------------------------------------------

interface Peeled {
  inner: Schema;
  meta: OptionMeta;
  defaultValue?: unknown;
  hasDefault: boolean;
  optional: boolean;
  nullable: boolean;
}

function metaOf(schema: Schema): OptionMeta | undefined {
  return z.globalRegistry.get(schema) as OptionMeta | undefined;
}

/** Peels the wrappers that do not change what an option holds, gathering meta and default on the way. */
function peel(schema: Schema): Peeled {
  const { inner, wrappers } = unwrapOption(schema);
  const types = wrappers.map((wrapper) => wrapper._zod.def.type);
  const firstDefault = wrappers.find((wrapper) => wrapper._zod.def.type === 'default');
  return {
    inner,
    // The outermost meta wins: a use of a shared schema may say more than the shared one.
    meta: Object.assign({}, ...[inner, ...wrappers.toReversed()].map(metaOf)) as OptionMeta,
    hasDefault: firstDefault !== undefined,
    ...(firstDefault ? { defaultValue: (firstDefault._zod.def as z.core.$ZodDefaultDef).defaultValue } : {}),
    optional: types.includes('optional'),
    nullable: types.includes('nullable'),
  };
}

function shapeOf(schema: Schema): Record<string, Schema> {
  return (schema._zod.def as z.core.$ZodObjectDef).shape as Record<string, Schema>;
}

/** An IAM policy document is one value: its keys (`Version`, `Statement`) are AWS's, not options. */
function isWholeValue(peeled: Peeled): boolean {
  if (peeled.meta.typeText) return true;
  const def = peeled.inner._zod.def;
  if (def.type === 'object') return Object.keys(shapeOf(peeled.inner)).some((key) => /^[A-Z]/.test(key));
  return false;
}

function discriminatorOf(schema: Schema): string | undefined {
  const def = schema._zod.def as z.core.$ZodDiscriminatedUnionDef;
  return def.type === 'union' && typeof def.discriminator === 'string' ? def.discriminator : undefined;
}

function numberText(def: z.core.$ZodNumberDef): string {
  let integer = false;
  let low: string | undefined;
  let high: string | undefined;
  for (const check of def.checks ?? []) {
    const c = check._zod.def as { check: string; format?: string; value?: unknown; inclusive?: boolean };
    if (c.check === 'number_format' && (c.format === 'safeint' || c.format === 'int32')) integer = true;
    if (c.check === 'greater_than') {
      // An integer above n is one of at least n + 1, which reads better next to a maximum.
      const inclusive = c.inclusive || integer;
      const bound = c.inclusive || !integer ? Number(c.value) : Number(c.value) + 1;
      low = `${inclusive ? '≥' : '>'} ${grouped(bound)}`;
    }
    if (c.check === 'less_than') high = `${c.inclusive ? '≤' : '<'} ${grouped(Number(c.value))}`;
  }
  const base = integer ? 'integer' : 'number';
  if (low?.startsWith('≥') && high?.startsWith('≤')) return `${base}, ${low.slice(2)} … ${high.slice(2)}`;
  return [base, low, high].filter(Boolean).join(' ');
}

function grouped(value: number): string {
  return Math.abs(value) >= 10_000 ? value.toLocaleString('en-US') : String(value);
}

const PLURALS: Record<string, string> = {
  string: 'strings',
  URL: 'URLs',
  'IAM policy document': 'IAM policy documents',
};

function plural(type: string): string {
  return PLURALS[type] ?? type;
}

function typeText(schema: Schema): string {
  const peeled = peel(schema);
  const text = peeled.meta.typeText ?? shapeText(peeled);
  return peeled.nullable ? `${text} or \`null\`` : text;
}

function shapeText(peeled: Peeled): string {
  const { inner } = peeled;
  const def = inner._zod.def;
  switch (def.type) {
    case 'string': {
      const format = (def as z.core.$ZodStringFormatDef).format;
      return format === 'url' ? 'URL' : 'string';
    }
    case 'number':
      return numberText(def as z.core.$ZodNumberDef);
    case 'boolean':
      return 'boolean';
    case 'enum':
      return Object.values((def as z.core.$ZodEnumDef).entries)
        .map((value) => `\`${String(value)}\``)
        .join(' \\| ');
    case 'literal':
      return (def as z.core.$ZodLiteralDef<z.core.util.Literal>).values
        .map((value) => `\`${String(value)}\``)
        .join(' \\| ');
    case 'array': {
      const element = (def as z.core.$ZodArrayDef).element;
      const elementPeeled = peel(element);
      if (elementPeeled.inner._zod.def.type === 'object' && !isWholeValue(elementPeeled))
        return 'list of objects';
      return `list of ${plural(typeText(element))}`;
    }
    case 'record': {
      const value = (def as z.core.$ZodRecordDef).valueType;
      const valuePeeled = peel(value);
      const kind = valuePeeled.inner._zod.def.type;
      if ((kind === 'object' && !isWholeValue(valuePeeled)) || discriminatorOf(valuePeeled.inner))
        return 'map';
      return `map of ${plural(typeText(value))}`;
    }
    case 'union': {
      const kinds = (def as z.core.$ZodUnionDef).options.map((option) => typeText(option));
      return [...new Set(kinds)].join(' or ');
    }
    case 'object':
      return 'object';
    default:
      return def.type;
  }
}

// ---- showing values ----------------------------------------------------------------------

/** A value as YAML flow text, as it would be written in a config file or an environment variable. */
function flow(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(flow).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([key, inner]) => `${key}: ${flow(inner)}`)
      .join(', ')}}`;
  }
  if (typeof value === 'string')
    return value === '' || /^[\s[\]{},:#&*!|>'"%@`-]|[,{}[\]]|: /.test(value) ? JSON.stringify(value) : value;
  return String(value);
}

function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/** `1800000` (30 min): how a number of milliseconds, seconds or bytes reads to a person. */
function readable(option: string, value: unknown): string {
  if (typeof value !== 'number' || value === 0) return '';
  const units: Array<[number, string]> = option.endsWith('Ms')
    ? [
        [86_400_000, 'd'],
        [3_600_000, 'h'],
        [60_000, 'min'],
        [1000, 's'],
      ]
    : /(Seconds|Duration)$/.test(option)
      ? [
          [86_400, 'd'],
          [3_600, 'h'],
          [60, 'min'],
        ]
      : /Bytes$/.test(option)
        ? [
            [1024 ** 3, 'GiB'],
            [1024 ** 2, 'MiB'],
            [1024, 'KiB'],
          ]
        : [];
  const unit = units.find(([size]) => value >= size && value % size === 0);
  return unit ? ` (${value / unit[0]} ${unit[1]})` : '';
}

/** One code span, or one line per entry for a map of objects (the rate-limit groups). */
function valueText(value: unknown): string {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length > 1 && entries.every(([, inner]) => typeof inner === 'object' && inner !== null)) {
      return entries.map(([key, inner]) => code(`${key}: ${flow(inner)}`)).join('<br>');
    }
  }
  // A lone text value is shown as it is written; inside a list or map it is quoted where YAML needs it.
  return code(typeof value === 'string' ? value : flow(value));
}

// ---- names -------------------------------------------------------------------------------

function screaming(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function optionName(path: readonly Segment[]): string {
  let text = '';
  for (const segment of path) {
    if ('field' in segment) text += text === '' ? segment.field : `.${segment.field}`;
    else if ('key' in segment) text += `.<${segment.key}>`;
    else text += '[]';
  }
  return text;
}

/** docs/configuration.md's rule: KEYWARDEN_ then each level in SCREAMING_SNAKE, joined by `__`. */
function envName(path: readonly Segment[]): string {
  const levels = path.map((segment) =>
    'field' in segment ? screaming(segment.field) : 'key' in segment ? `<${screaming(segment.key)}>` : '',
  );
  return `KEYWARDEN_${levels.join('__')}`;
}

function secretPattern(path: readonly Segment[]): string {
  return path.map((segment) => ('field' in segment ? segment.field : '*')).join('.');
}

const SECRETS = new Set(secretPaths);

// ---- defaults per environment --------------------------------------------------------------

type Tree = Record<string, unknown>;

const EMPTY_CONFIG_DEFAULTS = configSchema.parse({}) as Tree;

function readConfigFile(name: string): Tree {
  const parsed: unknown = parseYaml(readFileSync(new URL(`${name}.yaml`, CONFIG_DIR), 'utf8'));
  return typeof parsed === 'object' && parsed !== null ? (parsed as Tree) : {};
}

function valueAt(tree: unknown, path: readonly string[]): unknown {
  let node = tree;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Tree)[key];
  }
  return node;
}

function concretePath(path: readonly Segment[]): string[] | undefined {
  const keys: string[] = [];
  for (const segment of path) {
    if (!('field' in segment)) return undefined;
    keys.push(segment.field);
  }
  return keys;
}

/** "development: `debug`" for each config/<env>.yaml that sets this option to another value. */
function environmentDefaults(
  path: readonly Segment[],
  files: Record<string, Tree>,
  fallback: unknown,
): string[] {
  const keys = concretePath(path);
  if (!keys) return [];
  return ENV_FILES.flatMap((name) => {
    const value = valueAt(files[name], keys);
    if (value === undefined || JSON.stringify(value) === JSON.stringify(fallback)) return [];
    const shown =
      typeof value === 'object' && value !== null ? `see \`config/${name}.yaml\`` : code(flow(value));
    return [`${name}: ${shown}`];
  });
}

// ---- the walk ----------------------------------------------------------------------------

interface WalkContext {
  files: Record<string, Tree>;
  undocumented: string[];
  /** The values a kind starts from (the opaque bearer kinds), with the path length of its entry. */
  kindDefaults?: { depth: number; values: Tree };
}

function rowFor(schema: Schema, peeled: Peeled, path: readonly Segment[], context: WalkContext): Row {
  const option = optionName(path);
  const description = peeled.meta.description?.trim();
  if (!description) context.undocumented.push(option);
  const listIndex = path.findIndex((segment) => 'item' in segment);
  const env: string[] = [];
  if (listIndex === -1 && !peeled.meta.envOnly) env.push(envName(path));
  if (peeled.meta.env) env.push(peeled.meta.env);

  let defaultText: string;
  const keys = concretePath(path);
  const fromDefaultFile = keys ? valueAt(context.files.default, keys) : undefined;
  const schemaDefault = keys ? valueAt(EMPTY_CONFIG_DEFAULTS, keys) : peeled.defaultValue;
  const kindDefault = context.kindDefaults
    ? valueAt(
        context.kindDefaults.values,
        path.slice(context.kindDefaults.depth).map((segment) => ('field' in segment ? segment.field : '')),
      )
    : undefined;
  const shown = [
    kindDefault,
    fromDefaultFile,
    schemaDefault,
    peeled.hasDefault ? peeled.defaultValue : undefined,
  ].find((value) => value !== undefined);
  if (peeled.meta.defaultText) defaultText = peeled.meta.defaultText;
  else if (shown !== undefined) defaultText = valueText(shown) + readable(option, shown);
  else if (peeled.optional || peeled.nullable) defaultText = '—';
  else defaultText = 'required';
  const perEnvironment = environmentDefaults(path, context.files, shown);
  if (perEnvironment.length > 0) defaultText += `<br>${perEnvironment.join('<br>')}`;

  return {
    option,
    env,
    ...(listIndex === -1 ? {} : { inList: envName(path.slice(0, listIndex)) }),
    type: typeText(schema),
    defaultText,
    secret: SECRETS.has(secretPattern(path)),
    description: description ?? '',
  };
}

function walk(schema: Schema, path: Segment[], section: Section, context: WalkContext): void {
  const peeled = peel(schema);
  const def = peeled.inner._zod.def;
  if (def.type === 'object' && !isWholeValue(peeled)) {
    // An optional group of options is a row of its own: whether it is there at all means something.
    if (path.length > 1 && peeled.optional) {
      section.rows.push(rowFor(schema, peeled, path, context));
    }
    for (const [field, child] of Object.entries(shapeOf(peeled.inner))) {
      walk(child, [...path, { field }], section, context);
    }
    return;
  }
  if (def.type === 'record') {
    section.rows.push(rowFor(schema, peeled, path, context));
    const value = (def as z.core.$ZodRecordDef).valueType;
    const valuePeeled = peel(value);
    const key = peeled.meta.key ?? 'name';
    const discriminator = discriminatorOf(valuePeeled.inner);
    if (discriminator) {
      const variants = (valuePeeled.inner._zod.def as z.core.$ZodUnionDef).options;
      for (const variant of variants) {
        const variantPeeled = peel(variant);
        const kindSchema = peel(shapeOf(variantPeeled.inner)[discriminator]!);
        const kind = String(
          (kindSchema.inner._zod.def as z.core.$ZodLiteralDef<z.core.util.Literal>).values[0],
        );
        const base = [...path, { key }];
        const sub: Section = {
          id: `${optionName(base)}-${kind}`,
          title: `${code(optionName(base))} with ${code(`${discriminator}: ${kind}`)}`,
          intro: [variantPeeled.meta.description ?? '', ...kindNotes(optionName(path), kind)].filter(Boolean),
          rows: [],
          subsections: [],
        };
        if (!variantPeeled.meta.description) context.undocumented.push(sub.title);
        const values = optionName(path) === 'bearer.issuers' ? BEARER_KIND_DEFAULTS[kind] : undefined;
        const variantContext: WalkContext = values
          ? { ...context, kindDefaults: { depth: base.length, values: values as Tree } }
          : context;
        for (const [field, child] of Object.entries(shapeOf(variantPeeled.inner))) {
          walk(child, [...base, { field }], sub, variantContext);
        }
        section.subsections.push(sub);
      }
      return;
    }
    if (valuePeeled.inner._zod.def.type === 'object') walk(value, [...path, { key }], section, context);
    return;
  }
  if (def.type === 'array') {
    section.rows.push(rowFor(schema, peeled, path, context));
    const element = (def as z.core.$ZodArrayDef).element;
    const elementPeeled = peel(element);
    if (elementPeeled.inner._zod.def.type === 'object' && !isWholeValue(elementPeeled)) {
      walk(element, [...path, { item: true }], section, context);
    }
    return;
  }
  section.rows.push(rowFor(schema, peeled, path, context));
}

/** What a kind starts from before the entry's own values: presets and the opaque kinds' tables. */
function kindNotes(mapOption: string, kind: string): string[] {
  if (mapOption === 'auth.providers') {
    const presets = Object.entries(LOGIN_PRESETS)
      .filter(([, table]) => table.kind === kind)
      .map(([name]) => code(name));
    if (presets.length === 0) return [];
    return [
      `\`preset: <name>\` fills in an entry of this kind first (${presets.join(', ')}); the entry's own values win. The presets' values: [social-sign-in.md](social-sign-in.md).`,
    ];
  }
  if (mapOption === 'bearer.issuers' && Object.hasOwn(BEARER_KIND_DEFAULTS, kind)) {
    return [
      "The defaults below include this kind's table of endpoints and claims; an entry's own values win (objects merge, lists are replaced).",
    ];
  }
  return [];
}

// ---- the page ----------------------------------------------------------------------------

function cell(text: string): string {
  return text
    .replace(/\n+/g, ' ')
    .replace(/\|/g, (match, offset: number, whole: string) => (whole[offset - 1] === '\\' ? match : '\\|'));
}

function renderRows(rows: readonly Row[]): string[] {
  if (rows.length === 0) return [];
  const lines = ['| Option | Type | Default | Description |', '|---|---|---|---|'];
  for (const row of rows) {
    const names = [code(row.option), ...row.env.map(code)];
    if (row.inList) names.push(`in ${code(row.inList)}`);
    const type = row.secret ? `${row.type}, **secret**` : row.type;
    lines.push(
      `| ${names.join('<br>')} | ${cell(type)} | ${cell(row.defaultText)} | ${cell(row.description)} |`,
    );
  }
  return lines;
}

function anchorOf(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

const HEADER = `# Options reference

<!-- Generated from the config schema (src/config/) by tools/options-reference.ts: do not edit.
     Regenerate with \`${REGENERATE_COMMAND}\`; test/options-reference.test.ts fails when this page is stale. -->

Every option keywarden reads, generated from the one schema that validates them
(\`src/config/\`). How the layers, environment variables and secret files work:
[configuration.md](configuration.md).

- **Option** is the path in a YAML file, then the environment variable that sets it. \`<name>\`
  stands for a key you choose (a provider's name, a role's name); in a variable it is written in
  capitals like every other level. Options inside list elements (\`[]\`) are set with the whole list.
- **Type**: a list or a map given in an environment variable is YAML flow syntax, quoted for the
  shell: \`KEYWARDEN_CORS__ORIGINS='[https://app.example.com, https://admin.example.com]'\`.
  **secret** options come only from the environment or a \`*_FILE\` file: in production a
  secret in a YAML file is refused.
- **Default** is the schema's default; \`—\` means unset (the feature is off, or the value is
  derived); *required* means the enclosing entry needs it. A line per \`config/<NODE_ENV>.yaml\`
  shows what that environment's file sets.
`;

export function generateOptionsReference(): string {
  const files: Record<string, Tree> = { default: readConfigFile('default') };
  for (const name of ENV_FILES) files[name] = readConfigFile(name);
  const context: WalkContext = { files, undocumented: [] };
  const top: Section = { id: 'top', title: 'Top level', intro: [], rows: [], subsections: [] };
  const sections: Section[] = [top];
  for (const [field, child] of Object.entries(shapeOf(configSchema))) {
    const peeled = peel(child);
    if (peeled.inner._zod.def.type !== 'object') {
      walk(child, [{ field }], top, context);
      continue;
    }
    const section: Section = {
      id: field,
      title: code(field),
      intro: peeled.meta.description ? [peeled.meta.description] : [],
      rows: [],
      subsections: [],
    };
    if (!peeled.meta.description) context.undocumented.push(`section ${field}`);
    walk(child, [{ field }], section, context);
    sections.push(section);
  }
  if (context.undocumented.length > 0) {
    throw new Error(
      `options without a description (add .describe() in src/config/): ${context.undocumented.join(', ')}`,
    );
  }

  const contents: string[] = ['## Sections', ''];
  const body: string[] = [];
  const render = (section: Section, level: number) => {
    const heading = `${'#'.repeat(level)} ${section.title}`;
    contents.push(`${'  '.repeat(level - 2)}- [${section.title}](#${anchorOf(section.title)})`);
    body.push(heading, '');
    for (const paragraph of section.intro) body.push(paragraph, '');
    const rows = renderRows(section.rows);
    if (rows.length > 0) body.push(...rows, '');
    for (const sub of section.subsections) render(sub, level + 1);
  };
  for (const section of sections) render(section, 2);
  return `${HEADER}\n${contents.join('\n')}\n\n${body.join('\n').trimEnd()}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OPTIONS_PAGE, generateOptionsReference());
  console.log(`wrote ${OPTIONS_PAGE}`);
}
