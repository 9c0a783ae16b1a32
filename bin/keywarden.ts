#!/usr/bin/env node
/**
 * keywarden — the command-line side of the enterprise portal.
 *
 *   keywarden login --url https://keywarden.example.com [--open]
 *       Signs in once with the OAuth 2.0 Device Authorization Grant (RFC 8628) against
 *       keywarden: prints a link and a code, waits until you approve it in the portal, and
 *       keeps the resulting CLI token in ~/.config/keywarden/<host>.json (mode 0600).
 *   keywarden credential-process --url <url> [--role <role>] [--scope <scope>] [--duration <seconds>]
 *       Prints AWS `credential_process` JSON for a role, for ~/.aws/config:
 *         [profile work]
 *         credential_process = keywarden credential-process --url https://keywarden.example.com --role admin
 *   keywarden logout --url <url>
 *       Revokes the CLI token at keywarden and deletes the file.
 *
 * Only Node built-ins: nothing to install beyond Node itself. Messages go to stderr; stdout
 * carries only what another program reads (the credential_process JSON).
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const CLIENT_ID = 'keywarden-cli';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const USER_AGENT = `keywarden-cli/0.1.0 node/${process.versions.node}`;
const REQUEST_TIMEOUT_MS = 30_000;

class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

interface StoredToken {
  readonly url: string;
  readonly accessToken: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

function say(message: string): void {
  process.stderr.write(`${message}\n`);
}

// ---- where keywarden is ----------------------------------------------------------------------

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** keywarden's base URL: https, or plain http on this machine only (a token must not cross a network in clear). */
function keywardenUrl(value: string | undefined): URL {
  const raw = value ?? process.env.KEYWARDEN_URL;
  if (!raw) throw new CliError('--url is required (or set KEYWARDEN_URL)', 2);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`not a URL: ${raw}`, 2);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new CliError(`keywarden must be reached over https (got ${url.origin})`, 2);
  }
  if (url.username || url.password) throw new CliError('the URL must not carry a user name or password', 2);
  url.pathname = url.pathname.replace(/\/+$/, '');
  url.search = '';
  url.hash = '';
  return url;
}

function endpoint(base: URL, pathname: string): URL {
  // A base URL's path is at least `/`; keywarden may also live under a prefix (`/kw`).
  return new URL(`${base.pathname.replace(/\/+$/, '')}${pathname}`, base.origin);
}

// ---- the token file -----------------------------------------------------------------------

function tokenDirectory(): string {
  const configHome = process.env.XDG_CONFIG_HOME || path.join(homedir(), '.config');
  return path.join(configHome, 'keywarden');
}

/** One file per keywarden host (and port): `~/.config/keywarden/keywarden.example.com.json`. */
export function tokenFilePath(base: URL): string {
  const name = base.host.toLowerCase().replace(/[^a-z0-9.-]/g, '_');
  return path.join(tokenDirectory(), `${name}.json`);
}

const ownerOnly = (mode: number) => (mode & 0o077) === 0;

/**
 * Reads the token file, refusing one that others could read or replace: a group- or
 * world-accessible file, a file owned by someone else, a symlink, or a folder others may
 * write to. Answers undefined when there is no file.
 */
