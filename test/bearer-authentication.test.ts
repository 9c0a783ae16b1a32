import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import express, { type Express } from 'express';
import { base64url, exportSPKI, generateSecret, SignJWT } from 'jose';
import request from 'supertest';
import { createApp } from '../src/app.ts';
import { createBearerAuthenticator } from '../src/auth/bearer/bearer-authenticator.ts';
import type { Authenticator } from '../src/http/middleware/authenticate.ts';
import { authenticate, requireAuth, requireCsrfHeader } from '../src/http/middleware/authenticate.ts';
import { errorHandler, notFound } from '../src/http/middleware/error-handler.ts';
import { createRateLimits } from '../src/http/middleware/rate-limit.ts';
import { requestScope } from '../src/http/middleware/request-id.ts';
import { createAuditLog } from '../src/observability/audit.ts';
import { createMetrics, type Metrics } from '../src/observability/metrics.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { type JwksIssuer, startJwksIssuer } from './support/jwks-issuer.ts';
import { type CapturedLogs, captureLogs } from './support/logs.ts';
import { assertMatchesOpenApi, describesOperation } from './support/openapi.ts';
import { testConfig } from './support/test-config.ts';

const API = 'https://api.keywarden.test';
const CLIENT_ID = 'mobile-app';
const LEEWAY = 30;

let idp: JwksIssuer;
/** An issuer trusted only for access tokens (no ID-token entry to route to). */
let apiOnly: JwksIssuer;
const minted: string[] = [];
const allLogs: CapturedLogs[] = [];

function bearerOverrides(extra: Record<string, unknown> = {}) {
  return {
    bearer: {
      issuers: {
        mobile: {
          issuer: idp.issuer,
          jwksUri: idp.jwksUri,
          audiences: [API],
          clockToleranceSeconds: LEEWAY,
          claims: { groups: 'realm_access.roles', extra: { tenant: 'ext.tenant' } },
        },
        // Same issuer, ID tokens for the app's client id; keys found through discovery.
        mobileid: {
          issuer: idp.issuer,
          tokenType: 'id',
          audiences: [CLIENT_ID],
          clockToleranceSeconds: LEEWAY,
        },
        api: { issuer: apiOnly.issuer, jwksUri: apiOnly.jwksUri, audiences: [API] },
      },
    },
    ...extra,
  };
}

interface Harness {
  /** The production app (createApp) with the bearer issuers configured. */
  app: Express;
  /**
   * The same authentication seam with a who-am-I route behind requireAuth, a per-identity
   * rate limit and the CSRF check, plus a stand-in session authenticator that accepts the
   * cookie `sid=valid` — to show a cookie cannot rescue a bad bearer token.
   */
  probe: Express;
  metrics: Metrics;
  logs: CapturedLogs;
}

async function harness(extra: Record<string, unknown> = {}): Promise<Harness> {
  const config = testConfig(bearerOverrides(extra));
  const logs = captureLogs();
  allLogs.push(logs);
  const metrics = createMetrics({ collectProcessMetrics: false });
  const store = new MemoryStore();
  const audit = createAuditLog(logs.logger);
  const app = await createApp({ config, store, logger: logs.logger, metrics, audit });

  const sessionStandIn: Authenticator = {
    name: 'session',
    present: (req) => /(?:^|;\s*)sid=/.test(req.get('cookie') ?? ''),
    async authenticate(req) {
      if (!/(?:^|;\s*)sid=valid(?:;|$)/.test(req.get('cookie') ?? '')) return false;
      req.scope.principal = { provider: 'web', subject: 'cookie-user', kind: 'user', claims: {} };
      req.scope.authMethod = 'session';
      return true;
    },
  };
  const rateLimit = createRateLimits({ config, store, metrics, audit });
  const probe = express();
  probe.use(requestScope());
  probe.use(
    authenticate([
      createBearerAuthenticator({ config: config.bearer, logger: logs.logger, audit, metrics }),
      sessionStandIn,
    ]),
  );
  probe.get('/whoami', requireAuth(), rateLimit('credentials'), requireCsrfHeader(), (req, res) => {
    res.json({
      principal: req.scope.principal,
      authMethod: req.scope.authMethod,
      expiresAt: req.scope.authExpiresAt?.toISOString(),
    });
  });
  probe.use(notFound());
  probe.use(errorHandler(logs.logger));
  return { app, probe, metrics, logs };
}

async function sign(issuer: JwksIssuer, claims: Record<string, unknown> = {}, options = {}) {
  const token = await issuer.sign({ aud: API, ...claims }, options);
  minted.push(token);
  return token;
}

