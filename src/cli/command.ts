import type { ParseArgsOptionsConfig } from 'node:util';

/** Option values as `node:util` parseArgs hands them over. */
export type OptionValues = Record<string, string | boolean | undefined>;

/**
 * One `keywarden <name>` subcommand. The entry point (keywarden.ts) parses the command's own
 * options strictly, prints the usage for `--help`, and maps a CliError to its exit code; adding a
 * subcommand is one module and one line in its list.
 */
export interface Command {
  readonly name: string;
  /** What follows `keywarden <name>` in the usage line. */
  readonly usage: string;
  readonly summary: string;
  readonly options: ParseArgsOptionsConfig;
  /** Whether words other than options follow (`keywarden admin <action> …`); default no. */
  readonly allowPositionals?: boolean;
  run(values: OptionValues, positionals: readonly string[]): Promise<void>;
}

/** The string value of an option, or undefined. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}
