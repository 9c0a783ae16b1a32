/**
 * The client's request and response types are generated from openapi/openapi.yaml; this
 * fails when the committed file is not what the contract generates now, so the client and
 * the server cannot drift apart unnoticed. Fix: `npm run generate -w @keywarden/client`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { GENERATED_FILE, generateClientTypes } from '../../tools/openapi-client-types/generate.ts';

it('client/src/generated/openapi.ts is what openapi/openapi.yaml generates', async () => {
  const committed = readFileSync(GENERATED_FILE, 'utf8');
  const fresh = await generateClientTypes();
  assert.ok(
    committed === fresh,
    'client/src/generated/openapi.ts is stale: run `npm run generate -w @keywarden/client` and commit it',
  );
  assert.match(fresh, /PresignResult: \{/);
});