function unsigned(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const part = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${part(header)}.${part(claims)}.`;
}

function whoami(h: Harness, token: string) {
  return request(h.probe).get('/whoami').set('Authorization', `Bearer ${token}`);
}

async function fetchCount(h: Harness, issuer: string, outcome: string): Promise<number> {
  const metric = await h.metrics.jwksFetches.get();
  return metric.values.find((v) => v.labels.issuer === issuer && v.labels.outcome === outcome)?.value ?? 0;
}

function assertInvalidToken(response: request.Response, descriptionPattern?: RegExp) {
  assert.equal(response.status, 401, JSON.stringify(response.body));
  assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
  assert.equal(response.body.code, 'invalid_token');
  const challenge = response.headers['www-authenticate'] ?? '';
  assert.match(challenge, /^Bearer realm="keywarden", error="invalid_token", error_description="[^"]+"$/);
  if (descriptionPattern) assert.match(challenge, descriptionPattern);
  assert.equal(response.body.principal, undefined);
}

/** Freeze Date (only Date: sockets and fetch timeouts keep real timers) at a whole second. */
function freezeClock(t: TestContext): number {
  const now = Math.floor(Date.now() / 1000) * 1000;
  t.mock.timers.enable({ apis: ['Date'], now });
  return now / 1000;
}

describe('bearer tokens from trusted issuers', () => {
  before(async () => {
    idp = await startJwksIssuer();
    apiOnly = await startJwksIssuer({ alg: 'ES256' });
  });
  after(async () => {
    for (const logs of allLogs) logs.assertNoneContain(minted);
    await idp.close();
    await apiOnly.close();
  });

  it('maps a valid access token to the same principal shape as a browser login, without CSRF header', async () => {
    const h = await harness();
    const exp = Math.floor(Date.now() / 1000) + 120;
    const token = await sign(idp, {
      sub: 'u-42',
      exp,
      email: 'ada@example.com',
      name: 'Ada',
      realm_access: { roles: ['admins', 'devs'] },
      ext: { tenant: 'acme' },
      client_id: 'mobile-app',
    });
    const response = await whoami(h, token);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(response.body, {
      principal: {
        provider: 'mobile',
        subject: 'u-42',
        kind: 'user',
        claims: { email: 'ada@example.com', name: 'Ada', groups: ['admins', 'devs'], tenant: 'acme' },
      },
      authMethod: 'bearer',
      expiresAt: new Date(exp * 1000).toISOString(),
    });
  });

  it('answers 401 with a Bearer realm challenge when no credential is sent, and ignores other schemes', async () => {
    const h = await harness();
    for (const authorization of [undefined, 'Basic dXNlcjpwYXNz']) {
      const call = request(h.probe).get('/whoami');
      const response = await (authorization ? call.set('Authorization', authorization) : call);
      assert.equal(response.status, 401);
      assert.equal(response.body.code, 'unauthenticated');
      assert.equal(response.headers['www-authenticate'], 'Bearer realm="keywarden"');
    }
  });

  it('answers 400 invalid_request for a malformed Authorization header', async () => {
    const h = await harness();
    for (const header of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer "quoted"', 'bearer ä']) {
      const response = await request(h.probe).get('/whoami').set('Authorization', header);
      assert.equal(response.status, 400, header);
      assert.equal(response.body.code, 'invalid_request');
      assert.match(
        response.headers['www-authenticate'] ?? '',
        /^Bearer realm="keywarden", error="invalid_request"/,
      );
    }
  });

  it('rejects alg none, even naming a trusted kid', async () => {
    const h = await harness();
    const now = Math.floor(Date.now() / 1000);
    for (const alg of ['none', 'None', 'NONE']) {
      const token = unsigned(
        { alg, kid: idp.current().kid, typ: 'at+jwt' },
        { iss: idp.issuer, sub: 'u', aud: API, iat: now, exp: now + 60 },
      );
      assertInvalidToken(await whoami(h, token), /algorithm is not accepted|malformed/);
    }
  });

  it('rejects HS256 signed with the issuer public key as the HMAC secret', async () => {
    const h = await harness();
    const pem = await exportSPKI(idp.current().publicKey);
    const jwkN = String(idp.current().publicJwk.n);
    for (const secret of [
      new TextEncoder().encode(pem),
      new TextEncoder().encode(jwkN),
      await generateSecret('HS256', { extractable: true }),
    ]) {
      const token = await sign(idp, {}, { alg: 'HS256', key: secret });
      assertInvalidToken(await whoami(h, token), /algorithm is not accepted/);
    }
  });

  it('rejects the right kid with another key, and a signature that was tampered with', async () => {
    const h = await harness();
    const other = await idp.unpublishedKey();
    assertInvalidToken(
      await whoami(h, await sign(idp, {}, { key: other.privateKey })),
      /signature is not valid/,
    );
    const good = await sign(idp, { sub: 'alice' });
    const [header, , signature] = good.split('.');
    const forgedPayload = base64url.encode(
      JSON.stringify({
        ...JSON.parse(new TextDecoder().decode(base64url.decode(good.split('.')[1]!))),
        sub: 'root',
      }),
    );
    assertInvalidToken(await whoami(h, `${header}.${forgedPayload}.${signature}`), /signature is not valid/);
  });

  it('rejects an untrusted or missing iss, even when signed with a trusted key', async () => {
    const h = await harness();
    assertInvalidToken(
      await whoami(h, await sign(idp, { iss: 'https://evil.example' })),
      /issuer is not trusted/,
    );
    assertInvalidToken(await whoami(h, await sign(idp, { iss: `${idp.issuer}/` })), /issuer is not trusted/);
    assertInvalidToken(await whoami(h, await sign(idp, { iss: undefined })), /issuer is not trusted/);
    // The other trusted issuer's name with this issuer's key: routed to that issuer's keys, which do not match.
    assertInvalidToken(await whoami(h, await sign(idp, { iss: apiOnly.issuer })));
  });

  it('rejects a missing or untrusted aud', async () => {
    const h = await harness();
    assertInvalidToken(await whoami(h, await sign(idp, { aud: undefined })), /required claim/);
    assertInvalidToken(await whoami(h, await sign(idp, { aud: 'https://other-api.example' })), /audience/);
    assertInvalidToken(await whoami(h, await sign(idp, { aud: [] })), /audience|claim/);
    assert.equal((await whoami(h, await sign(idp, { aud: ['https://other-api.example', API] }))).status, 200);
  });

  it('rejects expired, not-yet-valid, and exp-less tokens, and tokens without a subject', async () => {
    const h = await harness();
    const now = Math.floor(Date.now() / 1000);
    assertInvalidToken(await whoami(h, await sign(idp, { iat: now - 7200, exp: now - 3600 })), /expired/);
    assertInvalidToken(await whoami(h, await sign(idp, { nbf: now + 3600 })), /not yet valid/);
    assertInvalidToken(await whoami(h, await sign(idp, { exp: undefined })), /required claim/);
    assertInvalidToken(await whoami(h, await sign(idp, { exp: String(now + 60) })), /claim/);
    assertInvalidToken(await whoami(h, await sign(idp, { sub: undefined })), /required claim/);
    assertInvalidToken(await whoami(h, await sign(idp, { sub: '' })), /subject/);
  });

  it('accepts clock skew at leeway - 1 s and rejects it at leeway + 1 s', async (t) => {
    const h = await harness();
    const now = freezeClock(t);
    const at = (claims: Record<string, unknown>) => sign(idp, { iat: now - 60, ...claims });
    assert.equal((await whoami(h, await at({ exp: now - (LEEWAY - 1) }))).status, 200);
    assertInvalidToken(await whoami(h, await at({ exp: now - (LEEWAY + 1) })), /expired/);
    assert.equal((await whoami(h, await at({ nbf: now + (LEEWAY - 1) }))).status, 200);
    assertInvalidToken(await whoami(h, await at({ nbf: now + (LEEWAY + 1) })), /not yet valid/);
  });

  it('follows signing-key rotation with exactly one JWKS refetch, then serves from cache', async (t) => {
    const h = await harness();
    freezeClock(t);
    assert.equal((await whoami(h, await sign(idp))).status, 200);
    idp.resetCounters();
    await idp.rotate({ retire: true });
    t.mock.timers.tick(31_000); // past the 30 s refetch cooldown
    for (let index = 0; index < 5; index += 1) {
      assert.equal((await whoami(h, await sign(idp))).status, 200);
    }
    assert.equal(idp.requests.jwks, 1);
  });

  it('caps JWKS refetches under a flood of unknown kids', async (t) => {
    const h = await harness();
    freezeClock(t);
    assert.equal((await whoami(h, await sign(idp))).status, 200);
    idp.resetCounters();
    const forger = await idp.unpublishedKey();
    const flood = async () => {
      const tokens = await Promise.all(
        Array.from({ length: 40 }, (_, index) =>
          sign(idp, {}, { kid: `made-up-${index}`, key: forger.privateKey }),
        ),
      );
      const responses = await Promise.all(tokens.map((token) => whoami(h, token)));
      for (const response of responses) assertInvalidToken(response, /signing key is not known/);
    };
    await flood(); // within the cooldown of the first fetch: no refetch at all
    assert.equal(idp.requests.jwks, 0);
    t.mock.timers.tick(31_000);
    await flood(); // one refetch for the whole flood, then the cooldown holds again
    assert.equal(idp.requests.jwks, 1);
    await flood();
    assert.equal(idp.requests.jwks, 1);
    // Known keys keep working during the flood.
    assert.equal((await whoami(h, await sign(idp))).status, 200);
  });

  it('answers 503 with Retry-After (never 200 or 401) when the JWKS is unreachable and the key is not cached', async (t) => {
    const warm = await harness();
    assert.equal((await whoami(warm, await sign(idp))).status, 200);
    const cold = await harness();
    freezeClock(t);
    const token = await sign(idp);
    await idp.stop();
    try {
      const down = await whoami(cold, token);
      assert.equal(down.status, 503);
      assert.equal(down.body.code, 'service_unavailable');
      assert.ok(Number(down.headers['retry-after']) >= 1, 'Retry-After');
      assert.equal(down.headers['www-authenticate'], undefined);
      assert.equal(down.body.principal, undefined);
      assert.equal(await fetchCount(cold, 'mobile', 'failure'), 1);
      // A retry storm during the backoff does not reach the issuer again.
      for (let index = 0; index < 5; index += 1) assert.equal((await whoami(cold, token)).status, 503);
      assert.equal(await fetchCount(cold, 'mobile', 'failure'), 1);
      assert.equal(await fetchCount(cold, 'mobile', 'skipped'), 5);
      // A cached key keeps verifying while the issuer is down.
      assert.equal((await whoami(warm, token)).status, 200);
    } finally {
      await idp.start();
    }
    t.mock.timers.tick(6_000); // past the failure backoff
    assert.equal((await whoami(cold, token)).status, 200);
  });

  it('answers 503 when discovery fails, and recovers', async (t) => {
    const h = await harness();
    freezeClock(t);
    const idToken = await sign(idp, { aud: CLIENT_ID }, { typ: 'JWT' });
    await idp.stop();
    try {
      const response = await whoami(h, idToken);
      assert.equal(response.status, 503);
      assert.equal(response.body.code, 'service_unavailable');
    } finally {
      await idp.start();
    }
    t.mock.timers.tick(6_000);
    idp.resetCounters();
    assert.equal((await whoami(h, idToken)).status, 200);
    assert.equal(idp.requests.discovery, 1);
  });

  it('keeps ID tokens and access tokens apart', async () => {
    const h = await harness();
    // An ID token (typ JWT) for an issuer trusted only for access tokens.
    assertInvalidToken(
      await whoami(h, await sign(apiOnly, { aud: API }, { typ: 'JWT' })),
      /access token \(typ at\+jwt\) is expected/,
    );
    assertInvalidToken(await whoami(h, await sign(apiOnly, { aud: API }, { typ: null })), /access token/);
    // ID tokens go to the ID-token entry: its audience is the client id, not the API.
    assertInvalidToken(await whoami(h, await sign(idp, { aud: API }, { typ: 'JWT' })), /audience/);
    // An access token whose aud is the client id is not an ID token.
    assertInvalidToken(await whoami(h, await sign(idp, { aud: CLIENT_ID })), /audience/);
    // Genuine ID token: accepted by the ID-token entry, provider is that entry's name.
    const idToken = await whoami(h, await sign(idp, { aud: CLIENT_ID, sub: 'id-sub' }, { typ: 'JWT' }));
    assert.equal(idToken.status, 200);
    assert.equal(idToken.body.principal.provider, 'mobileid');
    // Several audiences need azp naming the client (OIDC Core 3.1.3.7).
    const multi = { aud: [CLIENT_ID, 'other-client'] };
    assertInvalidToken(await whoami(h, await sign(idp, multi, { typ: 'JWT' })), /authorized party/);
    assertInvalidToken(
      await whoami(h, await sign(idp, { ...multi, azp: 'other-client' }, { typ: 'JWT' })),
      /authorized party/,
    );
    assert.equal(
      (await whoami(h, await sign(idp, { ...multi, azp: CLIENT_ID }, { typ: 'JWT' }))).status,
      200,
    );
    // Other JWTs for the same client id are not ID tokens: back-channel logout tokens above all.
    const logoutToken = {
      aud: CLIENT_ID,
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    };
    assertInvalidToken(
      await whoami(h, await sign(idp, logoutToken, { typ: 'logout+jwt' })),
      /not an ID token/,
    );
    assertInvalidToken(await whoami(h, await sign(idp, logoutToken, { typ: 'JWT' })), /not an ID token/);
    assert.equal(
      (await whoami(h, await sign(idp, { aud: CLIENT_ID }, { typ: null }))).status,
      200,
      'untyped ID token',
    );
    // `application/at+jwt` is the same media type as `at+jwt`.
    assert.equal((await whoami(h, await sign(idp, {}, { typ: 'application/at+jwt' }))).status, 200);
    // An ES256 access token from the access-only issuer is fine.
    assert.equal((await whoami(h, await sign(apiOnly))).status, 200);
  });

  it('does not let a session cookie rescue a bad bearer token, and skips CSRF only for bearer', async () => {
    const h = await harness();
    const bad = await sign(idp, { aud: 'https://elsewhere.example' });
    const rescued = await request(h.probe)
      .get('/whoami')
      .set('Cookie', 'sid=valid')
      .set('X-CSRF', '1')
      .set('Authorization', `Bearer ${bad}`);
    assertInvalidToken(rescued);
    const good = await request(h.probe)
      .get('/whoami')
      .set('Cookie', 'sid=valid')
      .set('Authorization', `Bearer ${await sign(idp, { sub: 'bearer-user' })}`);
    assert.equal(good.status, 200);
    assert.equal(good.body.principal.subject, 'bearer-user', 'the cookie is ignored on a bearer request');
    const cookieOnly = await request(h.probe).get('/whoami').set('Cookie', 'sid=valid');
    assert.equal(cookieOnly.status, 403, 'the CSRF check is live for cookie requests');
    assert.equal(cookieOnly.body.code, 'csrf_header_missing');
  });

  it('limits each identity separately, with 429 and Retry-After', async () => {
    const h = await harness({
      rateLimit: {
        groups: {
          credentials: {
            perIp: { points: 100, windowSeconds: 60 },
            perIdentity: { points: 3, windowSeconds: 60 },
          },
        },
      },
    });
    const alice = await sign(idp, { sub: 'alice' });
    for (let index = 0; index < 3; index += 1) assert.equal((await whoami(h, alice)).status, 200);
    const limited = await whoami(h, alice);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    assert.equal(
      (await whoami(h, await sign(idp, { sub: 'bob' }))).status,
      200,
      'another identity on the same IP',
    );
  });

  it('rejects a bad bearer token on every route of the real app, and records it without the token', async () => {
    const h = await harness();
    const bad = await sign(idp, { exp: Math.floor(Date.now() / 1000) - 3600 });
    for (const [method, path] of [
      ['get', '/auth/session'],
      ['post', '/credentials'],
      ['post', '/presign'],
      ['post', '/identities/guest'],
      ['get', '/no/such/route'],
    ] as const) {
      const response = await request(h.app)
        [method](path)
        .set('Authorization', `Bearer ${bad}`)
        .set('Cookie', 'sid=valid');
      assertInvalidToken(response, /expired/);
      if (describesOperation(method, path)) assertMatchesOpenApi(response, { method, path });
    }
    const audit = h.logs.records().filter((record) => record.event === 'token.rejected');
    assert.ok(audit.length >= 5);
    assert.equal(audit[0]?.provider, 'mobile');
    h.logs.assertNoneContain([bad]);
    const rejected = await h.metrics.bearerRejected.get();
    assert.ok((rejected.values.find((v) => v.labels.issuer === 'mobile')?.value ?? 0) >= 5);
  });

  it('refuses to verify with an issuer entry that has no keys for the token (no cross-issuer key use)', async () => {
    const h = await harness();
    // Signed by idp, claims apiOnly's issuer and names idp's kid: apiOnly's JWKS has no such key.
    const token = await sign(idp, { iss: apiOnly.issuer });
    assertInvalidToken(await whoami(h, token), /signing key is not known|signature/);
    // A token signed with jose from scratch, HS256 with a random secret, also fails before any key fetch.
    const hs = await new SignJWT({ iss: idp.issuer, sub: 'x', aud: API })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode('0123456789abcdef0123456789abcdef'));
    assertInvalidToken(await whoami(h, hs), /algorithm/);
  });
});
