/**
 * Every relative link in the README and the documentation points at a file that exists, and a
 * link to a heading (`page.md#some-heading`, or `#some-heading` on the same page) at a heading
 * that exists, with GitHub's anchor rule. Pages move and headings change; a reader following a
 * link should never land on nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './support/service-process.ts';

function markdownFiles(): string[] {
  const files = ['README.md'];
  for (const dir of ['docs', 'examples', 'client', 'helm']) {
    const walk = (relative: string) => {
      for (const entry of readdirSync(path.join(repoRoot, relative), { withFileTypes: true })) {
        const child = path.join(relative, entry.name);
        if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'dist') walk(child);
        else if (entry.isFile() && entry.name.endsWith('.md')) files.push(child);
      }
    };
    if (existsSync(path.join(repoRoot, dir))) walk(dir);
  }
  return files;
}

/** The text outside fenced code blocks and inline code, where links are links. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, '');
  for (const match of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    // Code spans are literal text; outside them, links become their text and HTML tags vanish.
    const text = match[1]!
      .split('`')
      .map((part, index) =>
        index % 2 === 1
          ? part
          : part.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<\/?[a-z][^>]*>/gi, ''),
      )
      .join('');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

interface Link {
  file: string;
  target: string;
}

function relativeLinks(file: string): Link[] {
  const text = prose(readFileSync(path.join(repoRoot, file), 'utf8'));
  const links: Link[] = [];
  for (const match of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    links.push({ file, target });
  }
  return links;
}

const files = markdownFiles();

describe('links in the README and docs/', () => {
  it('finds the pages to check', () => {
    assert.ok(files.includes('README.md'));
    assert.ok(files.includes(path.join('docs', 'README.md')));
    assert.ok(files.filter((file) => file.startsWith('docs')).length >= 15, files.join(', '));
  });

  it('reads anchors the way GitHub writes them', () => {
    const anchors = headingAnchors('# A `b.c` d: e\n## Sign-in (OIDC) and sessions\n## Twice\n## Twice\n');
    assert.deepEqual([...anchors], ['a-bc-d-e', 'sign-in-oidc-and-sessions', 'twice', 'twice-1']);
  });

  for (const file of files) {
    const links = relativeLinks(file);
    if (links.length === 0) continue;
    it(`${file}: every relative link resolves`, () => {
      const broken: string[] = [];
      for (const { target } of links) {
        const [rawPath, anchor] = target.split('#', 2) as [string, string | undefined];
        const resolved =
          rawPath === ''
            ? path.join(repoRoot, file)
            : path.resolve(repoRoot, path.dirname(file), decodeURI(rawPath));
        if (!resolved.startsWith(repoRoot) || !existsSync(resolved)) {
          broken.push(`${target} (no such file)`);
          continue;
        }
        if (anchor !== undefined && resolved.endsWith('.md') && statSync(resolved).isFile()) {
          if (!headingAnchors(readFileSync(resolved, 'utf8')).has(anchor))
            broken.push(`${target} (no such heading)`);
        }
      }
      assert.deepEqual(broken, []);
    });
  }
});
