// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${identityId} is the key prefix template syntax under test
/**
 * Key confinement against the hostile-key corpus (test/fixtures/presign/hostile-keys.json):
 * every invalid key is refused with its exact reason, every foreign prefix with 403, and
 * every valid key lands under the caller's prefix.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  identityPrefixOf,
  parsePrefixTemplate,
  prefixTemplateProblems,
  renderPrefix,
} from '../src/presign/key-prefix.ts';
import {
  confineKey,
  ForbiddenPrefixError,
  InvalidKeyError,
  MAX_KEY_BYTES,
} from '../src/presign/object-key.ts';

interface Corpus {
  identityId: string;
  otherIdentityId: string;
  otherRegionIdentityId: string;
  valid: Array<{ scenario: string; key: string }>;
  invalid: Array<{ scenario: string; key: string; reason: string }>;
  forbidden: Array<{ scenario: string; key: string }>;
}

const corpus = JSON.parse(
  readFileSync(new URL('./fixtures/presign/hostile-keys.json', import.meta.url), 'utf8'),
) as Corpus;
const template = parsePrefixTemplate('users/${identityId}/');
const prefix = `users/${corpus.identityId}/`;

/** Placeholders and the keys whose length depends on the prefix. */
function expand(key: string): string {
  switch (key) {
    case 'MAXLEN':
      return 'a'.repeat(MAX_KEY_BYTES - Buffer.byteLength(prefix));
    case 'LONG':
      return 'a'.repeat(MAX_KEY_BYTES + 1);
    case 'PREFIXLONG':
      return 'a'.repeat(MAX_KEY_BYTES - Buffer.byteLength(prefix) + 1);
    default:
      return key
        .replaceAll('{self}', corpus.identityId)
        .replaceAll('{otherRegion}', corpus.otherRegionIdentityId)
        .replaceAll('{other}', corpus.otherIdentityId);
  }
}

const confine = (key: string, claimedPrefix?: string) =>
  confineKey(expand(key), { template, identityId: corpus.identityId, claimedPrefix });

describe('key confinement: valid keys land under the caller prefix', () => {
  for (const { scenario, key } of corpus.valid) {
    it(scenario, () => {
      const confined = confine(key);
      assert.equal(confined.prefix, prefix);
      assert.equal(confined.fullKey, prefix + expand(key));
      assert.ok(Buffer.byteLength(confined.fullKey) <= MAX_KEY_BYTES);
    });
  }
});

describe('key confinement: hostile keys are 400 invalid_key with the rule that caught them', () => {
  for (const { scenario, key, reason } of corpus.invalid) {
    it(`${scenario} → ${reason}`, () => {
      assert.throws(
        () => confine(key),
        (error: unknown) => {
          assert.ok(error instanceof InvalidKeyError, `expected InvalidKeyError, got ${String(error)}`);
          assert.equal(error.status, 400);
          assert.equal(error.code, 'invalid_key');
          assert.equal(error.reason, reason);
          assert.deepEqual(error.extensions, { reason });
          return true;
        },
      );
    });
  }
});

describe("key confinement: another identity's prefix is 403 forbidden_prefix", () => {
  for (const { scenario, key } of corpus.forbidden) {
    it(scenario, () => {
      assert.throws(
        () => confine(key),
        (error: unknown) => {
          assert.ok(
            error instanceof ForbiddenPrefixError,
            `expected ForbiddenPrefixError, got ${String(error)}`,
          );
          assert.equal(error.status, 403);
          assert.equal(error.code, 'forbidden_prefix');
          return true;
        },
      );
    });
  }

  it('an explicit prefix claim must be the caller prefix exactly', () => {
    assert.equal(confine('a.txt', prefix).fullKey, `${prefix}a.txt`);
    for (const claim of [
      `users/${corpus.otherIdentityId}/`,
      'users/',
      '',
      `${prefix}x/`,
      prefix.slice(0, -1),
    ]) {
      assert.throws(() => confine('a.txt', claim), ForbiddenPrefixError, `claim ${JSON.stringify(claim)}`);
    }
  });

  it('the same key is allowed for its owner (the 403 is about whose prefix, not the text)', () => {
    const other = confineKey('photo.jpg', { template, identityId: corpus.otherIdentityId });
    assert.equal(other.fullKey, `users/${corpus.otherIdentityId}/photo.jpg`);
  });

  it('the corpus covers every rule', () => {
    const reasons = new Set(corpus.invalid.map((entry) => entry.reason));
    for (const reason of [
      'empty',
      'too_long',
      'not_well_formed',
      'control_character',
      'format_character',
      'backslash',
      'lookalike_character',
      'template_syntax',
      'invalid_percent_encoding',
      'leading_slash',
      'trailing_slash',
      'empty_segment',
      'dot_segment',
      'blank_segment',
      'repeats_own_prefix',
    ]) {
      assert.ok(reasons.has(reason), `no fixture for ${reason}`);
    }
  });
});

describe('key prefix templates', () => {
  it('renders the caller prefix and recognises any identity prefix', () => {
    assert.equal(renderPrefix(template, corpus.identityId), prefix);
    assert.equal(identityPrefixOf(template, `users/${corpus.otherIdentityId}/x`), corpus.otherIdentityId);
    assert.equal(identityPrefixOf(template, `users/${corpus.otherIdentityId}`), corpus.otherIdentityId);
    assert.equal(identityPrefixOf(template, `users/${corpus.otherIdentityId}x/y`), undefined);
    assert.equal(identityPrefixOf(template, 'users/alice/x'), undefined);
  });

  it('works with a template that has no literal head', () => {
    const bare = parsePrefixTemplate('${identityId}/');
    assert.throws(
      () => confineKey(`${corpus.otherIdentityId}/x`, { template: bare, identityId: corpus.identityId }),
      ForbiddenPrefixError,
    );
    assert.equal(
      confineKey('photos/x', { template: bare, identityId: corpus.identityId }).fullKey,
      `${corpus.identityId}/photos/x`,
    );
  });

  it('refuses to render a prefix for an identity id of an unexpected shape', () => {
    for (const id of [
      'alice',
      '../x',
      'us-east-1:../../',
      'us-east-1:11111111-1111-4111-8111-111111111111/x',
      '',
    ]) {
      assert.throws(() => renderPrefix(template, id), /unexpected shape/);
    }
  });

  it('reports unusable templates', () => {
    assert.deepEqual(prefixTemplateProblems('users/${identityId}/'), []);
    assert.deepEqual(prefixTemplateProblems('tenants/acme/u-${identityId}/in/'), []);
    const cases: Array<[string, RegExp]> = [
      ['users/${sub}/', /unknown variable \$\{sub\}/],
      ['users/', /exactly once/],
      ['users/${identityId}/${identityId}/', /exactly once/],
      ['users/${identityId}', /must end with \//],
      ['/users/${identityId}/', /must not start with \//],
      ['users//${identityId}/', /empty segment/],
      ['users/../${identityId}/', /\. or \.\. segments/],
      ['users/${identityId}/./', /\. or \.\. segments/],
      ['us ers/${identityId}/', /literal text/],
      ['users\\${identityId}/', /literal text/],
    ];
    for (const [bad, expected] of cases) {
      assert.match(prefixTemplateProblems(bad).join('; '), expected, bad);
    }
  });
});
