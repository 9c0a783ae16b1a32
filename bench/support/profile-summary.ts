/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time by package (or keywarden source
 * file) and the top functions, so the next person sees where a request's time goes.
 *
 *   node bench/support/profile-summary.ts <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const top = Number(topArg ?? 40);
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, index) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
});
// Percentages are of busy time: idle samples (waiting on I/O) are left out.
const idleIds = new Set(
  profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id),
);
for (const id of idleIds) selfUs.delete(id);
const total = [...selfUs.values()].reduce((sum, value) => sum + value, 0);

function groupOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(src|dist|bench|test)\/(.*)$/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  if (url.startsWith('node:')) return url;
  return url;
}

const groups = new Map<string, number>();
const functions = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const { functionName, url, lineNumber } = node.callFrame;
  const group = groupOf(url, functionName);
  groups.set(group, (groups.get(group) ?? 0) + us);
  const key = `${functionName || '(anonymous)'} ${group}:${lineNumber + 1}`;
  functions.set(key, (functions.get(key) ?? 0) + us);
}
const percent = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
console.log(`busy time sampled: ${(total / 1e6).toFixed(2)} s\n\nself time by package / file:`);
for (const [group, us] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${percent(us)}  ${group}`);
console.log('\ntop functions (self time):');
for (const [name, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${percent(us)}  ${name}`);
