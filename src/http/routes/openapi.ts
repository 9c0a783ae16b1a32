import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import { parse as parseYaml } from 'yaml';

const OPENAPI_FILE = path.resolve(import.meta.dirname, '../../../openapi/openapi.yaml');

/** The API description, read once at start-up from the YAML that the tests keep true. */
export function loadOpenApiDocument(file = OPENAPI_FILE): Record<string, unknown> {
  return parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

export function openApiRoutes(): Router {
  const body = JSON.stringify(loadOpenApiDocument());
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').setHeader('Cache-Control', 'public, max-age=300').send(body);
  });
  return router;
}
