/**
 * Where a principal's fields sit in a provider's user document (an OAuth 2.0 user endpoint's
 * JSON, a token introspection answer). Plain OAuth 2.0 providers have no standard claims, so
 * the presets (src/auth/provider-presets.ts) say where each field is, as data:
 *
 *   `id`, `data.id`                      a property, or a dot path into nested objects
 *   `orgs[].login`                       every element of a list, then a property of each
 *   `emails[primary=true][verified=true].email`
 *                                        the elements whose properties equal the values
 *                                        (compared as text: `true`, `42`, `abc`); the
 *                                        first selector opens the list, further ones narrow it
 *
 * Only own properties are followed, so `__proto__` or `constructor` in a path reach nothing.
 * A name that exists as an exact key wins over the path reading, as in src/auth/claim-path.ts.
 */

type Selector =
  | { readonly kind: 'each' }
  | { readonly kind: 'match'; readonly field: string; readonly value: string };

interface Segment {
  readonly key: string;
  readonly selectors: readonly Selector[];
}

const SEGMENT = /^([^.[\]=]+)((?:\[(?:[A-Za-z0-9_]+=[^\]]*)?\])*)$/;
const SELECTOR = /\[(?:([A-Za-z0-9_]+)=([^\]]*))?\]/g;

/** Splits on the dots outside `[...]`, so `[domain=example.com]` stays one selector. */
function splitSegments(path: string): string[] | undefined {
  const parts: string[] = [];
  let current = '';
  let inSelector = false;
  for (const character of path) {
    if (character === '[') {
      if (inSelector) return undefined;
      inSelector = true;
    } else if (character === ']') {
      if (!inSelector) return undefined;
      inSelector = false;
    } else if (character === '.' && !inSelector) {
      parts.push(current);
      current = '';
      continue;
    }
    current += character;
  }
  if (inSelector) return undefined;
  parts.push(current);
  return parts;
}

/** The parsed path, or undefined when it does not follow the grammar above. */
export function parseDocumentPath(path: string): readonly Segment[] | undefined {
  if (path.length === 0 || path.length > 256) return undefined;
  const parts = splitSegments(path);
  if (!parts) return undefined;
  const segments: Segment[] = [];
  for (const raw of parts) {
    const match = SEGMENT.exec(raw);
    if (!match) return undefined;
    const selectors: Selector[] = [];
    for (const selector of (match[2] ?? '').matchAll(SELECTOR)) {
      selectors.push(
        selector[1] === undefined
          ? { kind: 'each' }
          : { kind: 'match', field: selector[1], value: selector[2] ?? '' },
      );
    }
    segments.push({ key: match[1]!, selectors });
  }
  return segments;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * Every value the path reaches in the document: one at most for a plain path, any number
 * once a selector fans out over a list. Missing properties and wrong shapes reach nothing.
 */
export function readDocument(document: unknown, path: string): unknown[] {
  if (isRecord(document) && Object.hasOwn(document, path)) return [document[path]];
  const segments = parseDocumentPath(path);
  if (!segments) return [];
  let nodes: unknown[] = [document];
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const node of nodes) {
      if (isRecord(node) && Object.hasOwn(node, segment.key)) next.push(node[segment.key]);
    }
    nodes = next;
    // The first selector opens the list; a further `[k=v]` narrows the same elements, a further
    // `[]` opens lists inside them.
    segment.selectors.forEach((selector, index) => {
      if (index === 0 || selector.kind === 'each')
        nodes = nodes.flatMap((node) => (Array.isArray(node) ? node : []));
      if (selector.kind === 'match') {
        nodes = nodes.filter(
          (node) =>
            isRecord(node) &&
            Object.hasOwn(node, selector.field) &&
            asText(node[selector.field]) === selector.value,
        );
      }
    });
  }
  return nodes;
}
