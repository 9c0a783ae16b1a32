import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Suspensions } from '../src/admin/suspensions.ts';
import { GuestTokens } from '../src/identity/guest-tokens.ts';
import { UserIndex } from '../src/identity/user-index.ts';
import { type AdminStack, credentialSecrets, startAdminStack } from './fixtures/admin/stack.ts';
import { BUCKET, READER_ARN } from './fixtures/credentials/config.ts';
import type { Instance } from './fixtures/credentials/harness.ts';
import { BrowserSession } from './support/browser-session.ts';
import { loginThroughIdp } from './support/oidc-provider.ts';

/**
 * Cutting a user off, on Redis with two instances: whatever the user holds — a browser session,
 * a bearer token, a guest identity linked to them, a CLI token, cached credentials — stops
 * within one request on both instances; a vend already running on the other instance when the
 * revocation lands does not reach the client; and the AWS credentials handed out before the
 * revocation are refused by the double's S3 (the IAM deny policy), while those issued after the
 * suspension is lifted work.
 */

let stack: AdminStack;
let admin: BrowserSession;

before(async () => {
  stack = await startAdminStack();
  admin = await stack.signIn(stack.a, 'root');
});

after(async () => {
  stack?.a.logs.assertNoneContain(stack.secrets);
  stack?.b.logs.assertNoneContain(stack.secrets);
  await stack?.close();
});

function s3With({
  accessKeyId,
  secretAccessKey,
  sessionToken,
}: {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}): S3Client {
  return new S3Client({
    endpoint: stack.aws.url,
    region: stack.aws.region,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId, secretAccessKey, sessionToken },
  });
}

async function vendWithBearer(instance: Instance, token: string) {
  const response = await fetch(`${instance.url}/credentials?scope=own`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await response.json()) as Record<string, unknown> & {
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
    identityId?: string;
    code?: string;
  };
  stack.secrets.push(...credentialSecrets(body));
  return { status: response.status, body };
}

async function revoke(user: string, body: Record<string, unknown> = {}) {
  const response = await admin
    .post(`/admin/users/${encodeURIComponent(user)}/revoke`)
    .set('X-CSRF', '1')
    .send(body);
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body;
}

async function unsuspend(user: string) {
  const response = await admin
    .post(`/admin/users/${encodeURIComponent(user)}/unsuspend`)
    .set('X-CSRF', '1')
    .send({});
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body;
}

