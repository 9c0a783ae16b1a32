import { CliError } from './cli-error.ts';
import { CLI_VERSION } from './version.ts';

const USER_AGENT = `keywarden-cli/${CLI_VERSION} node/${process.versions.node}`;
const REQUEST_TIMEOUT_MS = 30_000;

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** One call to keywarden: no redirects followed (a token must not be sent elsewhere), JSON answers. */
export async function call(url: URL, init: RequestInit = {}): Promise<Answer> {
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

export function postForm(url: URL, fields: Record<string, string>): Promise<Answer> {
  return call(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

/** `400 invalid_request: detail` from a problem document or an OAuth error. */
export function problemText({ status, body }: Answer): string {
  const code = body.code ?? body.error;
  const detail = body.detail ?? body.error_description;
  return `${status}${code ? ` ${String(code)}` : ''}${detail ? `: ${String(detail)}` : ''}`;
}
