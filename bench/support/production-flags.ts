import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The Node/V8 flags the container image starts keywarden with: what stands between `node` and
 * `dist/main.js` in the Dockerfile's CMD, read from there so the benchmarks measure what ships.
 * BENCH_NODE_FLAGS replaces them (an empty value measures Node's defaults).
 */
export function benchNodeFlags(): string[] {
  const override = process.env.BENCH_NODE_FLAGS;
  if (override !== undefined) return override.split(' ').filter(Boolean);
  const dockerfile = readFileSync(path.join(import.meta.dirname, '../../Dockerfile'), 'utf8');
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
  if (!cmd) throw new Error('no exec-form CMD in the Dockerfile');
  const argv = JSON.parse(cmd) as string[];
  return argv.slice(1, argv.indexOf('dist/main.js'));
}
