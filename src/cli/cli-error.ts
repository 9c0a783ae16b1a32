/** A failure the CLI reports in one line on stderr, with its exit code (2: usage). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Messages go to stderr: stdout carries only what another program reads. */
export function say(message: string): void {
  process.stderr.write(`${message}\n`);
}
