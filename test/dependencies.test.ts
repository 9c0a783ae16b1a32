import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';

/**
 * A production install carries only packages the service uses: every entry of
 * `dependencies` must be loaded at run time by something under src/, and everything src/
 * loads at run time must be in `dependencies` (a devDependency would be missing from the
 * image). Type-only imports are erased before run time, so they count for neither.
 *
 * The scan is static: Node's own type stripper removes `import type` and `export type`,
 * then the remaining static imports, re-exports and `import('…')` calls are read.
 */

const root = path.resolve(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const dependencies = Object.keys(manifest.dependencies ?? {});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.ts$/.test(entry.name) && !/\.d\.ts$/.test(entry.name) ? [full] : [];
  });
}

/** `@aws-sdk/client-s3/dist/x` → `@aws-sdk/client-s3`; `yaml` → `yaml`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

const IMPORT_PATTERNS = [
  /^\s*import\s+['"]([^'"]+)['"]/gm, // import 'side-effect'
  /^\s*(?:import|export)\s[^'"]*?\sfrom\s*['"]([^'"]+)['"]/gm, // import x from 'y', export * from 'y'
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g, // await import('y')
];

/** Bare specifiers a file loads at run time (relative paths and node: built-ins left out). */
function runtimeImports(file: string): string[] {
  const code = stripTypeScriptTypes(readFileSync(file, 'utf8'), { mode: 'strip' });
  const specifiers = IMPORT_PATTERNS.flatMap((pattern) => [...code.matchAll(pattern)].map((m) => m[1]!));
  return specifiers.filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !s.startsWith('/'));
}

const used = new Map<string, string>();
for (const file of sourceFiles(path.join(root, 'src'))) {
  for (const specifier of runtimeImports(file)) {
    const name = packageName(specifier);
    if (!used.has(name)) used.set(name, path.relative(root, file));
  }
}

describe('production dependencies', () => {
  it('scans the sources it should (guards the scanner itself)', () => {
    // express is imported everywhere; pino only through `import type` in most files but
    // at run time by the logger; a lazily imported package (SAML) must be seen too.
    for (const name of ['express', 'pino', '@node-saml/node-saml']) assert.ok(used.has(name), name);
    assert.ok(!used.has('@smithy/types'), 'a type-only import is not a run-time use');
  });

  it('are each loaded at run time by something under src/', () => {
    const unused = dependencies.filter((name) => !used.has(name));
    assert.deepEqual(unused, [], `in dependencies but imported by nothing in src/: ${unused.join(', ')}`);
  });

  it('cover every package src/ loads at run time', () => {
    const undeclared = [...used]
      .filter(([name]) => !dependencies.includes(name))
      .map(([name, file]) => `${name} (${file})`);
    assert.deepEqual(undeclared, [], 'imported by src/ but not in dependencies');
  });
});
