import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the port once the service logs that it listens. */
  readonly listening: Promise<number>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts keywarden as a real process (as `npm start` or the container would). */
export function startService(
  options: { env?: NodeJS.ProcessEnv; entry?: string; cwd?: string } = {},
): ServiceProcess {
  const child = spawn(process.execPath, [options.entry ?? path.join(repoRoot, 'src/main.ts')], {
    cwd: options.cwd ?? repoRoot,
    env: { PATH: process.env.PATH, PORT: '0', KEYWARDEN_LOG__LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const listening = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"port":(\d+)[^\n]*listening/.exec(output);
      if (match) resolve(Number(match[1]));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    exited.then(({ code }) => reject(new Error(`service exited with ${code} before listening:\n${output}`)));
  });
  listening.catch(() => undefined);
  process.once('exit', () => child.kill('SIGKILL'));
  return { child, output: () => output, listening, exited };
}
