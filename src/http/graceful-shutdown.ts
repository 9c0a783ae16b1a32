import type { Server, ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Lifecycle } from './routes/health.ts';

export interface DrainOptions {
  /** How long to keep serving, new connections included, while /readyz fails (load balancers deregister). */
  drainDelayMs: number;
  /** How long in-flight requests and open connections then get before they are cut. */
  graceMs: number;
  /** The server's keep-alive timeout: an idle connection closes by itself within it. */
  keepAliveTimeoutMs: number;
}

export interface GracefulShutdown {
  /** Drains the server; resolves once every connection is closed (or cut at the deadline). */
  drain(signal: string): Promise<void>;
}

/**
 * Shutdown that resets no request on a connection that was open when it began.
 *
 * Closing an idle keep-alive connection (what `server.close()` does through
 * `closeIdleConnections()`) races with a client that has just sent a request on it: the
 * request is lost with a reset. So no connection is closed under a client's feet:
 *  1. Draining starts: /readyz fails, and every response from now on, including those still
 *     being computed, carries `Connection: close`, so each connection closes after its next
 *     answer, on a boundary both sides agree on.
 *  2. For `drainDelayMs` everything is served as usual, new connections too, while load
 *     balancers take the instance out of rotation.
 *  3. The listener closes: new connections are refused. Busy connections close after their
 *     answer; idle ones close when their client sends its next request (answered, with
 *     `Connection: close`) or at the keep-alive timeout, which clients are told in the
 *     `Keep-Alive: timeout=N` header and so close first.
 *  4. Whatever is still open after `graceMs` is cut, and logged.
 */
export function gracefulShutdown(
  server: Server,
  lifecycle: Lifecycle,
  options: DrainOptions,
  logger: Logger,
): GracefulShutdown {
  // Responses being computed, so draining can mark those too; the header is only ever set
  // before the answer starts (a response already streaming keeps its connection until
  // the keep-alive timeout).
  const inFlight = new Set<ServerResponse>();
  server.prependListener('request', (_req, res: ServerResponse) => {
    if (lifecycle.draining) res.setHeader('Connection', 'close');
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });

  if (options.graceMs <= options.keepAliveTimeoutMs) {
    logger.warn(
      { graceMs: options.graceMs, keepAliveTimeoutMs: options.keepAliveTimeoutMs },
      'server.shutdownGraceMs is not longer than server.keepAliveTimeoutMs: idle keep-alive connections may be cut at shutdown',
    );
  }

  let draining: Promise<void> | undefined;

  async function drain(signal: string): Promise<void> {
    lifecycle.draining = true;
    for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    logger.info(
      { signal, drainDelayMs: options.drainDelayMs, graceMs: options.graceMs },
      'shutting down: /readyz fails, responses close their connections',
    );
    if (options.drainDelayMs > 0) await sleep(options.drainDelayMs);

    // net.Server's close stops accepting without http.Server's closeIdleConnections() (the
    // racy step above); its callback runs once the last connection has closed.
    const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    logger.info({ open: await openConnections(server) }, 'draining in-flight requests: no new connections');
    const deadline = new AbortController();
    const overdue = sleep(options.graceMs, 'overdue' as const, { signal: deadline.signal }).catch(
      () => 'drained' as const,
    );
    if ((await Promise.race([closed.then(() => 'drained' as const), overdue])) === 'overdue') {
      logger.warn(
        { open: await openConnections(server), inFlight: inFlight.size },
        'grace period over: closing remaining connections',
      );
      server.closeAllConnections();
      await closed;
    }
    deadline.abort();
  }

  return {
    drain(signal) {
      draining ??= drain(signal);
      return draining;
    },
  };
}

function openConnections(server: Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((error, count) => resolve(error ? -1 : count)));
}
