import assert from 'node:assert/strict';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ServiceProcess, startService } from './support/service-process.ts';

/**
 * SIGTERM with real keep-alive clients (Node's http.Agent, which reuses sockets and honours
 * the server's `Keep-Alive: timeout` hint) against the real process: clients hammering on
 * open connections, requests in flight, connections idle at the signal. No request on a
 * connection open at SIGTERM may be reset; responses while draining close their connection;
 * the drain delay serves new connections while /readyz fails; the process exits 0 on its own.
 */

interface Outcome {
  path: string;
  /** The socket existed before SIGTERM was sent. */
  openAtSigterm: boolean;
  /** The response arrived after the service was seen draining. */
  afterDrainSeen: boolean;
  status?: number;
  connection?: string;
  error?: string;
}

let service: ServiceProcess | undefined;
after(() => {
  service?.child.kill('SIGKILL');
});

/** Runs the whole scenario against a fresh process with the given drain delay. */
async function drainUnderLoad(drainDelayMs: number): Promise<void> {
  service = startService({
    env: {
      KEYWARDEN_SERVER__DRAIN_DELAY_MS: String(drainDelayMs),
      KEYWARDEN_SERVER__SHUTDOWN_GRACE_MS: '20000',
      // Long enough that connections idle at SIGTERM are still open when the test uses them.
      KEYWARDEN_SERVER__KEEP_ALIVE_TIMEOUT_MS: '15000',
      KEYWARDEN_RATE_LIMIT__ENABLED: 'false',
    },
  });
  const port = await service.listening;

  let sigtermSent = false;
  let drainSeen = false;
  const socketsOpenAtSigterm = new WeakSet<Socket>();
  const socketsSeen = new WeakSet<Socket>();
  const outcomes: Outcome[] = [];

  /** One request; `body` chunks are written one by one, each after its promise settles. */
  function send(
    agent: Agent | false,
    method: string,
    path: string,
    bodyParts: Array<Promise<string>> = [],
  ): Promise<Outcome & { reused: boolean }> {
    return new Promise((resolve) => {
      let openAtSigterm = false;
      let reused = false;
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: bodyParts.length > 0 ? { 'content-type': 'application/json' } : {},
      });
      req.on('socket', (socket: Socket) => {
        reused = req.reusedSocket;
        if (!socketsSeen.has(socket)) {
          socketsSeen.add(socket);
          if (!sigtermSent) socketsOpenAtSigterm.add(socket);
        }
        openAtSigterm = socketsOpenAtSigterm.has(socket);
      });
      const finish = (outcome: Partial<Outcome>) => {
        const full = { path, openAtSigterm, afterDrainSeen: drainSeen, ...outcome };
        outcomes.push(full);
        resolve({ ...full, reused });
      };
      req.on('response', (res: IncomingMessage) => {
        res.resume();
        res.on('end', () =>
          finish({ status: res.statusCode ?? 0, connection: res.headers.connection ?? '' }),
        );
        res.on('error', (error: NodeJS.ErrnoException) => finish({ error: error.code ?? error.message }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => finish({ error: error.code ?? error.message }));
      void (async () => {
        for (const part of bodyParts) req.write(await part);
        req.end();
      })();
    });
  }

  // Clients that keep requesting on their keep-alive connections until they are refused.
  const hammerAgent = new Agent({ keepAlive: true, maxSockets: 4 });
  let hammered = 0;
  const hammers = Array.from({ length: 4 }, async () => {
    for (let i = 0; i < 50_000; i++) {
      const outcome = await send(hammerAgent, 'GET', '/healthz');
      hammered++;
      if (outcome.error) return;
    }
  });

  // Connections that are idle at SIGTERM and used again once the listener is closed.
  const idleAgent = new Agent({ keepAlive: true, maxSockets: 3 });
  const warmed = await Promise.all([1, 2, 3].map(() => send(idleAgent, 'GET', '/healthz')));
  assert.deepEqual(
    warmed.map((o) => o.status),
    [200, 200, 200],
  );

  // Requests in flight across the whole drain: their bodies end only after the listener closed.
  const slowAgent = new Agent({ keepAlive: true, maxSockets: 3 });
  let releaseBodies: (value: string) => void = () => undefined;
  const rest = new Promise<string>((resolve) => {
    releaseBodies = resolve;
  });
  const slow = [1, 2, 3].map(() =>
    send(slowAgent, 'POST', '/slow', [Promise.resolve('{"part":'), rest.then(() => '"done"}')]),
  );

  for (let i = 0; i < 500 && hammered < 300; i++) await sleep(10);
  assert.ok(hammered >= 300, 'the clients are under way');
  sigtermSent = true;
  service.child.kill('SIGTERM');

  if (drainDelayMs > 0) {
    // The drain delay: /readyz fails while new connections are still served.
    let ready = 200;
    for (let i = 0; i < 200 && ready !== 503; i++) {
      ready = (await send(false, 'GET', '/readyz')).status ?? 0;
      if (ready !== 503) await sleep(10);
    }
    assert.equal(ready, 503, '/readyz fails once draining');
    drainSeen = true;
    const during = await send(false, 'GET', '/healthz');
    assert.equal(during.status, 200, 'a new connection is still served during the drain delay');
    assert.equal(during.connection, 'close');
  }

  // Then the listener closes: new connections are refused.
  let refused = false;
  for (let i = 0; i < 500 && !refused; i++) {
    refused = (await send(false, 'GET', '/healthz')).error === 'ECONNREFUSED';
    if (!refused) await sleep(20);
  }
  assert.ok(refused, 'new connections are refused after the drain delay');
  drainSeen = true;

  // The idle connections are still there, and a request on each is answered.
  const onIdle = await Promise.all([1, 2, 3].map(() => send(idleAgent, 'GET', '/healthz')));
  for (const outcome of onIdle) {
    assert.ok(outcome.reused, 'sent on a connection that was idle at SIGTERM');
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.status, 200);
    assert.equal(outcome.connection, 'close');
  }

  // The requests in flight get their real answer.
  releaseBodies('');
  for (const outcome of await Promise.all(slow)) {
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.status, 404);
    assert.equal(outcome.connection, 'close');
  }

  await Promise.all(hammers);
  for (const agent of [hammerAgent, idleAgent, slowAgent]) agent.destroy();
  assert.deepEqual(await service.exited, { code: 0, signal: null });

  const resetOnOpenConnections = outcomes.filter((o) => o.openAtSigterm && o.error);
  assert.deepEqual(resetOnOpenConnections, [], 'no request on a connection open at SIGTERM failed');
  const keptAlive = outcomes.filter((o) => o.afterDrainSeen && o.status && o.connection !== 'close');
  assert.deepEqual(keptAlive, [], 'every answer while draining closes its connection');
  const answeredWhileDraining = outcomes.filter((o) => o.afterDrainSeen && o.status);
  assert.ok(answeredWhileDraining.length >= 6, 'requests were answered while draining');
  // A connection opened after SIGTERM may only fail by being refused (or cut in the accept queue).
  const otherErrors = outcomes.filter(
    (o) => !o.openAtSigterm && o.error && o.error !== 'ECONNREFUSED' && o.error !== 'ECONNRESET',
  );
  assert.deepEqual(otherErrors, []);
  assert.doesNotMatch(service.output(), /grace period over/);
}

describe('graceful shutdown under keep-alive load (real process)', () => {
  it('without a drain delay: resets no request on a connection open at SIGTERM, answers close their connections, exits 0', async () => {
    await drainUnderLoad(0);
  });

  it('with a drain delay: also serves new connections while /readyz fails, then refuses them', async () => {
    await drainUnderLoad(2_500);
  });
});
