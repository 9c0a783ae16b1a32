import { CliError } from '../cli-error.ts';
import type { Command } from '../command.ts';
import { stringOption } from '../command.ts';
import { call, problemText } from '../http-client.ts';
import { endpoint, keywardenUrl } from '../keywarden-url.ts';
import { readToken } from '../token-file.ts';

/**
 * Prints the AWS `credential_process` JSON for a role (for `~/.aws/config`). Only that JSON
 * goes to stdout; every error goes to stderr with exit code 1.
 */
async function credentialProcess(
  base: URL,
  options: { role?: string | undefined; scope?: string | undefined; duration?: string | undefined },
): Promise<void> {
  const token = readToken(base);
  if (!token || token.expiresAt <= Date.now()) {
    throw new CliError(`not signed in to ${base.host}: run \`keywarden login --url ${base.href}\``);
  }
  const url = endpoint(base, '/credentials');
  url.searchParams.set('format', 'credential-process');
  if (options.role) url.searchParams.set('role', options.role);
  if (options.scope) url.searchParams.set('scope', options.scope);
  if (options.duration) {
    if (!/^\d+$/.test(options.duration)) throw new CliError('--duration takes a number of seconds', 2);
    url.searchParams.set('durationSeconds', options.duration);
  }
  const answer = await call(url, { headers: { authorization: `Bearer ${token.accessToken}` } });
  if (answer.status === 401) {
    throw new CliError(`the keywarden sign-in has ended: run \`keywarden login --url ${base.href}\``);
  }
  const { body } = answer;
  if (
    answer.status !== 200 ||
    body.Version !== 1 ||
    typeof body.AccessKeyId !== 'string' ||
    typeof body.SecretAccessKey !== 'string' ||
    typeof body.SessionToken !== 'string' ||
    typeof body.Expiration !== 'string'
  ) {
    throw new CliError(`keywarden did not issue credentials: ${problemText(answer)}`);
  }
  process.stdout.write(
    `${JSON.stringify({
      Version: 1,
      AccessKeyId: body.AccessKeyId,
      SecretAccessKey: body.SecretAccessKey,
      SessionToken: body.SessionToken,
      Expiration: body.Expiration,
    })}\n`,
  );
}

export const credentialProcessCommand: Command = {
  name: 'credential-process',
  usage: '--url <keywarden url> [--role <role>] [--scope <scope>] [--duration <seconds>]',
  summary: 'print AWS credential_process JSON for a role (for ~/.aws/config)',
  options: {
    url: { type: 'string' },
    role: { type: 'string' },
    scope: { type: 'string' },
    duration: { type: 'string' },
  },
  run: (values) =>
    credentialProcess(keywardenUrl(stringOption(values, 'url')), {
      role: stringOption(values, 'role'),
      scope: stringOption(values, 'scope'),
      duration: stringOption(values, 'duration'),
    }),
};
