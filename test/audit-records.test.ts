import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BUCKET, credentialOverrides } from './fixtures/credentials/config.ts';
import { type Instance, mergeOverrides, startInstance } from './fixtures/credentials/harness.ts';
import {
  type AwsDouble,
  DEFAULT_DEVELOPER_PROVIDER_NAME,
  DEFAULT_IDENTITY_POOL_ID,
  startAwsDouble,
} from './support/aws-double/index.ts';
import { BrowserSession } from './support/browser-session.ts';
import { loginThroughIdp, startOidcProvider, type TestIdp } from './support/oidc-provider.ts';

/**
 * Audit records and access-log lines are written without the logger's redaction pass (it cost
 * more than the rest of a cache-hit request), because their fields are chosen one by one and
 * hold no secret by construction. This proves it: every record of a run through sign-in,
 * vending (miss and hit), presigning, guests, refusals and sign-out carries only the known
 * fields, each a plain scalar, and none of the secrets that run handed out.
 */

/** AuditFields (src/observability/audit.ts) plus pino's own fields. Adding one is a review decision. */
const AUDIT_KEYS = new Set([
  'level',
  'time',
  'service',
  'audit',
  'event',
  'msg',
  'outcome',
  'requestId',
  'sourceIp',
  'provider',
  'subject',
  'identityId',
  'role',
  'scope',
  'expiresAt',
  'reason',
  'cache',
  'channel',
  'purpose',
  'guestIdentityId',
  'mode',
  'merged',
  'operation',
  'bucket',
  'key',
  'clientId',
  'requestedFrom',
  'sessions',
  'grants',
  'count',
  'actor',
  'target',
  'mergedInto',
  'tokens',
  'cachedCredentials',
  'identities',
  'suspendedUntil',
  'rolesRevoked',
  'rolesFailed',
]);
const ACCESS_KEYS = new Set(['level', 'time', 'service', 'msg', 'req', 'res', 'responseTime']);
const ACCESS_REQ_KEYS = new Set(['id', 'method', 'url', 'userAgent']);

const PUBLIC_URL = 'https://keywarden.test';
const CLIENT_SECRET = 'audit-client-secret-0123456789abcdef';
const SESSION_SECRET = 'audit-session-secret-0123456789abcdefghij';

let aws: AwsDouble;
let idp: TestIdp;
let kw: Instance;

before(async () => {
  aws = await startAwsDouble({ buckets: [BUCKET] });
  idp = await startOidcProvider({
    clients: [
      {
        clientId: 'kw-audit',
        clientSecret: CLIENT_SECRET,
        redirectUris: [`${PUBLIC_URL}/auth/callback/corp`],
      },
    ],
  });
  idp.setAccount('alice', { email: 'alice@example.com', groups: ['staff'] });
  kw = await startInstance(
    aws,
    mergeOverrides(credentialOverrides({ endpoint: aws.url }), {
      aws: {
        pool: {
          identityPoolId: DEFAULT_IDENTITY_POOL_ID,
          developerProviderName: DEFAULT_DEVELOPER_PROVIDER_NAME,
        },
      },
      server: { publicUrl: PUBLIC_URL, trustProxyHops: 1 },
      session: { secret: SESSION_SECRET },
      guests: { enabled: true },
      auth: {
        providers: {
          corp: { kind: 'oidc', issuer: idp.issuer, clientId: 'kw-audit', clientSecret: CLIENT_SECRET },
        },
      },
      presign: {
        buckets: [{ name: BUCKET, region: 'us-east-1', endpoint: aws.url, credentialScope: 'own' }],
      },
      rateLimit: { enabled: true, groups: { guest: { perIp: { points: 2, windowSeconds: 60 } } } },
    }),
  );
});

after(async () => {
  await kw?.close();
  await idp?.stop();
  await aws?.close();
});

describe('audit records and access lines', () => {
  it('carry only known scalar fields and none of the secrets a whole run handed out', async () => {
    const secrets: string[] = [CLIENT_SECRET, SESSION_SECRET];
    const browser = new BrowserSession(kw.url);
    await loginThroughIdp(browser, '/auth/login/corp?returnTo=/x?code=not-a-secret', 'alice');
    const cookie = browser.cookie('__Host-keywarden');
    assert.ok(cookie);
    secrets.push(cookie, decodeURIComponent(cookie));

    for (let index = 0; index < 2; index += 1) {
      const vended = await browser.get('/credentials?scope=own').set('X-CSRF', '1');
      assert.equal(vended.status, 200);
      secrets.push(vended.body.credentials.secretAccessKey, vended.body.credentials.sessionToken);
    }
    const refused = await browser.get('/credentials?role=admin').set('X-CSRF', '1');
    assert.equal(refused.status, 403);
    const presigned = await browser
      .post('/presign')
      .set('X-CSRF', '1')
      .send({ operation: 'putObject', key: 'photo.jpg', contentType: 'image/jpeg', contentLength: 1024 });
    assert.equal(presigned.status, 200, JSON.stringify(presigned.body));
    const url = new URL(presigned.body.url);
    secrets.push(url.searchParams.get('X-Amz-Signature')!, url.searchParams.get('X-Amz-Security-Token')!);

    const guest = await fetch(`${kw.url}/identities/guest`, { method: 'POST' });
    const { guestToken } = (await guest.json()) as { guestToken: string };
    secrets.push(guestToken);
    const guestVend = await fetch(`${kw.url}/credentials`, { headers: { 'x-guest-token': guestToken } });
    assert.equal(guestVend.status, 200);
    const guestCredentials = (await guestVend.json()) as { credentials: { secretAccessKey: string } };
    secrets.push(guestCredentials.credentials.secretAccessKey);
    const limited = [];
    for (let index = 0; index < 2; index += 1) {
      limited.push((await fetch(`${kw.url}/identities/guest`, { method: 'POST' })).status);
    }
    assert.deepEqual(limited, [201, 429]);
    const badToken = await fetch(`${kw.url}/credentials`, { headers: { 'x-guest-token': `${guestToken}x` } });
    assert.equal(badToken.status, 401);
    assert.equal((await browser.post('/auth/logout').set('X-CSRF', '1')).status, 200);

    const records = kw.logs.records();
    const audits = records.filter((record) => record.audit === true);
    const events = new Set(audits.map((record) => record.event));
    for (const event of [
      'login.succeeded',
      'credentials.issued',
      'credentials.denied',
      'presign.issued',
      'guest.created',
      'rate_limit.exceeded',
      'logout',
    ]) {
      assert.ok(events.has(event), `the run produced a ${event} record`);
    }
    assert.equal(
      audits.filter((record) => record.event === 'credentials.issued').length,
      3,
      'one record per credential response, cache hits included',
    );
    for (const record of audits) {
      for (const [key, value] of Object.entries(record)) {
        assert.ok(AUDIT_KEYS.has(key), `audit field ${key} in ${JSON.stringify(record)}`);
        assert.ok(
          value === null || ['string', 'number', 'boolean'].includes(typeof value),
          `audit field ${key} is a scalar`,
        );
      }
    }
    const accessLines = records.filter((record) => record.msg === 'request completed');
    assert.ok(accessLines.length >= 10);
    for (const record of accessLines) {
      for (const key of Object.keys(record)) assert.ok(ACCESS_KEYS.has(key), `access field ${key}`);
      for (const key of Object.keys(record.req as object)) assert.ok(ACCESS_REQ_KEYS.has(key), `req.${key}`);
    }
    kw.logs.assertNoneContain(secrets);
  });
});