describe('revoking a user on Redis with two instances', () => {
  it("stops the user's cookie, bearer vend, linked guest identity and CLI token within one request on both instances", async () => {
    stack.idp.setAccount('alice', { name: 'Alice', groups: ['staff'] });
    const onA = await stack.signIn(stack.a, 'alice', { userAgent: 'Firefox/140 (alice laptop)' });
    const onB = onA.withApp(stack.b.url);
    const cookieVend = await onA.get('/credentials?scope=own').set('X-CSRF', '1');
    assert.equal(cookieVend.status, 200, JSON.stringify(cookieVend.body));
    stack.secrets.push(...credentialSecrets(cookieVend.body));
    const aliceIdentity: string = cookieVend.body.identityId;
    assert.equal((await onB.get('/credentials?scope=own').set('X-CSRF', '1')).status, 200);

    // The app signed in with the same IdP (the bearer issuer shares the corp provider).
    const bearer = await stack.bearer('alice');
    const bearerVend = await vendWithBearer(stack.b, bearer);
    assert.equal(bearerVend.status, 200, JSON.stringify(bearerVend.body));
    assert.equal(bearerVend.body.identityId, aliceIdentity, 'one identity for browser and app');

    // A guest the app had before the user signed in, linked to alice by the upgrade call.
    const created = await fetch(`${stack.a.url}/identities/guest`, { method: 'POST' });
    const guest = (await created.json()) as { identityId: string; guestToken: string };
    stack.secrets.push(guest.guestToken);
    const guestVend = await fetch(`${stack.a.url}/credentials?scope=own`, {
      headers: { 'x-guest-token': guest.guestToken },
    });
    assert.equal(guestVend.status, 200);
    const guestCredentials = (await guestVend.json()) as {
      credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
    };
    stack.secrets.push(...credentialSecrets(guestCredentials));
    const guestS3 = s3With(guestCredentials.credentials);
    const guestKey = `users/${guest.identityId}/before.txt`;
    await guestS3.send(new PutObjectCommand({ Bucket: BUCKET, Key: guestKey, Body: 'guest' }));
    const upgraded = await fetch(`${stack.b.url}/identities/guest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'x-guest-token': guest.guestToken },
    });
    assert.equal(upgraded.status, 200, await upgraded.text());
    // A guest token for that identity still held somewhere (issued before the link).
    const keptGuestToken = await new GuestTokens(stack.a.store, 3600).issue(guest.identityId);
    stack.secrets.push(keptGuestToken);

    const cliToken = await stack.cliToken(onA);
    const cliVend = await vendWithBearer(stack.a, cliToken);
    assert.equal(cliVend.status, 200, JSON.stringify(cliVend.body));

    // The admin sees all of it before acting.
    const lookup = await admin.get('/admin/users/corp%3Aalice').set('X-CSRF', '1');
    assert.equal(lookup.status, 200, JSON.stringify(lookup.body));
    assert.equal(lookup.body.user, 'corp:alice');
    assert.ok(lookup.body.identityIds.includes(aliceIdentity));
    assert.equal(lookup.body.sessions.length, 1);
    const [session] = lookup.body.sessions;
    assert.equal(session.provider, 'corp');
    assert.equal(session.userAgent, 'Firefox/140 (alice laptop)');
    assert.ok(session.sourceIp && session.createdAt && session.lastSeenAt, JSON.stringify(session));
    assert.ok(Date.parse(session.lastSeenAt) >= Date.parse(session.createdAt));
    assert.equal(lookup.body.cliTokens.length, 1);
    assert.equal(lookup.body.cliTokens[0].clientId, 'keywarden-cli');
    assert.ok(lookup.body.cachedCredentials.length >= 1);
    assert.ok(lookup.body.cachedCredentials.every((entry: { role: string }) => entry.role === 'reader'));
    assert.deepEqual(lookup.body.guestIdentities, [guest.identityId], 'the linked guest identity');
    assert.equal(lookup.body.cognito.identityId, aliceIdentity);
    for (const secret of stack.secrets) assert.ok(!JSON.stringify(lookup.body).includes(secret));
    const cachedKeys = (
      await new UserIndex(stack.a.store).members({ provider: 'corp', subject: 'alice' }, 'credentials')
    ).map((member) => (JSON.parse(member) as { k: string }).k);
    assert.ok(cachedKeys.length >= 1);

    const result = await revoke('corp:alice', { reason: 'INC-1234' });
    assert.equal(result.sessions, 1);
    assert.equal(result.cliTokens, 1);
    assert.ok(result.cachedCredentials >= 1);
    assert.equal(result.suspendedUntil, null);
    assert.equal(result.issuedCredentials.revoked, true, JSON.stringify(result.issuedCredentials));

    for (const instance of [stack.a, stack.b]) {
      const browser = onA.withApp(instance.url);
      const cookie = await browser.get('/credentials?scope=own').set('X-CSRF', '1');
      assert.equal(cookie.status, 401, `cookie on ${instance.url}`);
      const byBearer = await vendWithBearer(instance, bearer);
      assert.equal(byBearer.status, 403);
      assert.equal(byBearer.body.code, 'user_suspended');
      const whoAmI = await fetch(`${instance.url}/auth/session`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      assert.equal(whoAmI.status, 403, 'refused on routes that vend nothing too');
      const byGuest = await fetch(`${instance.url}/credentials`, {
        headers: { 'x-guest-token': keptGuestToken },
      });
      assert.equal(byGuest.status, 403);
      assert.equal(((await byGuest.json()) as { code: string }).code, 'user_suspended');
      const byCli = await vendWithBearer(instance, cliToken);
      assert.equal(byCli.status, 401);
    }
    for (const key of cachedKeys)
      assert.equal(await stack.a.store.get(key), null, 'cached credentials purged');
    assert.ok(result.identityIds.includes(guest.identityId));
    await assert.rejects(
      guestS3.send(new PutObjectCommand({ Bucket: BUCKET, Key: guestKey, Body: 'again' })),
      (error: Error) => error.name === 'AccessDenied',
      "the linked guest identity's outstanding credentials are refused too",
    );

    // A new sign-in is refused, on either instance.
    for (const instance of [stack.a, stack.b]) {
      const fresh = new BrowserSession(instance.url);
      const { callback } = await loginThroughIdp(fresh, '/auth/login/corp?returnTo=/portal', 'alice');
      assert.equal(callback?.status, 403);
      assert.equal(callback?.body.code, 'user_suspended');
      const after = await fresh.get('/auth/session');
      assert.equal(after.status, 401, 'no session was left behind');
    }
    assert.deepEqual(
      await new UserIndex(stack.a.store).members({ provider: 'corp', subject: 'alice' }, 'sessions'),
      [],
      'the refused sign-ins left nothing in the index',
    );
  });

  it('does not let a vend in flight on the other instance reach its client', async () => {
    stack.idp.setAccount('bruno', { groups: ['staff'] });
    const bearer = await stack.bearer('bruno');
    const held = stack.aws.hold('AssumeRoleWithWebIdentity');
    const inFlight = vendWithBearer(stack.b, bearer);
    await held.arrived;
    await revoke('corp:bruno');
    held.release();
    const answer = await inFlight;
    assert.equal(answer.status, 403, JSON.stringify(answer.body));
    assert.equal(answer.body.code, 'user_suspended');
    assert.equal(answer.body.credentials, undefined);
    const cached = await new UserIndex(stack.b.store).members(
      { provider: 'corp', subject: 'bruno' },
      'credentials',
    );
    for (const member of cached) {
      assert.equal(
        await stack.b.store.get((JSON.parse(member) as { k: string }).k),
        null,
        'not left in the cache',
      );
    }
  });

  it('makes credentials issued before the revocation useless at S3; those issued after lifting work', async () => {
    stack.idp.setAccount('carmen', { groups: ['staff'] });
    const bearer = await stack.bearer('carmen');
    const before = await vendWithBearer(stack.a, bearer);
    assert.equal(before.status, 200);
    const identityId = before.body.identityId!;
    const oldS3 = s3With(before.body.credentials!);
    await oldS3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `users/${identityId}/a.txt`, Body: 'a' }));
    // The sealed cache entry as it is now, to put back later (as a write that missed the purge would).
    const [member] = await new UserIndex(stack.a.store).members(
      { provider: 'corp', subject: 'carmen' },
      'credentials',
    );
    const cacheKey = (JSON.parse(member!) as { k: string }).k;
    const sealed = await stack.a.store.get(cacheKey);
    assert.ok(sealed);

    await revoke('corp:carmen');
    const policy = stack.aws.rolePolicies.get(READER_ARN)?.get('keywarden-revoked-credentials');
    assert.ok(policy, 'the deny policy is on the role');
    assert.ok(policy.includes(identityId));
    await assert.rejects(
      oldS3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `users/${identityId}/b.txt`, Body: 'b' })),
      (error: Error) => error.name === 'AccessDenied',
    );

    const lifted = await unsuspend('corp:carmen');
    assert.equal(lifted.wasSuspended, true);
    // An entry issued before the revocation is never served again, even if it is still cached.
    await stack.a.store.set(cacheKey, sealed, { ttlMs: 600_000 });
    const afterLift = await vendWithBearer(stack.b, bearer);
    assert.equal(afterLift.status, 200, JSON.stringify(afterLift.body));
    assert.notEqual(afterLift.body.credentials!.accessKeyId, before.body.credentials!.accessKeyId);
    await s3With(afterLift.body.credentials!).send(
      new PutObjectCommand({ Bucket: BUCKET, Key: `users/${identityId}/c.txt`, Body: 'c' }),
    );
    await assert.rejects(
      oldS3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `users/${identityId}/d.txt`, Body: 'd' })),
      (error: Error) => error.name === 'AccessDenied',
      'the old credentials stay revoked',
    );
  });

  it('withdraws a device sign-in approved but not yet redeemed: the CLI gets no token', async () => {
    stack.idp.setAccount('fay', { groups: ['staff'] });
    const fay = await stack.signIn(stack.a, 'fay');
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'keywarden-cli', ...fields }).toString(),
    });
    const started = (await (await fetch(`${stack.b.url}/auth/device/authorize`, form({}))).json()) as {
      device_code: string;
      user_code: string;
    };
    stack.secrets.push(started.device_code);
    const confirm = await fay.get(`/portal/device?user_code=${started.user_code}`).expect(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(confirm.text)?.[1];
    await fay
      .post('/portal/device')
      .type('form')
      .set('Origin', 'https://keywarden.test')
      .send({ _csrf: csrf, user_code: started.user_code, decision: 'approve' })
      .expect(200);
    const lookup = await admin.get('/admin/users/corp:fay').set('X-CSRF', '1').expect(200);
    assert.equal(lookup.body.deviceGrants.length, 1);

    const result = await revoke('corp:fay');
    assert.equal(result.deviceGrants, 1);
    const poll = await fetch(
      `${stack.b.url}/auth/device/token`,
      form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: started.device_code }),
    );
    const answer = (await poll.json()) as { error?: string; access_token?: string };
    assert.equal(poll.status, 400);
    assert.equal(answer.error, 'invalid_grant');
    assert.equal(answer.access_token, undefined);
  });

  it('refuses a CLI token whose grant escaped the revocation (issued in the same moment): no token is left', async () => {
    stack.idp.setAccount('gil', { groups: ['staff'] });
    const gil = await stack.signIn(stack.a, 'gil');
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'keywarden-cli', ...fields }).toString(),
    });
    const started = (await (await fetch(`${stack.a.url}/auth/device/authorize`, form({}))).json()) as {
      device_code: string;
      user_code: string;
    };
    stack.secrets.push(started.device_code);
    const confirm = await gil.get(`/portal/device?user_code=${started.user_code}`).expect(200);
    await gil
      .post('/portal/device')
      .type('form')
      .set('Origin', 'https://keywarden.test')
      .send({
        _csrf: /name="_csrf" value="([^"]+)"/.exec(confirm.text)?.[1],
        user_code: started.user_code,
        decision: 'approve',
      })
      .expect(200);
    // The suspension lands, but (as in a race with the revocation's sweep) the grant is still there.
    await new Suspensions({ store: stack.a.store, audit: { record() {} }, keepMs: 3_600_000 }).suspend(
      { provider: 'corp', subject: 'gil' },
      [],
      { before: Date.now(), until: null },
    );
    const poll = await fetch(
      `${stack.b.url}/auth/device/token`,
      form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: started.device_code }),
    );
    assert.equal(poll.status, 403);
    assert.equal(((await poll.json()) as { code: string }).code, 'user_suspended');
    assert.deepEqual(
      await new UserIndex(stack.a.store).members({ provider: 'corp', subject: 'gil' }, 'cliTokens'),
      [],
      'the token issued a moment before was revoked again',
    );
  });

  it('ends a suspension by itself at the time given', async () => {
    stack.idp.setAccount('dora', { groups: ['staff'] });
    const bearer = await stack.bearer('dora');
    const until = new Date(Date.now() + 1_500).toISOString();
    const result = await revoke('corp:dora', { until });
    assert.equal(result.suspendedUntil, until);
    assert.equal((await vendWithBearer(stack.a, bearer)).body.code, 'user_suspended');
    await new Promise((resolve) => setTimeout(resolve, 1_700));
    assert.equal((await vendWithBearer(stack.b, bearer)).status, 200);
  });

  it('ends one session by its id, on every instance, and leaves the others', async () => {
    stack.idp.setAccount('emil', { groups: ['staff'] });
    const first = await stack.signIn(stack.a, 'emil');
    const second = await stack.signIn(stack.b, 'emil');
    const lookup = await admin.get('/admin/users/corp:emil').set('X-CSRF', '1').expect(200);
    assert.equal(lookup.body.sessions.length, 2);
    const mine = await first.get('/auth/session');
    assert.equal(mine.status, 200);
    // The newest session is listed first; end the other one (the first browser's).
    const [newest, oldest] = lookup.body.sessions;
    assert.ok(newest.lastSeenAt >= oldest.lastSeenAt);
    const ended = await admin.delete(`/admin/users/corp:emil/sessions/${oldest.id}`).set('X-CSRF', '1');
    assert.equal(ended.status, 204);
    assert.equal((await first.withApp(stack.b.url).get('/auth/session')).status, 401);
    assert.equal((await second.withApp(stack.a.url).get('/auth/session')).status, 200);
    const again = await admin.delete(`/admin/users/corp:emil/sessions/${oldest.id}`).set('X-CSRF', '1');
    assert.equal(again.status, 404);
    assert.equal(again.body.code, 'unknown_session');
  });
});
