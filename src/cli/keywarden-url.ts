import { CliError } from './cli-error.ts';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** keywarden's base URL: https, or plain http on this machine only (a token must not cross a network in clear). */
export function keywardenUrl(value: string | undefined): URL {
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

export function endpoint(base: URL, pathname: string): URL {
  // A base URL's path is at least `/`; keywarden may also live under a prefix (`/kw`).
  return new URL(`${base.pathname.replace(/\/+$/, '')}${pathname}`, base.origin);
}
