import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type RequestHandler, Router } from 'express';
import { parse as parseYaml } from 'yaml';

const OPENAPI_FILE = path.resolve(import.meta.dirname, '../../../openapi/openapi.yaml');

/** The API description, read once at start-up from the YAML that the tests keep true. */
export function loadOpenApiDocument(file = OPENAPI_FILE): Record<string, unknown> {
  return parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/**
 * GET /openapi.json, behind `limit` (the default rate-limit group: it needs no session or
 * caller). The document is read and converted at the first request, not at start-up.
 */
export function openApiRoutes(limit: RequestHandler): Router {
  let body: string | undefined;
  const router = Router();
  router.get('/openapi.json', limit, (_req, res) => {
    body ??= JSON.stringify(loadOpenApiDocument());
    res.type('application/json').setHeader('Cache-Control', 'public, max-age=300').send(body);
  });
  return router;
}
