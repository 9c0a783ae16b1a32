import { CliError, say } from '../cli-error.ts';
import type { Command, OptionValues } from '../command.ts';
import { stringOption } from '../command.ts';
import { type Answer, call, problemText } from '../http-client.ts';
import { endpoint, keywardenUrl } from '../keywarden-url.ts';
import { readToken } from '../token-file.ts';

const ACTIONS = ['lookup', 'revoke', 'unsuspend', 'delete-identity'] as const;
type Action = (typeof ACTIONS)[number];

/** `provider:subject`, as the admin API takes it. */
const USER = /^[a-z][a-z0-9-]*:.+$/;

function request(
  action: Action,
  user: string,
  values: OptionValues,
): { method: string; path: string; body?: object } {
  const base = `/admin/users/${encodeURIComponent(user)}`;
  switch (action) {
    case 'lookup':
      return { method: 'GET', path: base };
    case 'revoke': {
      const until = stringOption(values, 'until');
      const reason = stringOption(values, 'reason');
      if (until !== undefined && Number.isNaN(Date.parse(until))) {
        throw new CliError('--until takes an ISO 8601 time, e.g. 2026-07-01T00:00:00Z', 2);
      }
      return {
        method: 'POST',
        path: `${base}/revoke`,
        body: { ...(until ? { until: new Date(until).toISOString() } : {}), ...(reason ? { reason } : {}) },
      };
    }
    case 'unsuspend':
      return { method: 'POST', path: `${base}/unsuspend`, body: {} };
    case 'delete-identity':
      if (values.yes !== true) {
        throw new CliError(
          `delete-identity erases ${user}'s identity and everything kept for it: add --yes`,
          2,
        );
      }
      return { method: 'DELETE', path: `${base}/identity` };
  }
}

/** One line on stderr saying what happened; the JSON answer goes to stdout. */
function summary(action: Action, user: string, body: Record<string, unknown>): string {
  switch (action) {
    case 'lookup':
      return `${user}: ${(body.sessions as unknown[] | undefined)?.length ?? 0} session(s), ${
        (body.cliTokens as unknown[] | undefined)?.length ?? 0
      } CLI sign-in(s)${(body.suspension as { suspended?: boolean } | null)?.suspended ? ', suspended' : ''}`;
    case 'revoke': {
      const issued = body.issuedCredentials as { revoked?: boolean } | undefined;
      return `${user} is cut off${body.suspendedUntil ? ` until ${String(body.suspendedUntil)}` : ' until lifted'}; ${
        issued?.revoked
          ? 'credentials already issued are denied on every role'
          : 'WARNING: credentials already issued are not denied on every role (see issuedCredentials)'
      }`;
    }
    case 'unsuspend':
      return body.wasSuspended ? `${user}'s suspension is lifted` : `${user} was not suspended`;
    case 'delete-identity':
      return `${user}'s identity is erased`;
  }
}

async function admin(values: OptionValues, positionals: readonly string[]): Promise<void> {
  const [action, user, ...extra] = positionals;
  if (!ACTIONS.includes(action as Action)) {
    throw new CliError(`name an action: ${ACTIONS.join(', ')}`, 2);
  }
  if (user === undefined || !USER.test(user) || extra.length > 0) {
    throw new CliError('name one user as provider:subject (e.g. corp:alice)', 2);
  }
  const base = keywardenUrl(stringOption(values, 'url'));
  const planned = request(action as Action, user, values);
  const token = readToken(base);
  if (!token || token.expiresAt <= Date.now()) {
    throw new CliError(`not signed in to ${base.host}: run \`keywarden login --url ${base.href}\``);
  }
  const answer: Answer = await call(endpoint(base, planned.path), {
    method: planned.method,
    headers: {
      authorization: `Bearer ${token.accessToken}`,
      ...(planned.body ? { 'content-type': 'application/json' } : {}),
    },
    ...(planned.body ? { body: JSON.stringify(planned.body) } : {}),
  });
  if (answer.status === 401) {
    throw new CliError(`the keywarden sign-in has ended: run \`keywarden login --url ${base.href}\``);
  }
  if (answer.status === 403 && answer.body.code === 'admin_required') {
    throw new CliError(`you are not an administrator at ${base.host}`);
  }
  if (answer.status !== 200) throw new CliError(`keywarden refused: ${problemText(answer)}`);
  process.stdout.write(`${JSON.stringify(answer.body, null, 2)}\n`);
  say(summary(action as Action, user, answer.body));
}

export const adminCommand: Command = {
  name: 'admin',
  usage:
    '<lookup|revoke|unsuspend|delete-identity> <provider:subject> --url <keywarden url> [--until <ISO time>] [--reason <text>] [--yes]',
  summary: 'administer a user (as an admin signed in with keywarden login): look up, cut off, lift, erase',
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    until: { type: 'string' },
    reason: { type: 'string' },
    yes: { type: 'boolean', default: false },
  },
  run: admin,
};
