import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

/**
 * How a `KEYWARDEN_*` variable names an option (docs/configuration.md):
 *
 * - The name after `KEYWARDEN_` is the option's path, levels separated by `__`, each level
 *   in SCREAMING_SNAKE case: `KEYWARDEN_SERVER__TRUST_PROXY_HOPS` is `server.trustProxyHops`.
 * - A trailing `_FILE` reads the value from the file it names, unless the whole name, suffix
 *   included, is itself an option (`auth.providers.<name>.idpMetadataFile`): then the variable
 *   sets that option, and `…_FILE_FILE` reads it from a file. The schema never has both an
 *   option `x` and an option `xFile` next to each other (test/config-env-names.test.ts), so
 *   neither reading ever hides an option.
 * - The value is taken verbatim for a text option; anything else (numbers, booleans, lists,
 *   maps) is read as YAML, so `8080` is a number and `[a, b]` a list. `null` clears an option
 *   that may be null.
 *
 * The schema decides both questions, so this module walks it: only named fields count as
 * options for the `_FILE` question (a record key, such as a provider name, does not).
 */

type Schema = z.core.$ZodType;

const FILE_SUFFIX = '_FILE';

/** `SHUTDOWN_GRACE_MS` → `shutdownGraceMs`; also how record keys (provider names) are read. */
export function camelCase(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, char: string) => char.toUpperCase());
}

/**
 * The wrappers around a schema that do not change which keys or kind of value an option takes
 * (default, optional, nullable, readonly, pipe…), outermost first, and the schema they wrap.
 * The environment-name rule and the generated options reference (tools/options-reference.ts)
 * both read options through this one walk.
 */
export function unwrapOption(schema: Schema): { inner: Schema; wrappers: Schema[] } {
  const wrappers: Schema[] = [];
  let current = schema;
  for (let depth = 0; depth < 30; depth++) {
    const def = current._zod.def;
    switch (def.type) {
      case 'nullable':
      case 'optional':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'catch':
      case 'nonoptional':
        wrappers.push(current);
        current = (def as z.core.$ZodOptionalDef).innerType;
        break;
      case 'pipe': {
        // A transform after a schema (`string().transform`) takes that schema's input; a
        // preprocess (transform first) takes whatever its own step accepts.
        wrappers.push(current);
        const pipe = def as z.core.$ZodPipeDef;
        current = pipe.in._zod.def.type === 'transform' ? pipe.out : pipe.in;
        break;
      }
      default:
        return { inner: current, wrappers };
    }
  }
  return { inner: current, wrappers };
}

function unwrap(schema: Schema): { inner: Schema; nullable: boolean } {
  const { inner, wrappers } = unwrapOption(schema);
  return { inner, nullable: wrappers.some((wrapper) => wrapper._zod.def.type === 'nullable') };
}

interface Step {
  schema: Schema;
  /** True when the key is a named field of an object (not a record key). */
  named: boolean;
}

function childOf(schema: Schema, key: string): Step | undefined {
  const { inner } = unwrap(schema);
  const def = inner._zod.def;
  if (def.type === 'object') {
    const shape = (def as z.core.$ZodObjectDef).shape;
    return Object.hasOwn(shape, key) ? { schema: shape[key]!, named: true } : undefined;
  }
  if (def.type === 'record') return { schema: (def as z.core.$ZodRecordDef).valueType, named: false };
  if (def.type === 'union') {
    for (const option of (def as z.core.$ZodUnionDef).options) {
      const found = childOf(option, key);
      if (found) return found;
    }
  }
  return undefined;
}

function resolve(root: Schema, path: readonly string[]): Step | undefined {
  let step: Step = { schema: root, named: false };
  for (const key of path) {
    const next = childOf(step.schema, key);
    if (!next) return undefined;
    step = next;
  }
  return step;
}

export interface EnvOption {
  path: string[];
  /** The variable names a file whose content is the value. */
  fromFile: boolean;
  /** Turns the raw text (the variable's value, or the file's content) into the option's value. */
  read(raw: string): unknown;
}

/** YAML for structured values; an unparsable value is kept as text for the schema to report. */
function readYamlValue(raw: string): unknown {
  const trimmed = raw.trim();
  if (trimmed === '') return '';
  try {
    return parseYaml(trimmed);
  } catch {
    return raw;
  }
}

function readerFor(schema: Schema | undefined): (raw: string) => unknown {
  if (!schema) return readYamlValue;
  const { inner, nullable } = unwrap(schema);
  const type = inner._zod.def.type;
  const text =
    type === 'string' ||
    type === 'enum' ||
    (type === 'literal' &&
      (inner._zod.def as z.core.$ZodLiteralDef<z.core.util.Literal>).values.every(
        (value) => typeof value === 'string',
      ));
  if (!text) return readYamlValue;
  return (raw) => (nullable && (raw.trim() === 'null' || raw.trim() === '~') ? null : raw);
}

/**
 * The option a variable sets, `name` being what follows `KEYWARDEN_`. Names the schema does
 * not know still map to a path (by the same spelling rule), so the schema reports them as
 * unknown options by their path.
 */
export function optionForEnvName(root: Schema, name: string): EnvOption {
  const pathOf = (text: string) => text.split('__').filter(Boolean).map(camelCase);
  const literal = pathOf(name);
  const literalStep = resolve(root, literal);
  if (name.endsWith(FILE_SUFFIX) && !literalStep?.named) {
    const path = pathOf(name.slice(0, -FILE_SUFFIX.length));
    const read = readerFor(resolve(root, path)?.schema);
    // A mounted secret file usually ends with a newline that is not part of the value.
    return { path, fromFile: true, read: (raw) => read(raw.trim()) };
  }
  return { path: literal, fromFile: false, read: readerFor(literalStep?.schema) };
}
