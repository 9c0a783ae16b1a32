import { CliError, say } from '../cli-error.ts';
import type { Command } from '../command.ts';
import { stringOption } from '../command.ts';
import { call, postForm, problemText } from '../http-client.ts';
import { endpoint, keywardenUrl } from '../keywarden-url.ts';
import { type StoredToken, writeToken } from '../token-file.ts';

/** The public client keywarden's device grant knows the CLI by (`portal.device.clientIds`). */
export const CLIENT_ID = 'keywarden-cli';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function openInBrowser(url: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  try {
    spawn(command, args as string[], { stdio: 'ignore', detached: true })
      .on('error', () => undefined)
      .unref();
  } catch {
    // Opening a browser is a convenience; the link is printed anyway.
  }
}

/**
 * The OAuth 2.0 Device Authorization Grant (RFC 8628) against keywarden: print the link and
 * code, poll until the user approves in the portal, keep the CLI token owner-only on disk.
 */
async function login(base: URL, options: { open: boolean }): Promise<void> {
  const started = await postForm(endpoint(base, '/auth/device/authorize'), { client_id: CLIENT_ID });
  if (started.status !== 200)
    throw new CliError(`keywarden refused to start a sign-in: ${problemText(started)}`);
  const { device_code, user_code, verification_uri, verification_uri_complete } = started.body;
  let interval = Number(started.body.interval) || 5;
  const deadline = Date.now() + (Number(started.body.expires_in) || 600) * 1000;
  if (
    typeof device_code !== 'string' ||
    typeof user_code !== 'string' ||
    typeof verification_uri !== 'string'
  ) {
    throw new CliError('keywarden answered an unexpected device authorization');
  }
  const link = typeof verification_uri_complete === 'string' ? verification_uri_complete : verification_uri;
  say('To sign in, open this page in your browser:');
  say('');
  say(`  ${link}`);
  say('');
  say(`and check that it shows this code: ${user_code}`);
  say(`(or open ${verification_uri} and enter the code)`);
  say('Waiting for approval…');
  if (options.open) await openInBrowser(link);

  while (Date.now() < deadline) {
    await sleep(interval * 1000);
    const polled = await postForm(endpoint(base, '/auth/device/token'), {
      grant_type: DEVICE_GRANT,
      device_code,
      client_id: CLIENT_ID,
    });
    if (polled.status === 200 && typeof polled.body.access_token === 'string') {
      const expiresIn = Number(polled.body.expires_in) || 0;
      const token: StoredToken = {
        url: base.href,
        accessToken: polled.body.access_token,
        expiresAt: Date.now() + expiresIn * 1000,
      };
      const file = writeToken(base, token);
      const me = await call(endpoint(base, '/auth/session'), {
        headers: { authorization: `Bearer ${token.accessToken}` },
      });
      const who =
        me.status === 200 ? String(me.body.name ?? me.body.email ?? me.body.subject ?? 'you') : 'you';
      const roles = Array.isArray(me.body.allowedRoles) ? me.body.allowedRoles.join(', ') : '';
      say(`Signed in to ${base.host} as ${who} until ${new Date(token.expiresAt).toISOString()}.`);
      if (roles) say(`Roles: ${roles}`);
      say(`Token saved in ${file}`);
      return;
    }
    switch (polled.body.error) {
      case 'authorization_pending':
        continue;
      case 'slow_down':
        interval += 5;
        continue;
      case 'expired_token':
        throw new CliError('the code expired before it was approved; run login again');
      case 'access_denied':
        throw new CliError('the sign-in was denied in the browser');
      default:
        if (polled.status === 429 || polled.status === 503) {
          interval += 5;
          continue;
        }
        throw new CliError(`sign-in failed: ${problemText(polled)}`);
    }
  }
  throw new CliError('the code expired before it was approved; run login again');
}

export const loginCommand: Command = {
  name: 'login',
  usage: '--url <keywarden url> [--open]',
  summary: 'sign in once, approving a code in the portal (device authorization grant)',
  options: { url: { type: 'string' }, open: { type: 'boolean', default: false } },
  run: (values) => login(keywardenUrl(stringOption(values, 'url')), { open: values.open === true }),
};
