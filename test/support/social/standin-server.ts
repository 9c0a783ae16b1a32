import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * The plumbing the social-provider stand-ins share: an HTTP server on 127.0.0.1 with a port of
 * its own, request bodies read as form or JSON, JSON answers, and the failure modes every
 * provider has (down, slow). Each stand-in (github.ts, facebook.ts, apple.ts,
 * introspection.ts) answers exactly the documented request and response shapes of its provider.
 */

export interface StandinRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** The body as form fields (form-encoded) or parsed JSON (application/json); raw text otherwise. */
  readonly form: URLSearchParams;
  readonly json: unknown;
  readonly text: string;
}

export interface StandinAnswer {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialised unless a string (sent as is). */
  body?: unknown;
}

export type Outage = 'none' | 'slow' | 'down';

export interface StandinServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** `down`: every call answers 503; `slow`: every call waits `slowMs` first. */
  outage: Outage;
  slowMs: number;
  close(): Promise<void>;
}

export function randomValue(prefix = '', bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** The token in `Authorization: Bearer <t>` (or GitHub's `token <t>`, Graph's `OAuth <t>`). */
export function bearerOf(req: StandinRequest): string | undefined {
  const match = /^(?:Bearer|token|OAuth) +(\S+)$/i.exec(String(req.headers.authorization ?? ''));
  return match?.[1];
}

/** The client id and secret of `Authorization: Basic` (RFC 6749 §2.3.1 form-encoding undone). */
export function basicOf(req: StandinRequest): { id: string; secret: string } | undefined {
  const match = /^Basic +(\S+)$/i.exec(String(req.headers.authorization ?? ''));
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
  return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
}

export async function startStandinServer(
  handle: (req: StandinRequest) => StandinAnswer | Promise<StandinAnswer>,
): Promise<StandinServer> {
  const sockets = new Set<Socket>();
  const state = { outage: 'none' as Outage, slowMs: 2_000 };
  const server = createServer(async (req, res: ServerResponse) => {
    try {
      const url = new URL(req.url ?? '/', 'http://standin.invalid');
      const text = await readBody(req);
      const type = String(req.headers['content-type'] ?? '');
      let json: unknown;
      if (type.startsWith('application/json') && text) {
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
      }
      const request: StandinRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        form: type.startsWith('application/x-www-form-urlencoded')
          ? new URLSearchParams(text)
          : new URLSearchParams(),
        json,
        text,
      };
      if (state.outage === 'slow') await new Promise((resolve) => setTimeout(resolve, state.slowMs));
      const answer: StandinAnswer =
        state.outage === 'down'
          ? { status: 503, body: { message: 'Service Unavailable' } }
          : await handle(request);
      const body =
        answer.body === undefined
          ? ''
          : typeof answer.body === 'string'
            ? answer.body
            : JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        ...(typeof answer.body === 'string' || answer.body === undefined
          ? {}
          : { 'content-type': 'application/json; charset=utf-8' }),
        ...answer.headers,
      });
      res.end(body);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`stand-in failure: ${(error as Error).message}`);
    }
  });
  server.keepAliveTimeout = 1_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    get outage() {
      return state.outage;
    },
    set outage(value: Outage) {
      state.outage = value;
    },
    get slowMs() {
      return state.slowMs;
    },
    set slowMs(value: number) {
      state.slowMs = value;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** PKCE S256 (RFC 7636 §4.6): does this verifier match that challenge? */
export async function pkceMatches(verifier: string | null, challenge: string | undefined): Promise<boolean> {
  if (challenge === undefined) return true;
  if (!verifier) return false;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return Buffer.from(digest).toString('base64url') === challenge;
}
