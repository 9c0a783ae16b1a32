#!/usr/bin/env node
/**
 * keywarden — the command-line side of the enterprise portal.
 *
 *   keywarden login --url https://keywarden.example.com [--open]
 *   keywarden credential-process --url <url> [--role <role>] [--scope <scope>] [--duration <seconds>]
 *   keywarden logout --url <url>
 *   keywarden admin <lookup|revoke|unsuspend|delete-identity> <provider:subject> --url <url> [...]
 *
 * Only Node built-ins: an installed package needs nothing beyond Node itself to run the CLI.
 * Messages go to stderr; stdout carries only what another program reads (the
 * credential_process JSON). Built to dist/cli/keywarden.js, the package's `bin`; from a
 * checkout, `node src/cli/keywarden.ts` (or `npm run cli --`) runs the same code.
 */
import { parseArgs } from 'node:util';
import { CliError, say } from './cli-error.ts';
import type { Command, OptionValues } from './command.ts';
import { adminCommand } from './commands/admin.ts';
import { credentialProcessCommand } from './commands/credential-process.ts';
import { loginCommand } from './commands/login.ts';
import { logoutCommand } from './commands/logout.ts';
import { CLI_VERSION } from './version.ts';

const COMMANDS: readonly Command[] = [loginCommand, credentialProcessCommand, logoutCommand, adminCommand];

function usage(commands: readonly Command[] = COMMANDS): string {
  const lines = commands.map(
    (command) => `  keywarden ${command.name} ${command.usage}\n      ${command.summary}`,
  );
  if (commands === COMMANDS) lines.push('  keywarden --version');
  return `usage:\n${lines.join('\n')}`;
}

const HELP = new Set(['help', '--help', '-h']);

/** Runs one invocation; answers the exit code (0 done, 1 failed, 2 usage). */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    say(usage());
    return 2;
  }
  if (HELP.has(name)) {
    say(usage());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${CLI_VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    say(`unknown command: ${name}\n${usage()}`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: { ...command.options, help: { type: 'boolean', short: 'h', default: false } },
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
    });
    if (values.help) {
      say(usage([command]));
      return 0;
    }
    await command.run(values as OptionValues, positionals);
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      say(`keywarden: ${error.message}`);
      return error.exitCode;
    }
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      say(`keywarden: ${(error as Error).message}\n${usage([command])}`);
      return 2;
    }
    say(`keywarden: ${(error as Error).message}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
