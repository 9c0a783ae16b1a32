import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fromHttp, fromProcess } from '@aws-sdk/credential-providers';
import request from 'supertest';
import {
  ADMIN_ARN,
  BUCKET,
  credentialOverrides,
  GUEST_ARN,
  READER_ARN,
} from './fixtures/credentials/config.ts';
import { countCalls, type Instance, mergeOverrides, startInstance } from './fixtures/credentials/harness.ts';
import {
  type AwsDouble,
  DEFAULT_DEVELOPER_PROVIDER_NAME,
  DEFAULT_IDENTITY_POOL_ID,
  startAwsDouble,
} from './support/aws-double/index.ts';
import { BrowserSession } from './support/browser-session.ts';
import { loginThroughIdp, startOidcProvider, type TestIdp } from './support/oidc-provider.ts';

/**
 * End to end through real HTTP: a real OIDC provider signs the browser in, keywarden talks
 * to the AWS test double (Cognito JSON + STS Query protocols, SigV4, AWS's documented rules),
 * and the answers are read back with the AWS SDK's own credential providers.
 */

const PUBLIC_URL = 'https://keywarden.test';
const CLIENT_ID = 'keywarden-e2e';
const CLIENT_SECRET = 'e2e-client-secret-0123456789abcdef';

let aws: AwsDouble;
let idp: TestIdp;
let kw: Instance;
let tmp: string;

function overrides(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return mergeOverrides(
    credentialOverrides({ endpoint: aws.url }),
    {
      aws: {
        pool: {
          identityPoolId: DEFAULT_IDENTITY_POOL_ID,
          developerProviderName: DEFAULT_DEVELOPER_PROVIDER_NAME,
        },
      },
      server: { publicUrl: PUBLIC_URL, trustProxyHops: 1 },
      session: { secret: 'e2e-session-secret-0123456789abcdefghij' },
      auth: {
        providers: {
          corp: {
            kind: 'oidc',
            issuer: idp.issuer,
            clientId: CLIENT_ID,
            clientSecret: CLIENT_SECRET,
            scopes: ['openid', 'profile', 'email', 'groups'],
            claims: { groups: 'groups', extra: ['team'] },
          },
        },
      },
    },
    extra,
  );
}

async function signIn(browser: BrowserSession, username: string): Promise<void> {
  const { callback } = await loginThroughIdp(browser, '/auth/login/corp?returnTo=/app', username);
  assert.equal(callback?.status, 303, `sign-in failed: ${JSON.stringify(callback?.body)}`);
}

function allSecrets(): string[] {
  return [...aws.credentials.values()].flatMap((vended) => [vended.secretAccessKey, vended.sessionToken]);
}

before(async () => {
  aws = await startAwsDouble({
    roles: {
      [READER_ARN]: { maxSessionDuration: 3600 },
      [ADMIN_ARN]: { maxSessionDuration: 7200 },
      [GUEST_ARN]: { maxSessionDuration: 3600 },
    },
    poolRoles: { authenticated: READER_ARN, unauthenticated: GUEST_ARN },
  });
  idp = await startOidcProvider({
    clients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: [`${PUBLIC_URL}/auth/callback/corp`],
      },
    ],
  });
  kw = await startInstance(aws, overrides());
  tmp = await mkdtemp(path.join(tmpdir(), 'kw-credentials-'));
});

