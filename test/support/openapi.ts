import assert from 'node:assert/strict';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { loadOpenApiDocument } from '../../src/http/routes/openapi.ts';

/**
 * Keeps openapi/openapi.yaml true: API tests pass their real responses through
 * `assertMatchesOpenApi`, which fails when the status, content type, a required header or
 * the body is not what the document says.
 *
 *   const response = await request(app).get('/auth/session').set('Authorization', `Bearer ${t}`);
 *   assertMatchesOpenApi(response, { method: 'get', path: '/auth/session' });
 *
 * `path` is the document's path template (`/auth/login/{provider}`) or a concrete path
 * (`/auth/login/corp`), matched against the templates one segment per parameter.
 */

type Json = Record<string, unknown>;

export interface ResponseLike {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed body (supertest parses JSON and problem+json). */
  body?: unknown;
  text?: string;
}

const DOCUMENT_ID = 'urn:keywarden:openapi';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

let cached: { document: Json; ajv: Ajv2020 } | undefined;
const validators = new Map<string, ValidateFunction>();

/** The parsed document (the same one `/openapi.json` serves). */
export function openApiDocument(): Json {
  return load().document;
}

function load(): { document: Json; ajv: Ajv2020 } {
  if (cached) return cached;
  const document = loadOpenApiDocument();
  // OpenAPI 3.1 schemas are JSON Schema 2020-12. The whole document is registered once so
  // that `#/components/...` references resolve wherever a schema sits.
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
  addFormats(ajv);
  ajv.addSchema({ ...document, $id: DOCUMENT_ID });
  cached = { document, ajv };
  return cached;
}

function pointerEscape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function at(document: Json, pointer: string): unknown {
  let node: unknown = document;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Json)[segment];
  }
  return node;
}

/** Follows local `$ref`s, returning the final object and its JSON pointer. */
function deref(document: Json, pointer: string): { node: Json; pointer: string } {
  let current = pointer;
  for (let hops = 0; hops < 10; hops += 1) {
    const node = at(document, current);
    assert.ok(node && typeof node === 'object', `OpenAPI: nothing at ${current}`);
    const ref = (node as Json).$ref;
    if (typeof ref !== 'string') return { node: node as Json, pointer: current };
    assert.ok(ref.startsWith('#/'), `OpenAPI: only local $ref is supported (${ref})`);
    current = ref.slice(1);
  }
  assert.fail(`OpenAPI: $ref loop at ${pointer}`);
}

/** Whether a concrete or templated path fits a document template, one segment per `{param}`. */
export function pathMatchesTemplate(path: string, template: string): boolean {
  const actual = path.split('/');
  const expected = template.split('/');
  if (actual.length !== expected.length) return false;
  return expected.every((segment, index) => {
    const candidate = actual[index]!;
    if (/^\{[^}]+\}$/.test(segment)) return candidate.length > 0;
    return segment === candidate;
  });
}

/** The document's path template for a path, preferring an exact key over a template match. */
export function findPathTemplate(path: string): string | undefined {
  const paths = (openApiDocument().paths ?? {}) as Json;
  if (Object.hasOwn(paths, path)) return path;
  return Object.keys(paths).find((template) => pathMatchesTemplate(path, template));
}

/** Whether the document describes `method` on `path` (concrete or templated). */
export function describesOperation(method: string, path: string): boolean {
  const template = findPathTemplate(path);
  if (!template) return false;
  const item = (openApiDocument().paths as Json)[template] as Json;
  return Object.hasOwn(item, method.toLowerCase());
}

