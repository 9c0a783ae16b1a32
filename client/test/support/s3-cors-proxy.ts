import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What a bucket's CORS configuration does for a browser app, in front of the AWS test double:
 * answers preflights for `origin` and lets the page read S3's answers and their ETag
 * (`ExposeHeaders: ETag`). Requests pass through untouched, Host included, so SigV4
 * signatures still match. Request bodies are let through at a bounded pace, as over a real
 * uplink, so a browser's upload progress has something to report.
 */
export async function startS3CorsProxy(
  target: string,
  origin: string,
  options: { chunkDelayMs?: number } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const delay = options.chunkDelayMs ?? 4;
  const cors = {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': 'ETag, x-amz-request-id',
    vary: 'Origin',
  };
  const server = createServer((req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(200, {
        ...cors,
        'access-control-allow-methods': 'GET, PUT, POST, DELETE, HEAD',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...cors });
        answer.pipe(res);
      },
    );
    const paced = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        this.push(chunk);
        sleep(delay).then(() => callback());
      },
    });
    // A browser that aborts closes its connection: the upstream request is cut short too.
    pipeline(req, paced, forward).catch(() => {
      forward.destroy();
      res.destroy();
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