after(async () => {
  kw?.logs.assertNoneContain(allSecrets());
  await kw?.close();
  await idp?.stop();
  await aws?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('credentials end to end (OIDC sign-in, AWS test double)', () => {
  it('a signed-in browser gets scoped credentials that AWS recorded for its own identity', async () => {
    idp.setAccount('alice', { sub: 'alice', email: 'alice@example.com', groups: ['staff'] });
    const browser = new BrowserSession(kw.url);
    await signIn(browser, 'alice');

    const noCsrf = await browser.get('/credentials');
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.code, 'csrf_header_missing');

    const response = await browser.get('/credentials?scope=own&durationSeconds=900').set('X-CSRF', '1');
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.headers['cache-control'], 'no-store');
    const { identityId, role, credentials, expiration } = response.body;
    assert.equal(role, 'reader');
    assert.equal(credentials.expiration, expiration);
    const vended = aws.credentials.get(credentials.accessKeyId);
    assert.ok(vended, 'the double issued these credentials');
    assert.equal(vended.identityId, identityId);
    assert.equal(vended.roleArn, READER_ARN);
    assert.equal(vended.secretAccessKey, credentials.secretAccessKey);
    assert.deepEqual(vended.sessionPolicy?.Statement[0]?.Resource, [
      `arn:aws:s3:::${BUCKET}/users/${identityId}/*`,
    ]);
    assert.ok(Math.abs(new Date(expiration).getTime() - Date.now() - 900_000) < 5_000);

    const audit = kw.logs
      .records()
      .find((record) => record.event === 'credentials.issued' && record.identityId === identityId);
    assert.ok(audit, 'one audit record per issue');
    assert.equal(audit.role, 'reader');
    assert.equal(audit.scope, 'own');
    assert.equal(audit.provider, 'corp');
    assert.equal(audit.expiresAt, expiration);
    assert.ok(audit.requestId && audit.sourceIp);
    assert.ok(!JSON.stringify(audit).includes(credentials.secretAccessKey));

    const session = await browser.get('/auth/session');
    assert.equal(session.body.identityId, identityId, 'GET /auth/session shows the identity id');
    assert.deepEqual(session.body.allowedRoles, ['reader']);

    // Same developer user identifier → same identity; and the cache answers the repeat.
    const vendsBefore = countCalls(aws, 'AssumeRoleWithWebIdentity');
    const again = await browser
      .post('/credentials')
      .set('X-CSRF', '1')
      .send({ scope: 'own', durationSeconds: 900 });
    assert.equal(again.body.identityId, identityId);
    assert.equal(again.body.credentials.accessKeyId, credentials.accessKeyId);
    assert.equal(countCalls(aws, 'AssumeRoleWithWebIdentity'), vendsBefore);
  });

  it('guest → credentials → sign in → the same identity id, now with the authenticated role', async () => {
    idp.setAccount('gina', { sub: 'gina', email: 'gina@example.com' });
    const browser = new BrowserSession(kw.url);
    const created = await browser.post('/identities/guest').set('X-CSRF', '1');
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.guestToken, undefined, 'a browser guest lives in the session, not in a token');
    const guestId: string = created.body.identityId;

    const getIds = countCalls(aws, 'GetId');
    const resumed = await browser.post('/identities/guest').set('X-CSRF', '1');
    assert.equal(resumed.status, 200);
    assert.equal(resumed.body.identityId, guestId);
    assert.equal(countCalls(aws, 'GetId'), getIds, 'resuming makes no new identity');

    const asGuest = await browser.get('/credentials').set('X-CSRF', '1');
    assert.equal(asGuest.status, 200, JSON.stringify(asGuest.body));
    assert.equal(asGuest.body.identityId, guestId);
    assert.equal(asGuest.body.role, 'guest');
    assert.equal(
      aws.credentials.get(asGuest.body.credentials.accessKeyId)?.authenticationType,
      'unauthenticated',
    );

    await signIn(browser, 'gina');
    const asUser = await browser.get('/credentials').set('X-CSRF', '1');
    assert.equal(asUser.status, 200, JSON.stringify(asUser.body));
    assert.equal(asUser.body.identityId, guestId, 'the identity survived the upgrade');
    assert.equal(asUser.body.role, 'reader');
    const vended = aws.credentials.get(asUser.body.credentials.accessKeyId);
    assert.equal(vended?.authenticationType, 'authenticated');
    assert.equal(vended?.identityId, guestId);
    const link = aws.calls.find(
      (call) =>
        call.operation === 'GetOpenIdTokenForDeveloperIdentity' &&
        (call.params as { IdentityId?: string }).IdentityId === guestId,
    );
    assert.ok(link, 'the guest identity id was passed to link the login');
  });

  it('a guest who signs in as a user that already has an identity is merged into it (Cognito semantics)', async () => {
    idp.setAccount('hugo', { sub: 'hugo' });
    const first = new BrowserSession(kw.url);
    await signIn(first, 'hugo');
    const existing = (await first.get('/credentials').set('X-CSRF', '1')).body.identityId as string;

    const second = new BrowserSession(kw.url);
    const guestId = (await second.post('/identities/guest').set('X-CSRF', '1')).body.identityId as string;
    assert.notEqual(guestId, existing);
    await signIn(second, 'hugo');
    const response = await second.get('/credentials').set('X-CSRF', '1');
    assert.equal(response.status, 200);
    assert.equal(
      response.body.identityId,
      existing,
      'the user keeps its identity; the guest one is merged into it',
    );
  });

  it('a guest token resumes the same identity without a new GetId, and vends guest credentials', async () => {
    const created = await request(kw.url).post('/identities/guest');
    assert.equal(created.status, 201);
    const { identityId, guestToken } = created.body as { identityId: string; guestToken: string };
    assert.match(guestToken, /^kwg_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.headers['cache-control'], 'no-store');

    const getIds = countCalls(aws, 'GetId');
    const resumed = await request(kw.url).post('/identities/guest').set('X-Guest-Token', guestToken);
    assert.equal(resumed.status, 200);
    assert.deepEqual(resumed.body, { identityId });
    assert.equal(countCalls(aws, 'GetId'), getIds);

    const credentials = await request(kw.url).get('/credentials').set('X-Guest-Token', guestToken);
    assert.equal(credentials.status, 200);
    assert.equal(credentials.body.identityId, identityId);
    assert.equal(credentials.body.role, 'guest');

    const forged = await request(kw.url)
      .get('/credentials')
      .set('X-Guest-Token', `kwg_${'A'.repeat(43)}`);
    assert.equal(forged.status, 401);
    assert.equal(forged.body.code, 'invalid_guest_token');
    const admin = await request(kw.url).get('/credentials?role=admin').set('X-Guest-Token', guestToken);
    assert.equal(admin.status, 403);
    assert.equal(admin.body.code, 'role_not_allowed');
    kw.logs.assertNoneContain([guestToken]);
  });

  it('format=aws-container is read by the SDK fromHttp provider; credential-process by fromProcess', async () => {
    const { guestToken, identityId } = (await request(kw.url).post('/identities/guest')).body as {
      guestToken: string;
      identityId: string;
    };
    const viaHttp = await fromHttp({
      awsContainerCredentialsFullUri: `${kw.url}/credentials?format=aws-container`,
      awsContainerAuthorizationToken: guestToken,
    })();
    const record = aws.credentials.get(viaHttp.accessKeyId);
    assert.equal(record?.identityId, identityId);
    assert.equal(viaHttp.secretAccessKey, record?.secretAccessKey);
    assert.equal(viaHttp.sessionToken, record?.sessionToken);
    assert.equal(viaHttp.expiration?.getTime(), record?.expiration);

    const script = path.join(tmp, 'keywarden-credentials.mjs');
    await writeFile(
      script,
      `const r = await fetch(${JSON.stringify(`${kw.url}/credentials?format=credential-process`)}, { headers: { 'X-Guest-Token': process.env.KW_GUEST_TOKEN } });\n` +
        "if (!r.ok) { process.stderr.write('keywarden answered ' + r.status + '\\n'); process.exit(1); }\n" +
        'process.stdout.write(await r.text());\n',
    );
    await chmod(script, 0o700);
    const configFile = path.join(tmp, 'aws-config');
    await writeFile(configFile, `[profile kw]\ncredential_process = ${process.execPath} ${script}\n`);
    const previous = process.env.KW_GUEST_TOKEN;
    process.env.KW_GUEST_TOKEN = guestToken;
    try {
      const viaProcess = await fromProcess({
        profile: 'kw',
        configFilepath: configFile,
        filepath: path.join(tmp, 'no-credentials-file'),
        ignoreCache: true,
      })();
      assert.equal(viaProcess.accessKeyId, viaHttp.accessKeyId, 'same cached credentials, other format');
      assert.equal(viaProcess.secretAccessKey, viaHttp.secretAccessKey);
      assert.equal(viaProcess.sessionToken, viaHttp.sessionToken);
      assert.equal(viaProcess.expiration?.getTime(), viaHttp.expiration?.getTime());
    } finally {
      if (previous === undefined) delete process.env.KW_GUEST_TOKEN;
      else process.env.KW_GUEST_TOKEN = previous;
    }
  });

  it('hostile requests: role not allowed → 403, bad duration → 400, unknown scope → 400, nothing vended', async () => {
    idp.setAccount('ivan', { sub: 'ivan', groups: ['staff'] });
    const browser = new BrowserSession(kw.url);
    await signIn(browser, 'ivan');
    const before = aws.calls.length;
    const cases: Array<[string, number, string]> = [
      ['/credentials?role=admin', 403, 'role_not_allowed'],
      ['/credentials?durationSeconds=600', 400, 'invalid_duration'],
      ['/credentials?durationSeconds=3601', 400, 'invalid_duration'],
      ['/credentials?durationSeconds=abc', 400, 'invalid_request'],
      ['/credentials?scope=everything', 400, 'unknown_scope'],
      ['/credentials?scope=../own', 400, 'invalid_request'],
      ['/credentials?format=xml', 400, 'invalid_request'],
      ['/credentials?role=reader&role=admin', 400, 'invalid_request'],
    ];
    for (const [url, status, code] of cases) {
      const response = await browser.get(url).set('X-CSRF', '1');
      assert.equal(response.status, status, `${url}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.code, code, url);
      assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
    }
    const textPost = await browser
      .post('/credentials')
      .set('X-CSRF', '1')
      .set('Content-Type', 'text/plain')
      .send('role=admin');
    assert.equal(textPost.status, 415);
    assert.equal(aws.calls.length, before, 'no AWS call for any refused request');
    const denied = kw.logs.records().filter((record) => record.event === 'credentials.denied');
    assert.ok(denied.length >= cases.length);
  });

  it('an admin may choose its role; a claim with * or " cannot widen the scope; a / is refused', async () => {
    idp.setAccount('root', { sub: 'root', groups: ['admins'], email: 'x*"],"Resource":["*' });
    const browser = new BrowserSession(kw.url);
    await signIn(browser, 'root');
    const adminCreds = await browser.get('/credentials?role=admin&durationSeconds=7200').set('X-CSRF', '1');
    assert.equal(adminCreds.status, 200, JSON.stringify(adminCreds.body));
    assert.equal(aws.credentials.get(adminCreds.body.credentials.accessKeyId)?.roleArn, ADMIN_ARN);

    const scoped = await browser.get('/credentials?role=admin&scope=byEmail').set('X-CSRF', '1');
    assert.equal(scoped.status, 200, JSON.stringify(scoped.body));
    const policy = aws.credentials.get(scoped.body.credentials.accessKeyId)?.sessionPolicy;
    assert.equal(policy?.Statement.length, 1);
    assert.deepEqual(policy?.Statement[0]?.Resource, [
      `arn:aws:s3:::${BUCKET}/mail/x\${*}"],"Resource":["\${*}/*`,
    ]);

    idp.setAccount('slash', { sub: 'slash', email: 'alice@example.com/../bob' });
    const other = new BrowserSession(kw.url);
    await signIn(other, 'slash');
    const refused = await other.get('/credentials?scope=byEmail').set('X-CSRF', '1');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'scope_not_available');
  });
});

describe('credentials end to end: AWS failures', () => {
  let fast: Instance;
  before(async () => {
    fast = await startInstance(
      aws,
      overrides({ aws: { requestTimeoutMs: 300, maxAttempts: 2 }, cache: { waitTimeoutMs: 2_000 } }),
    );
  });
  after(async () => {
    fast?.logs.assertNoneContain(allSecrets());
    await fast?.close();
  });

  async function guestToken(): Promise<string> {
    return (await request(fast.url).post('/identities/guest')).body.guestToken as string;
  }

  it('NotAuthorized → 403 and is not retried', async () => {
    const token = await guestToken();
    const before = countCalls(aws, 'GetOpenIdToken');
    aws.failNext('GetOpenIdToken', 'notAuthorized', 5);
    const response = await request(fast.url).get('/credentials').set('X-Guest-Token', token);
    assert.equal(response.status, 403);
    assert.equal(response.body.code, 'aws_access_denied');
    assert.equal(countCalls(aws, 'GetOpenIdToken') - before, 1, 'one attempt only');
    assert.doesNotMatch(JSON.stringify(response.body), /injected|Not authorized/);
    aws.reset();
  });

  it('throttling → retried, then 503 with Retry-After; throttling once → retried and 200', async () => {
    const token = await guestToken();
    const before = countCalls(aws, 'AssumeRoleWithWebIdentity');
    aws.failNext('AssumeRoleWithWebIdentity', 'throttle', 2);
    const response = await request(fast.url).get('/credentials').set('X-Guest-Token', token);
    assert.equal(response.status, 503);
    assert.match(String(response.headers['retry-after']), /^\d+$/);
    assert.equal(countCalls(aws, 'AssumeRoleWithWebIdentity') - before, 2, 'retried up to maxAttempts');
    assert.doesNotMatch(JSON.stringify(response.body), /Rate exceeded/);

    aws.failNext('AssumeRoleWithWebIdentity', 'throttle', 1);
    const retried = await request(fast.url).get('/credentials').set('X-Guest-Token', token);
    assert.equal(retried.status, 200);
    aws.reset();
  });

  it('5xx → 503; a timeout → 503 within the configured bounds', async () => {
    const token = await guestToken();
    aws.failNext('GetOpenIdToken', 'internal', 2);
    const internal = await request(fast.url).get('/credentials').set('X-Guest-Token', token);
    assert.equal(internal.status, 503);
    aws.failNext('GetOpenIdToken', 'timeout', 2);
    const started = Date.now();
    const timedOut = await request(fast.url).get('/credentials').set('X-Guest-Token', token);
    assert.equal(timedOut.status, 503);
    assert.match(String(timedOut.headers['retry-after']), /^\d+$/);
    assert.ok(Date.now() - started < 3_000, 'bounded by requestTimeoutMs × maxAttempts');
    aws.reset();
    const recovered = await request(fast.url).get('/credentials').set('X-Guest-Token', token);
    assert.equal(recovered.status, 200);
  });

  it('a pool that does not exist → 500 with a generic message, detail in the log', async () => {
    const broken = await startInstance(
      aws,
      overrides({ aws: { pool: { identityPoolId: 'us-east-1:00000000-dead-4000-8000-000000000000' } } }),
    );
    try {
      const response = await request(broken.url).post('/identities/guest');
      assert.equal(response.status, 500);
      assert.equal(response.body.detail, 'An internal error occurred.');
      assert.ok(broken.logs.lines.some((line) => line.includes('ResourceNotFoundException')));
    } finally {
      await broken.close();
    }
  });
});
