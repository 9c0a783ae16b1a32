/**
 * The benchmark's reference: the least an Express 5 server can do per request with Redis.
 *
 *   GET /ref    one GET of a 400-byte JSON value, answered as JSON (the limit keywarden is
 *               measured against)
 *   GET /least  the least a cache-hit /credentials could do: session GET, INCR, credential GET
 *               in sequence (context only)
 *
 * node-redis's per-command timeout (an AbortSignal.timeout per command) is off, as the issue
 * that set the targets specifies. Started by bench/hot-path.bench.ts with REDIS_URL; reports its
 * port over IPC.
 */
import type { AddressInfo } from 'node:net';
import { createClient } from '@redis/client';
import express from 'express';

const redis = createClient({ url: process.env.REDIS_URL, commandOptions: { timeout: 0 } });
await redis.connect();

const value = JSON.stringify({
  identityId: 'us-east-1:00000000-0000-4000-8000-000000000001',
  role: 'reader',
  expiration: '2099-01-01T00:00:00.000Z',
  credentials: {
    accessKeyId: 'ASIAREFERENCEKEY0001',
    secretAccessKey: 'reference/secret/value/that/is/forty/chars',
    sessionToken: 'x'.repeat(107),
    expiration: '2099-01-01T00:00:00.000Z',
  },
});
await redis.set('ref:value', value);
await redis.set('ref:session', JSON.stringify({ cookie: {}, auth: { provider: 'corp', subject: 'alice' } }));

const app = express();
app.get('/ref', async (_req, res) => {
  res.json(JSON.parse((await redis.get('ref:value')) ?? 'null'));
});
app.get('/least', async (_req, res) => {
  const session = await redis.get('ref:session');
  const count = await redis.incr('ref:counter');
  const credentials = await redis.get('ref:value');
  res.json({ session: session !== null, count, credentials: JSON.parse(credentials ?? 'null') });
});

const server = app.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port, valueBytes: value.length });
});
process.on('disconnect', () => process.exit(0));