function validatorFor(pointer: string): ValidateFunction {
  let validate = validators.get(pointer);
  if (!validate) {
    validate = load().ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer}` });
    validators.set(pointer, validate);
  }
  return validate;
}

function headerValue(response: ResponseLike, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

function bodyOf(response: ResponseLike, contentType: string): unknown {
  if (/[/+]json$/.test(contentType)) {
    return response.body !== undefined ? response.body : JSON.parse(response.text ?? 'null');
  }
  return response.text ?? '';
}

/**
 * The key of `responses` that describes `status`: the status itself; for an error status
 * (400 and up) only, then its range (`4XX`) or `default`. A success or redirect must be
 * listed by its own status, so a blanket `default` never makes a 200 or a 302 pass.
 */
export function describedStatusKey(responses: Record<string, unknown>, status: number): string | undefined {
  const exact = String(status);
  const candidates = status >= 400 ? [exact, `${exact[0]}XX`, 'default'] : [exact];
  return candidates.find((candidate) => Object.hasOwn(responses, candidate));
}

/**
 * Asserts that a real response is one the document allows for this operation: the status
 * is listed (an error status may fall back to `4XX`/`5XX`/`default`, which must then
 * describe a body, so that the body is still checked), the content type is one of the listed
 * media types, headers marked `required` are present and valid, and a JSON body validates
 * against the schema (JSON Schema 2020-12, with formats).
 */
export function assertMatchesOpenApi(
  response: ResponseLike,
  operation: { method: string; path: string },
): void {
  const { document } = load();
  const method = operation.method.toLowerCase();
  assert.ok((METHODS as readonly string[]).includes(method), `unknown method ${operation.method}`);
  const template = findPathTemplate(operation.path);
  assert.ok(template, `OpenAPI: no path describes ${operation.path}`);
  const label = `${method.toUpperCase()} ${template}`;
  const operationPointer = `/paths/${pointerEscape(template)}/${method}`;
  assert.ok(at(document, operationPointer), `OpenAPI: ${label} is not described`);

  const responses = (at(document, `${operationPointer}/responses`) ?? {}) as Json;
  const status = String(response.status);
  const key = describedStatusKey(responses, response.status);
  assert.ok(
    key,
    `OpenAPI: ${label} does not list status ${status} (listed: ${Object.keys(responses).join(', ')}); body: ${(response.text ?? '').slice(0, 300)}`,
  );
  const { node: described, pointer: responsePointer } = deref(
    document,
    `${operationPointer}/responses/${pointerEscape(key)}`,
  );

  const headers = (described.headers ?? {}) as Json;
  for (const name of Object.keys(headers)) {
    const { node: header, pointer: headerPointer } = deref(
      document,
      `${responsePointer}/headers/${pointerEscape(name)}`,
    );
    const value = headerValue(response, name);
    if (value === undefined) {
      assert.ok(!header.required, `OpenAPI: ${label} ${status} requires header ${name}`);
      continue;
    }
    if (header.schema) {
      const validate = validatorFor(`${headerPointer}/schema`);
      assert.ok(
        validate(value),
        `OpenAPI: ${label} ${status} header ${name}: ${load().ajv.errorsText(validate.errors)}`,
      );
    }
  }

  const content = described.content as Json | undefined;
  const contentType = (headerValue(response, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  assert.ok(
    response.status < 400 || (content && Object.keys(content).length > 0),
    `OpenAPI: ${label} ${status} (as ${key}) describes no body, so the error body would go unchecked`,
  );
  if (!content || Object.keys(content).length === 0) {
    // A response without content (redirects, 204): any body is noise, but not a contract break.
    return;
  }
  const mediaType = Object.keys(content).find((candidate) => {
    const wanted = candidate.toLowerCase();
    if (wanted === contentType) return true;
    if (wanted.endsWith('/*')) return contentType.startsWith(wanted.slice(0, -1));
    return wanted === '*/*';
  });
  assert.ok(
    mediaType,
    `OpenAPI: ${label} ${status} answers ${contentType || '(no content type)'}, the document lists ${Object.keys(content).join(', ')}`,
  );
  const schemaPointer = `${responsePointer}/content/${pointerEscape(mediaType)}/schema`;
  if (!at(document, schemaPointer)) return;
  const body = bodyOf(response, contentType);
  const validate = validatorFor(schemaPointer);
  assert.ok(
    validate(body),
    `OpenAPI: ${label} ${status} body does not match the schema: ${load().ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
  );
}
