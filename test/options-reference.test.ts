/**
 * docs/options.md is generated from the config schema. This regenerates it in memory and fails
 * when the committed page differs, so the reference cannot fall behind the options keywarden
 * actually reads (fix: `npm run docs:options`, then commit docs/options.md). The generator
 * itself refuses an option without a description, so a new option cannot reach the page
 * undocumented either.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { configSchema, secretPaths } from '../src/config/schema.ts';
import { generateOptionsReference, OPTIONS_PAGE, REGENERATE_COMMAND } from '../tools/options-reference.ts';

const committed = readFileSync(OPTIONS_PAGE, 'utf8');
const generated = generateOptionsReference();

/** The table row of one option, by its path as the page writes it. */
function rowOf(page: string, option: string): string {
  const row = page.split('\n').find((line) => line.startsWith(`| \`${option}\`<br>`));
  assert.ok(row, `docs/options.md has no row for ${option}`);
  return row;
}

describe('docs/options.md', () => {
  it('is what the config schema generates now', () => {
    assert.ok(
      committed === generated,
      `docs/options.md is stale: run \`${REGENERATE_COMMAND}\` and commit docs/options.md`,
    );
  });

  it('shows the rate-limit groups keywarden actually uses by default', () => {
    const groups = configSchema.parse({}).rateLimit.groups;
    const row = rowOf(generated, 'rateLimit.groups');
    for (const [name, group] of Object.entries(groups)) {
      assert.ok(
        row.includes(
          `\`${name}: {perIp: {points: ${group.perIp.points}, windowSeconds: ${group.perIp.windowSeconds}}`,
        ),
        name,
      );
      if (group.perIdentity) {
        assert.ok(
          row.includes(
            `perIdentity: {points: ${group.perIdentity.points}, windowSeconds: ${group.perIdentity.windowSeconds}}`,
          ),
          name,
        );
      }
    }
  });

  it('marks every secret option as a secret, and only those', () => {
    const secretRows = generated
      .split('\n')
      .filter((line) => line.startsWith('| `') && line.includes('**secret**'));
    const named = new Set(
      secretRows.map((line) => /^\| `([^`]+)`/.exec(line)![1]!.replace(/<[a-zA-Z]+>/g, '*')),
    );
    assert.deepEqual([...named].sort(), [...secretPaths].sort());
  });

  it('documents the options users asked about, with their environment variables', () => {
    const nameIdFormat = rowOf(generated, 'auth.providers.<name>.nameIdFormat');
    assert.match(nameIdFormat, /`KEYWARDEN_AUTH__PROVIDERS__<NAME>__NAME_ID_FORMAT`/);
    assert.match(nameIdFormat, /urn:oasis:names:tc:SAML:2\.0:nameid-format:persistent/);
    assert.match(rowOf(generated, 'auth.providers.<name>.fetchUserinfo'), /groups/);
    assert.match(rowOf(generated, 'server.port'), /`PORT`/);
    assert.match(rowOf(generated, 'log.level'), /development: `debug`/);
  });
});
