import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

/**
 * A real token issuer on loopback for bearer tests: an OpenID discovery document and a
 * JWKS endpoint serving keys the test generates, plus `sign()` to mint tokens with any
 * header and claims (including the hostile ones). Counts requests so tests can assert
 * exactly how often keywarden fetched keys.
 */

export type SigningAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

export interface IssuerKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

export interface SignOptions {
  /** Header kid; defaults to the current key's. */
  kid?: string;
  alg?: string;
  /** Header typ; defaults to `at+jwt`. Pass null to omit it. */
  typ?: string | null;
  /** Sign with this key instead of the one `kid` names (for "right kid, wrong key"). */
  key?: CryptoKey | Uint8Array;
}

export interface JwksIssuer {
  /** `http://127.0.0.1:<port>` — the exact `iss` tokens carry. */
  readonly issuer: string;
  readonly jwksUri: string;
  readonly port: number;
  /** Requests served since start (or the last `resetCounters()`). */
  readonly requests: { jwks: number; discovery: number };
  resetCounters(): void;
  /** The key new tokens are signed with. */
  current(): IssuerKey;
  /** Every key ever generated, published or not. */
  readonly keys: ReadonlyMap<string, IssuerKey>;
  /** A new current key, published in the JWKS; the old one stays published unless `retire`. */
  rotate(options?: { alg?: SigningAlgorithm; retire?: boolean }): Promise<IssuerKey>;
  /** A key that is never published (for forged tokens). */
  unpublishedKey(alg?: SigningAlgorithm): Promise<IssuerKey>;
  /**
   * A compact JWT. Claims default to `iss`, `sub: user-1`, `iat: now`, `exp: now + 300`;
   * a claim given as `undefined` is left out (e.g. `{exp: undefined}`).
   */
  sign(claims?: Record<string, unknown>, options?: SignOptions): Promise<string>;
  /** Delay every answer (to exercise fetch timeouts). */
  setDelay(ms: number): void;
  /** Take the issuer down (connection refused) and bring it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

async function newKey(alg: SigningAlgorithm): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

export async function startJwksIssuer(options: { alg?: SigningAlgorithm } = {}): Promise<JwksIssuer> {
  const keys = new Map<string, IssuerKey>();
  const published = new Set<string>();
  let current = await newKey(options.alg ?? 'RS256');
  keys.set(current.kid, current);
  published.add(current.kid);
  const requests = { jwks: 0, discovery: 0 };
  let delayMs = 0;
  let issuer = '';

  const server: Server = createServer((req, res) => {
    const answer = () => {
      if (req.url === '/.well-known/openid-configuration') {
        requests.discovery += 1;
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            issuer,
            jwks_uri: `${issuer}/jwks`,
            id_token_signing_alg_values_supported: ['RS256'],
          }),
        );
        return;
      }
      if (req.url === '/jwks') {
        requests.jwks += 1;
        res.setHeader('content-type', 'application/jwk-set+json');
        res.end(JSON.stringify({ keys: [...published].map((kid) => keys.get(kid)!.publicJwk) }));
        return;
      }
      res.statusCode = 404;
      res.end();
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const port = await listen(0);
  issuer = `http://127.0.0.1:${port}`;
  let running = true;

  const stop = async () => {
    if (!running) return;
    running = false;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    port,
    requests,
    resetCounters() {
      requests.jwks = 0;
      requests.discovery = 0;
    },
    current: () => current,
    keys,
    async rotate(rotateOptions = {}) {
      const next = await newKey(rotateOptions.alg ?? current.alg);
      keys.set(next.kid, next);
      published.add(next.kid);
      if (rotateOptions.retire) published.delete(current.kid);
      current = next;
      return next;
    },
    async unpublishedKey(alg = 'RS256') {
      const key = await newKey(alg);
      keys.set(key.kid, key);
      return key;
    },
    async sign(claims = {}, signOptions = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = {
        iss: issuer,
        sub: 'user-1',
        iat: now,
        exp: now + 300,
        ...claims,
      };
      for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
      const kid = signOptions.kid ?? current.kid;
      const signingKey = signOptions.key ?? keys.get(kid)?.privateKey ?? current.privateKey;
      const alg = signOptions.alg ?? keys.get(kid)?.alg ?? current.alg;
      const typ = signOptions.typ === undefined ? 'at+jwt' : signOptions.typ;
      return new SignJWT(payload as JWTPayload)
        .setProtectedHeader({ alg, kid, ...(typ === null ? {} : { typ }) })
        .sign(signingKey);
    },
    setDelay(ms) {
      delayMs = ms;
    },
    stop,
    async start() {
      if (running) return;
      await listen(port);
      running = true;
    },
    close: stop,
  };
}
