import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import express, { type Express, Router } from 'express';
import request from 'supertest';
import { createApp } from '../src/app.ts';
import { redisSchema } from '../src/config/schema.ts';
import { loadOpenApiDocument } from '../src/http/routes/openapi.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { RedisStore } from '../src/store/redis/redis-store.ts';
import { credentialOverrides } from './fixtures/credentials/config.ts';
import { type AwsDouble, startAwsDouble } from './support/aws-double/index.ts';
import { BrowserSession } from './support/browser-session.ts';
import { type JwksIssuer, startJwksIssuer } from './support/jwks-issuer.ts';
import { captureLogs } from './support/logs.ts';
import {
  assertMatchesOpenApi,
  describedStatusKey,
  describesOperation,
  openApiDocument,
  pathMatchesTemplate,
} from './support/openapi.ts';
import { emittedProblemCodes } from './support/problem-codes.ts';
import { type RedisServer, startRedis } from './support/redis-server.ts';
import { testConfig } from './support/test-config.ts';

/** Routes mounted before the rate limiter and the session (probes, metrics, fixed images): no 429, no 503. */
const AHEAD_OF_RATE_LIMIT = ['/healthz', '/readyz', '/metrics', '/favicon.ico', '/portal/assets/logo'];

/** What an Express 5 (router 2) stack layer exposes; not part of Express's typed API. */
interface Layer {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

interface ServedRoutes {
  routes: Array<{ method: string; path: string }>;
  /** Mounted handlers that are not routers: they may serve paths nobody can see. */
  opaque: string[];
  /** Route paths that OpenAPI cannot express (regexps, wildcards, optional groups). */
  inexpressible: string[];
}

function joinPath(prefix: string, path: string): string {
  const joined = `${prefix}/${path}`.replace(/\/{2,}/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

/**
 * Every (method, path) an Express 5 app routes, walking nested routers and mount paths,
 * with `:param` written as OpenAPI's `{param}`.
 */
export function servedRoutes(app: Express): ServedRoutes {
  const result: ServedRoutes = { routes: [], opaque: [], inexpressible: [] };
  const paths = (raw: unknown): unknown[] => (Array.isArray(raw) ? raw.flat(Infinity) : [raw]);
  const toOpenApi = (path: string): string | undefined =>
    /[*?()[\]{}]/.test(path) ? undefined : path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

  const walk = (stack: readonly Layer[], prefix: string) => {
    for (const layer of stack) {
      for (const raw of paths(layer.route ? layer.route.path : (layer.rawPath ?? '/'))) {
        if (typeof raw !== 'string') {
          result.inexpressible.push(`${prefix} ${String(raw)}`);
          continue;
        }
        const path = toOpenApi(raw);
        if (path === undefined) {
          result.inexpressible.push(joinPath(prefix, raw));
          continue;
        }
        const full = joinPath(prefix, path);
        if (layer.route) {
          for (const [method, enabled] of Object.entries(layer.route.methods)) {
            if (enabled) result.routes.push({ method, path: full });
          }
        } else if (layer.handle?.stack) {
          walk(layer.handle.stack, full);
        } else if (full !== '/') {
          result.opaque.push(full);
        }
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return result;
}

let idp: JwksIssuer;

/**
 * Every feature switched on, so that every route the app can serve is mounted. Owners of a
 * capability add its section here when they wire its routes into app.ts.
 */
function fullFeatureOverrides(): Record<string, unknown> {
  const samlCertificate = readFileSync(new URL('./fixtures/saml/keys/idp-a.crt', import.meta.url), 'utf8');
  return {
    ...credentialOverrides(),
    metrics: { enabled: true },
    session: { secret: 'contract-test-session-secret-0123456789' },
    auth: {
      providers: {
        // OIDC discovery is lazy: nothing is fetched while the routes are only listed.
        corp: {
          kind: 'oidc',
          issuer: idp.issuer,
          clientId: 'kw-corp',
          clientSecret: 'corp-secret-0123456789',
        },
        // Plain OAuth 2.0 (GET callback) and OIDC form_post (POST callback), as presets configure them.
        github: { preset: 'github', clientId: 'Iv1.contract', clientSecret: 'github-secret-0123456789' },
        apple: {
          preset: 'apple',
          issuer: idp.issuer,
          clientId: 'com.example.web',
          clientSecret: 'apple-0123456789',
        },
        adfs: {
          kind: 'saml',
          idpEntityId: 'https://idp.example.test/saml',
          ssoUrl: 'https://idp.example.test/saml/sso',
          sloUrl: 'https://idp.example.test/saml/slo',
          idpCertificates: [samlCertificate],
        },
      },
      // The development IdP (/dev-idp) stays off: it is a stand-in IdP, not keywarden's API.
    },
    guests: { enabled: true },
    presign: { buckets: [{ name: 'keywarden-test-bucket', region: 'us-east-1', credentialScope: 'own' }] },
    bearer: {
      issuers: {
        mobile: { issuer: idp.issuer, jwksUri: idp.jwksUri, audiences: ['https://api.test'] },
        facebook: { kind: 'facebook', appId: '1001', appSecret: 'facebook-secret-0123456789' },
      },
    },
    admin: {
      enabled: true,
      groups: ['admins'],
      bearer: [{ issuer: 'mobile', claim: 'groups', values: ['kw-admins'] }],
    },
  };
}

async function fullApp(): Promise<Express> {
  return await createApp({
    config: testConfig(fullFeatureOverrides()),
    store: new MemoryStore(),
    logger: captureLogs().logger,
    metrics: createMetrics({ collectProcessMetrics: false }),
  });
}

describe('OpenAPI contract', () => {
  before(async () => {
    idp = await startJwksIssuer();
  });
  after(async () => {
    await idp.close();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(loadOpenApiDocument()));
    assert.equal(validator.version, '3.1');
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  });

  it('is served at /openapi.json, exactly as written, and matches its own description', async () => {
    const response = await request(await fullApp()).get('/openapi.json');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, loadOpenApiDocument());
    assertMatchesOpenApi(response, { method: 'get', path: '/openapi.json' });
  });

  it('describes every route the app serves', async () => {
    const served = servedRoutes(await fullApp());
    for (const known of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      assert.ok(
        served.routes.some(({ method, path }) => method === 'get' && path === known),
        `the walk finds GET ${known}`,
      );
    }
    const missing = served.routes
      .filter(({ method }) => method !== 'head' && method !== '_all')
      .filter(({ method, path }) => !describesOperation(method, path))
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    assert.deepEqual(missing, [], 'routes the app serves but openapi/openapi.yaml does not describe');
    assert.deepEqual(
      served.routes.filter(({ method }) => method === '_all').map(({ path }) => path),
      [],
      'router.all() routes cannot be described method by method',
    );
    // Middleware mounted on a prefix of served routes (a rate limit on /auth/callback) only
    // passes requests on; a handler mounted where no route lives may answer paths of its own.
    const hiding = served.opaque.filter(
      (mount) => !served.routes.some(({ path }) => path.startsWith(`${mount}/`)),
    );
    assert.deepEqual(hiding, [], 'mounted handlers that are not routers hide their paths from this check');
    assert.deepEqual(served.inexpressible, [], 'route paths OpenAPI cannot express');
  });

  it('walks nested routers, mount paths and parameters (so the check above can fail)', () => {
    const inner = Router();
    inner.get('/callback/:provider', (_req, res) => res.end());
    inner.post(['/a', '/b/:id'], (_req, res) => res.end());
    const app = express();
    app.use('/auth', inner);
    app.use((_req, _res, next) => next());
    app.use('/static', (_req, res) => res.end());
    app.get('/files/*rest', (_req, res) => res.end());
    app
      .route('/portal/')
      .get((_req, res) => res.end())
      .delete((_req, res) => res.end());
    const served = servedRoutes(app);
    assert.deepEqual(served.routes, [
      { method: 'get', path: '/auth/callback/{provider}' },
      { method: 'post', path: '/auth/a' },
      { method: 'post', path: '/auth/b/{id}' },
      { method: 'get', path: '/portal' },
      { method: 'delete', path: '/portal' },
    ]);
    assert.deepEqual(served.opaque, ['/static']);
    assert.deepEqual(served.inexpressible, ['/files/*rest']);
    assert.equal(describesOperation('get', '/auth/callback/{provider}'), true);
    assert.equal(describesOperation('get', '/auth/callback/corp'), true);
    assert.equal(describesOperation('delete', '/portal'), false);
    assert.equal(describesOperation('get', '/auth/callback'), false);
    assert.equal(pathMatchesTemplate('/auth/saml/corp/acs', '/auth/saml/{provider}/acs'), true);
    assert.equal(pathMatchesTemplate('/auth/saml//acs', '/auth/saml/{provider}/acs'), false);
  });

  it('keeps the document consistent: unique operation ids, rate limits and failures listed everywhere', () => {
    const document = openApiDocument();
    const ids = new Set<string>();
    const problems: string[] = [];
    const globalSecurity = document.security as unknown[];
    for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, unknown>>)) {
      for (const [method, raw] of Object.entries(item)) {
        const operation = raw as {
          operationId?: string;
          responses: Record<string, unknown>;
          security?: unknown[];
        };
        const label = `${method.toUpperCase()} ${path}`;
        if (!operation.operationId) problems.push(`${label}: no operationId`);
        else if (ids.has(operation.operationId)) problems.push(`${label}: duplicate operationId`);
        else ids.add(operation.operationId);
        const probe = AHEAD_OF_RATE_LIMIT.includes(path);
        // Everything but the probes sits behind the default rate limit, whose store may be down.
        if (!probe && !operation.responses['429']) problems.push(`${label}: no 429`);
        const security = operation.security ?? globalSecurity;
        const authenticated =
          security.length > 0 && !security.some((entry) => Object.keys(entry as object).length === 0);
        if (authenticated && !operation.responses['401'] && path !== '/portal' && path !== '/auth/logout') {
          problems.push(`${label}: authenticated but no 401`);
        }
        if (!probe && !operation.responses['503']) problems.push(`${label}: no 503`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('documents the three security schemes a client can use', () => {
    const schemes = (
      openApiDocument().components as { securitySchemes: Record<string, Record<string, unknown>> }
    ).securitySchemes;
    assert.equal(schemes.bearerJwt?.type, 'http');
    assert.equal(schemes.bearerJwt?.scheme, 'bearer');
    assert.equal(schemes.guestToken?.name, 'X-Guest-Token');
    assert.equal(schemes.sessionCookie?.in, 'cookie');
    assert.equal(schemes.csrfHeader?.name, 'X-CSRF');
  });

  it('describes the real answers of the app: probes, problems, bearer challenges', async () => {
    const app = await fullApp();
    assertMatchesOpenApi(await request(app).get('/healthz'), { method: 'get', path: '/healthz' });
    assertMatchesOpenApi(await request(app).get('/readyz'), { method: 'get', path: '/readyz' });
    assertMatchesOpenApi(await request(app).get('/metrics'), { method: 'get', path: '/metrics' });
    const expired = await idp.sign({ aud: 'https://api.test', exp: Math.floor(Date.now() / 1000) - 600 });
    for (const [method, path] of [
      ['get', '/auth/session'],
      ['get', '/credentials'],
      ['post', '/credentials'],
      ['post', '/presign'],
      ['post', '/presign/multipart'],
      ['post', '/identities/guest'],
    ] as const) {
      const refused = await request(app)[method](path).set('Authorization', `Bearer ${expired}`);
      assert.equal(refused.status, 401);
      assertMatchesOpenApi(refused, { method, path });
      const malformed = await request(app)[method](path).set('Authorization', 'Bearer a b');
      assert.equal(malformed.status, 400);
      assertMatchesOpenApi(malformed, { method, path });
    }
  });

  it('describes the real answers of the sign-in, guest and credential routes', async () => {
    const app = await fullApp();
    const check = async (method: 'get' | 'post', path: string, call: request.Test, status: number) => {
      const response = await call;
      assert.equal(response.status, status, `${method} ${path}: ${response.text.slice(0, 300)}`);
      assertMatchesOpenApi(response, { method, path });
      return response;
    };
    await check('get', '/auth/login/{provider}', request(app).get('/auth/login/nobody'), 404);
    await check('get', '/auth/login/{provider}', request(app).get('/auth/login/corp'), 400);
    await check('get', '/auth/saml/{provider}/metadata', request(app).get('/auth/saml/adfs/metadata'), 200);
    await check('post', '/auth/logout', request(app).post('/auth/logout'), 403);
    await check('post', '/auth/logout', request(app).post('/auth/logout').set('X-CSRF', '1'), 200);
    const anonymous = await check('get', '/auth/session', request(app).get('/auth/session'), 401);
    assert.equal(anonymous.headers['www-authenticate'], 'Bearer realm="keywarden"');
    await check('post', '/credentials', request(app).post('/credentials'), 401);

    const bearer = `Bearer ${await idp.sign({ aud: 'https://api.test', sub: 'contract' })}`;
    await check('get', '/auth/session', request(app).get('/auth/session').set('Authorization', bearer), 200);
    const invalid = await check(
      'get',
      '/credentials',
      request(app).get('/credentials').query({ durationSeconds: 'soon' }).set('Authorization', bearer),
      400,
    );
    assert.ok(Array.isArray(invalid.body.errors));
    await check(
      'post',
      '/credentials',
      request(app)
        .post('/credentials')
        .set('Authorization', bearer)
        .set('Content-Type', 'text/plain')
        .send('role=x'),
      415,
    );
    await check(
      'post',
      '/credentials',
      request(app)
        .post('/credentials')
        .set('Authorization', bearer)
        .send({ role: 'reader', padding: 'x'.repeat(100_000) }),
      413,
    );
    await check(
      'post',
      '/presign',
      request(app)
        .post('/presign')
        .set('Authorization', bearer)
        .send({ operation: 'deleteObject', key: 'a' }),
      400,
    );
    await check(
      'post',
      '/presign/multipart',
      request(app)
        .post('/presign/multipart')
        .set('Authorization', bearer)
        .send({ action: 'explode', key: 'a' }),
      400,
    );
    const guestForUser = await check(
      'post',
      '/identities/guest',
      request(app).post('/identities/guest').set('Authorization', bearer),
      409,
    );
    assert.equal(guestForUser.body.code, 'already_signed_in');
  });

  it('fails a response the document does not allow (so the helper can fail)', () => {
    const problem = {
      status: 401,
      headers: {
        'content-type': 'application/problem+json; charset=utf-8',
        'www-authenticate': 'Bearer realm="keywarden", error="invalid_token"',
      },
      body: {
        type: 'urn:keywarden:problem:invalid_token',
        title: 'Unauthorized',
        status: 401,
        code: 'invalid_token',
      },
    };
    assertMatchesOpenApi(problem, { method: 'get', path: '/auth/session' });
    const cases: Array<
      [string, Parameters<typeof assertMatchesOpenApi>[0], { method: string; path: string }, RegExp]
    > = [
      [
        'undocumented status',
        { ...problem, status: 418 },
        { method: 'get', path: '/auth/session' },
        /does not list status 418/,
      ],
      [
        'wrong content type',
        { ...problem, headers: { ...problem.headers, 'content-type': 'text/html' } },
        { method: 'get', path: '/auth/session' },
        /answers text\/html/,
      ],
      [
        'body off-schema',
        { ...problem, body: { title: 'x' } },
        { method: 'get', path: '/auth/session' },
        /does not match the schema/,
      ],
      ['unknown path', problem, { method: 'get', path: '/nowhere' }, /no path describes/],
      [
        '401 without its challenge',
        { ...problem, headers: { 'content-type': 'application/problem+json' } },
        { method: 'get', path: '/auth/session' },
        /requires header WWW-Authenticate/,
      ],
      ['unknown method', problem, { method: 'delete', path: '/auth/session' }, /is not described/],
      [
        'missing required header',
        {
          status: 429,
          headers: { 'content-type': 'application/problem+json' },
          body: { ...problem.body, status: 429, code: 'rate_limited' },
        },
        { method: 'post', path: '/credentials' },
        /requires header Retry-After/,
      ],
      [
        'wrong date-time format',
        {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: {
            identityId: 'eu-west-1:x',
            role: 'reader',
            expiration: 'tomorrow',
            credentials: {
              accessKeyId: 'A',
              secretAccessKey: 'S',
              sessionToken: 'T',
              expiration: 'tomorrow',
            },
          },
        },
        { method: 'post', path: '/credentials' },
        /does not match the schema/,
      ],
    ];
    for (const [name, response, operation, message] of cases) {
      assert.throws(() => assertMatchesOpenApi(response, operation), message, name);
    }
  });

  it('lists the failures every route shares (the chain before the routes), each with a problem body', () => {
    const document = openApiDocument();
    const resolve = (node: unknown): Record<string, unknown> => {
      let current = node as Record<string, unknown>;
      while (typeof current.$ref === 'string') {
        current = current.$ref
          .slice(2)
          .split('/')
          .reduce<Record<string, unknown>>((at, key) => at[key] as Record<string, unknown>, document);
      }
      return current;
    };
    const problems: string[] = [];
    for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, unknown>>)) {
      for (const [method, raw] of Object.entries(item)) {
        const responses = (raw as { responses: Record<string, unknown> }).responses;
        const label = `${method.toUpperCase()} ${path}`;
        for (const key of Object.keys(responses)) {
          if (!/^[1-5][0-9]{2}$/.test(key)) problems.push(`${label}: '${key}' (write every status out)`);
        }
        if (AHEAD_OF_RATE_LIMIT.includes(path)) continue;
        // The default rate limit (Redis) runs for everything else; authentication and body
        // parsing for everything past /openapi.json; provider routers exist per configured name.
        const shared = ['429', '503'];
        if (path !== '/openapi.json') shared.push('400', '401');
        if (method === 'post') shared.push('413', '415');
        if (path.includes('{provider}')) shared.push('404');
        for (const status of shared) {
          const described = responses[status];
          if (!described) {
            problems.push(`${label}: no ${status}`);
            continue;
          }
          const response = resolve(described);
          const content = (response.content ?? {}) as Record<string, unknown>;
          const headers = (response.headers ?? {}) as Record<string, unknown>;
          if (!content['application/problem+json']) problems.push(`${label} ${status}: no problem+json`);
          if (
            (status === '429' || status === '503') &&
            resolve(headers['Retry-After'] ?? {}).required !== true
          ) {
            problems.push(`${label} ${status}: Retry-After not required`);
          }
          if ((status === '400' || status === '401') && !headers['WWW-Authenticate']) {
            problems.push(`${label} ${status}: no WWW-Authenticate`);
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('lists every problem code the source can answer, and no other', () => {
    const described = (
      openApiDocument().components as {
        schemas: { Problem: { properties: { code: { description: string } } } };
      }
    ).schemas.Problem.properties.code.description;
    const documented = [...described.matchAll(/`([a-z][a-z0-9_]*)`/g)].map((match) => match[1]!);
    const emitted = emittedProblemCodes(fileURLToPath(new URL('../src', import.meta.url)));
    assert.ok(emitted.size > 30, `the source scan found only ${emitted.size} codes`);
    const undocumented = [...emitted.keys()]
      .filter((code) => !documented.includes(code))
      .map((code) => `${code} (${[...emitted.get(code)!].join(', ')})`);
    assert.deepEqual(undocumented, [], 'codes src/ answers that Problem.code does not list');
    const stale = documented.filter((code) => code !== 'reason' && code !== 'detail' && !emitted.has(code));
    assert.deepEqual(stale, [], 'codes Problem.code lists that src/ never answers');
  });

  it('lets a range or default describe only error statuses (so a blanket default cannot pass everything)', () => {
    const responses = { '200': {}, '4XX': {}, default: {} };
    assert.equal(describedStatusKey(responses, 200), '200');
    assert.equal(describedStatusKey(responses, 201), undefined);
    assert.equal(describedStatusKey(responses, 302), undefined);
    assert.equal(describedStatusKey(responses, 418), '4XX');
    assert.equal(describedStatusKey(responses, 503), 'default');
    assert.equal(describedStatusKey({ '503': {} }, 500), undefined);
  });

  describe('the failures every route shares, provoked on real routes', () => {
    const API = 'https://api.test';
    let redis: RedisServer;
    let store: RedisStore;
    let aws: AwsDouble;
    let app: Express;

    const check = async (
      method: string,
      path: string,
      call: request.Test,
      status: number,
      code?: string,
    ): Promise<request.Response> => {
      const response = await call;
      assert.equal(response.status, status, `${method} ${path}: ${response.text.slice(0, 300)}`);
      if (code) assert.equal(response.body.code, code, `${method} ${path}`);
      assertMatchesOpenApi(response, { method, path });
      return response;
    };

    before(async () => {
      [redis, aws] = await Promise.all([startRedis(), startAwsDouble()]);
      store = new RedisStore(
        redisSchema.parse({ url: redis.url, commandTimeoutMs: 300, reconnectMaxMs: 200 }),
      );
      await store.connect();
      app = await createApp({
        config: testConfig({
          ...fullFeatureOverrides(),
          ...credentialOverrides({ endpoint: aws.url }),
          server: { trustProxyHops: 1 },
          // On, as in production (the credential fixture switches it off): limits live in Redis.
          rateLimit: { enabled: true },
        }),
        store,
        logger: captureLogs().logger,
        metrics: createMetrics({ collectProcessMetrics: false }),
      });
    });
    after(async () => {
      await store?.close();
      await Promise.all([redis?.stop(), aws?.close()]);
    });

    it('a refused or malformed credential is answered before any route runs, with a challenge', async () => {
      const expired = await idp.sign({ aud: API, exp: Math.floor(Date.now() / 1000) - 600 });
      const refused = [
        ['post', '/auth/logout', `Bearer ${expired}`],
        ['post', '/presign', `Bearer ${expired}`],
        ['get', '/auth/login/{provider}', 'Bearer not-a-jwt'],
        ['get', '/auth/saml/{provider}/metadata', 'Bearer not-a-jwt'],
        ['post', '/auth/device/token', `Bearer kwcli_${'a'.repeat(43)}`],
        ['get', '/portal', 'Bearer not-a-jwt'],
      ] as const;
      for (const [method, template, authorization] of refused) {
        const path = template.replace('{provider}', template.includes('saml') ? 'adfs' : 'corp');
        const response = await check(
          method,
          path,
          request(app)[method](path).set('Authorization', authorization),
          401,
          'invalid_token',
        );
        assert.match(
          response.headers['www-authenticate'] ?? '',
          /^Bearer realm="keywarden", error="invalid_token"/,
        );
      }
      for (const [method, path] of [
        ['post', '/auth/logout'],
        ['post', '/auth/device/authorize'],
      ] as const) {
        const response = await check(
          method,
          path,
          request(app)[method](path).set('Authorization', 'Bearer a b'),
          400,
          'invalid_request',
        );
        assert.match(response.headers['www-authenticate'] ?? '', /error="invalid_request"/);
      }
      for (const [method, path] of [
        ['post', '/credentials'],
        ['get', '/portal/assets/portal.css'],
      ] as const) {
        const response = await check(
          method,
          path,
          request(app)
            [method](path)
            .set('X-Guest-Token', `kwg_${'x'.repeat(43)}`),
          401,
          'invalid_guest_token',
        );
        assert.equal(
          response.headers['www-authenticate'],
          'GuestToken realm="keywarden", error="invalid_token"',
        );
      }
    });

    it('bodies over the limit, unparseable, or of a type, charset or encoding the route does not take', async () => {
      const bearer = `Bearer ${await idp.sign({ aud: API, sub: 'contract-bodies' })}`;
      const form = (fields: number, size = 1) =>
        Array.from({ length: fields }, (_, i) => `f${i}=${'x'.repeat(size)}`).join('&');
      const tooLarge = [
        [
          '/credentials',
          request(app)
            .post('/credentials')
            .set('Authorization', bearer)
            .send({ role: 'x'.repeat(70_000) }),
        ],
        ['/auth/saml/adfs/acs', request(app).post('/auth/saml/adfs/acs').type('form').send(form(1, 300_000))],
        ['/auth/saml/adfs/slo', request(app).post('/auth/saml/adfs/slo').type('form').send(form(1, 300_000))],
        [
          '/auth/backchannel-logout/corp',
          request(app).post('/auth/backchannel-logout/corp').type('form').send(form(1, 20_000)),
        ],
        [
          '/auth/device/authorize',
          request(app).post('/auth/device/authorize').type('form').send(form(1, 5_000)),
        ],
        // Over the device form's field limit (10): a 413 with the same code, not a bare invalid_request.
        ['/auth/device/token', request(app).post('/auth/device/token').type('form').send(form(11))],
        [
          '/auth/logout',
          request(app)
            .post('/auth/logout')
            .set('X-CSRF', '1')
            .send({ pad: 'x'.repeat(70_000) }),
        ],
        [
          '/identities/guest',
          request(app)
            .post('/identities/guest')
            .send({ pad: 'x'.repeat(70_000) }),
        ],
      ] as const;
      for (const [path, call] of tooLarge) await check('post', path, call, 413, 'payload_too_large');
      // The portal's own form parser answers with its error page.
      await check(
        'post',
        '/portal/credentials',
        request(app).post('/portal/credentials').type('form').send(form(1, 9_000)),
        413,
      );

      await check(
        'post',
        '/credentials',
        request(app)
          .post('/credentials')
          .set('Authorization', bearer)
          .set('Content-Type', 'text/plain')
          .send('role=x'),
        415,
        'unsupported_media_type',
      );
      await check(
        'post',
        '/auth/saml/adfs/slo',
        request(app)
          .post('/auth/saml/adfs/slo')
          .set('Content-Type', 'application/json; charset=koi8-r')
          .send('{}'),
        415,
        'unsupported_media_type',
      );
      await check(
        'post',
        '/auth/device/token',
        request(app)
          .post('/auth/device/token')
          .set('Content-Type', 'application/x-www-form-urlencoded; charset=koi8-r')
          .send('a=b'),
        415,
        'unsupported_media_type',
      );
      await check(
        'post',
        '/presign',
        request(app)
          .post('/presign')
          .set('Authorization', bearer)
          .set('Content-Type', 'application/json')
          .set('Content-Encoding', 'compress')
          .send('{}'),
        415,
        'unsupported_media_type',
      );
      for (const path of [
        '/presign',
        '/identities/guest',
        '/auth/saml/adfs/acs',
        '/auth/backchannel-logout/corp',
      ]) {
        await check(
          'post',
          path,
          request(app)
            .post(path)
            .set('Authorization', bearer)
            .set('Content-Type', 'application/json')
            .send('{"role":'),
          400,
          'malformed_body',
        );
      }
    });

    it('unknown providers, paths and methods are 404 problems', async () => {
      await check(
        'get',
        '/auth/login/{provider}',
        request(app).get('/auth/login/nobody'),
        404,
        'unknown_provider',
      );
      await check(
        'get',
        '/auth/callback/{provider}',
        request(app).get('/auth/callback/nobody'),
        404,
        'not_found',
      );
      await check(
        'post',
        '/auth/saml/{provider}/acs',
        request(app).post('/auth/saml/nobody/acs'),
        404,
        'not_found',
      );
      await check(
        'get',
        '/auth/saml/{provider}/metadata',
        request(app).get('/auth/saml/corp/metadata'),
        404,
        'not_found',
      );
      await check(
        'post',
        '/auth/backchannel-logout/{provider}',
        request(app).post('/auth/backchannel-logout/adfs'),
        404,
        'not_found',
      );
      // Not in the document at all, so only the problem itself can be checked.
      for (const call of [request(app).get('/nowhere'), request(app).delete('/credentials')]) {
        const response = await call;
        assert.equal(response.status, 404);
        assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
        assert.equal(response.body.code, 'not_found');
      }
    });

    it('a cookie-authenticated request without X-CSRF is refused on every state-changing or credential route', async () => {
      const browser = new BrowserSession(app);
      const guest = await browser.post('/identities/guest').set('X-CSRF', '1');
      assert.equal(guest.status, 201, guest.text);
      assertMatchesOpenApi(guest, { method: 'post', path: '/identities/guest' });
      const session = await browser.get('/auth/session');
      assert.equal(session.body.authMethod, 'session', 'the cookie authenticates');
      for (const [method, path, call] of [
        ['get', '/credentials', browser.get('/credentials')],
        ['post', '/credentials', browser.post('/credentials').send({})],
        ['post', '/presign', browser.post('/presign').send({ operation: 'getObject', key: 'a.txt' })],
        [
          'post',
          '/presign/multipart',
          browser.post('/presign/multipart').send({ action: 'create', key: 'a.bin' }),
        ],
        ['post', '/auth/logout', browser.post('/auth/logout')],
      ] as const) {
        await check(method, path, call, 403, 'csrf_header_missing');
      }
    });

    it('past the rate limit every route but the probes answers 429 with Retry-After', async () => {
      const limited = await createApp({
        config: testConfig({
          ...fullFeatureOverrides(),
          rateLimit: { groups: { default: { perIp: { points: 1, windowSeconds: 60 } } } },
        }),
        store: new MemoryStore(),
        logger: captureLogs().logger,
        metrics: createMetrics({ collectProcessMetrics: false }),
      });
      await request(limited).get('/openapi.json').expect(200);
      for (const [method, path] of [
        ['get', '/openapi.json'],
        ['get', '/auth/session'],
        ['post', '/credentials'],
        ['get', '/auth/login/corp'],
        ['post', '/auth/saml/adfs/acs'],
        ['post', '/auth/device/token'],
        ['get', '/portal'],
        ['get', '/portal/assets/portal.js'],
      ] as const) {
        const response = await check(method, path, request(limited)[method](path), 429, 'rate_limited');
        assert.match(response.headers['retry-after'] ?? '', /^[0-9]+$/);
      }
      await request(limited).get('/healthz').expect(200);
    });

    it('with Redis down every route but the probes answers 503 with Retry-After', async () => {
      const bearer = `Bearer ${await idp.sign({ aud: API, sub: 'contract-redis' })}`;
      await request(app).get('/auth/session').set('Authorization', bearer).expect(200);
      await redis.stop();
      try {
        for (const [method, path] of [
          ['get', '/openapi.json'],
          ['get', '/auth/session'],
          ['post', '/credentials'],
          ['post', '/presign'],
          ['get', '/auth/login/corp'],
          ['post', '/auth/saml/adfs/acs'],
          ['post', '/auth/device/token'],
          ['post', '/identities/guest'],
          ['get', '/portal'],
        ] as const) {
          const response = await check(
            method,
            path,
            request(app)[method](path).set('Authorization', bearer),
            503,
            'service_unavailable',
          );
          assert.match(response.headers['retry-after'] ?? '', /^[0-9]+$/);
        }
        await request(app).get('/healthz').expect(200);
      } finally {
        await redis.start();
      }
    });
  });
});