function readToken(base: URL): StoredToken | undefined {
  const file = tokenFilePath(base);
  const uid = process.getuid?.();
  let dirMode: number;
  try {
    dirMode = statSync(path.dirname(file)).mode;
  } catch {
    return undefined;
  }
  if ((dirMode & 0o022) !== 0) {
    throw new CliError(`refusing to use ${path.dirname(file)}: others may write to it (chmod 700 it)`);
  }
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new CliError(`refusing to use ${file}: not a regular file`);
    if (process.platform !== 'win32') {
      if (!ownerOnly(stat.mode)) {
        throw new CliError(
          `refusing to use ${file}: it is readable by others (mode ${(stat.mode & 0o777).toString(8)}); delete it and sign in again`,
        );
      }
      if (uid !== undefined && stat.uid !== uid)
        throw new CliError(`refusing to use ${file}: owned by another user`);
    }
    const parsed = JSON.parse(readFileSync(fd, 'utf8')) as Partial<StoredToken>;
    if (typeof parsed.accessToken !== 'string' || typeof parsed.expiresAt !== 'number') return undefined;
    return { url: String(parsed.url), accessToken: parsed.accessToken, expiresAt: parsed.expiresAt };
  } catch (error) {
    if (error instanceof CliError) throw error;
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Writes the token file owner-only (folder 0700, file 0600), atomically (temp file + rename). */
function writeToken(base: URL, token: StoredToken): string {
  const file = tokenFilePath(base);
  const directory = path.dirname(file);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    writeSync(fd, `${JSON.stringify(token, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  return file;
}

// ---- HTTP ---------------------------------------------------------------------------------

async function call(
  url: URL,
  init: RequestInit = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      redirect: 'error',
      headers: { accept: 'application/json', 'user-agent': USER_AGENT, ...init.headers },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new CliError(
      `cannot reach keywarden at ${url.origin}: ${(error as Error).cause ?? (error as Error).message}`,
    );
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  return { status: response.status, body };
}

function postForm(
  url: URL,
  fields: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return call(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

function problemText(status: number, body: Record<string, unknown>): string {
  const code = body.code ?? body.error;
  const detail = body.detail ?? body.error_description;
  return `${status}${code ? ` ${String(code)}` : ''}${detail ? `: ${String(detail)}` : ''}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- commands -----------------------------------------------------------------------------

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

async function login(base: URL, options: { open: boolean }): Promise<void> {
  const started = await postForm(endpoint(base, '/auth/device/authorize'), { client_id: CLIENT_ID });
  if (started.status !== 200)
    throw new CliError(`keywarden refused to start a sign-in: ${problemText(started.status, started.body)}`);
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
        throw new CliError(`sign-in failed: ${problemText(polled.status, polled.body)}`);
    }
  }
  throw new CliError('the code expired before it was approved; run login again');
}

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
    throw new CliError(`keywarden did not issue credentials: ${problemText(answer.status, body)}`);
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

async function logout(base: URL): Promise<void> {
  const file = tokenFilePath(base);
  let token: StoredToken | undefined;
  try {
    token = readToken(base);
  } catch (error) {
    // An unsafe file is still ours to delete.
    say(String((error as Error).message));
  }
  if (token) {
    const answer = await postForm(endpoint(base, '/auth/device/revoke'), {
      client_id: CLIENT_ID,
      token: token.accessToken,
    });
    if (answer.status !== 200)
      say(`keywarden did not confirm the revocation: ${problemText(answer.status, answer.body)}`);
  }
  rmSync(file, { force: true });
  say(`Signed out of ${base.host}.`);
}

const USAGE = `usage:
  keywarden login --url <keywarden url> [--open]
  keywarden credential-process --url <keywarden url> [--role <role>] [--scope <scope>] [--duration <seconds>]
  keywarden logout --url <keywarden url>`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const { values } = parseArgs({
      args: [...rest],
      options: {
        url: { type: 'string' },
        role: { type: 'string' },
        scope: { type: 'string' },
        duration: { type: 'string' },
        open: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    if (
      values.help ||
      command === 'help' ||
      command === '--help' ||
      command === '-h' ||
      command === undefined
    ) {
      say(USAGE);
      return command === undefined ? 2 : 0;
    }
    switch (command) {
      case 'login':
        await login(keywardenUrl(values.url), { open: values.open });
        return 0;
      case 'credential-process':
        await credentialProcess(keywardenUrl(values.url), values);
        return 0;
      case 'logout':
        await logout(keywardenUrl(values.url));
        return 0;
      default:
        say(`unknown command: ${command}\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof CliError) {
      say(`keywarden: ${error.message}`);
      return error.exitCode;
    }
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      say(`keywarden: ${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    say(`keywarden: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
