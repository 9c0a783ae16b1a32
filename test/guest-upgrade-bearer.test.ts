import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { GuestTokens } from '../src/identity/guest-tokens.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { credentialOverrides, DEVELOPER_PROVIDER } from './fixtures/credentials/config.ts';
import { countCalls, type Instance, mergeOverrides, startInstance } from './fixtures/credentials/harness.ts';
import { type AwsDouble, startAwsDouble } from './support/aws-double/index.ts';
import { type JwksIssuer, startJwksIssuer } from './support/jwks-issuer.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';

/**
 * A mobile guest (guest token) signs in with its IdP and keeps its identity: real HTTP, a real
 * JWKS issuer, the AWS test double's Cognito linking and merge semantics.
 */

const API = 'https://api.keywarden.test';
const GUEST_CHALLENGE = 'GuestToken realm="keywarden", error="invalid_token"';

let aws: AwsDouble;
let idp: JwksIssuer;
let kw: Instance;
let store: MemoryStore;
const secrets: string[] = [];

async function bearer(sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  const jwt = await idp.sign({ aud: API, sub, ...claims });
  secrets.push(jwt);
  return jwt;
}

async function newGuest(): Promise<{ identityId: string; guestToken: string }> {
  const response = await request(kw.url).post('/identities/guest').send({ mode: 'token' });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  secrets.push(response.body.guestToken);
  return response.body;
}

async function guestCredentials(guestToken: string): Promise<request.Response> {
  const response = await request(kw.url).post('/credentials').set('X-Guest-Token', guestToken).send({});
  if (response.status === 200) secrets.push(response.body.credentials.secretAccessKey);
  return response;
}

async function userCredentials(jwt: string): Promise<request.Response> {
  const response = await request(kw.url).post('/credentials').set('Authorization', `Bearer ${jwt}`).send({});
  if (response.status === 200) secrets.push(response.body.credentials.secretAccessKey);
  return response;
}

async function upgrade(jwt: string, guestToken: string): Promise<request.Response> {
  const response = await request(kw.url)
    .post('/identities/guest')
    .set('Authorization', `Bearer ${jwt}`)
    .set('X-Guest-Token', guestToken);
  assertMatchesOpenApi(response, { method: 'post', path: '/identities/guest' });
  return response;
}

/** Links of a guest identity Cognito was asked for (GetOpenIdTokenForDeveloperIdentity with IdentityId). */
function linkCalls(guestIdentityId: string): number {
  return aws.calls.filter(
    (call) =>
      call.operation === 'GetOpenIdTokenForDeveloperIdentity' &&
      (call.params as { IdentityId?: string }).IdentityId === guestIdentityId,
  ).length;
}

function authenticationTypeOf(accessKeyId: string): string | undefined {
  return aws.credentials.get(accessKeyId)?.authenticationType;
}

before(async () => {
  [aws, idp] = await Promise.all([startAwsDouble(), startJwksIssuer()]);
  store = new MemoryStore();
  kw = await startInstance(
    aws,
    mergeOverrides(credentialOverrides({ endpoint: aws.url }), {
      bearer: { issuers: { mobile: { issuer: idp.issuer, jwksUri: idp.jwksUri, audiences: [API] } } },
    }),
    store,
  );
});

after(async () => {
  kw.logs.assertNoneContain(secrets);
  await kw.close();
  await Promise.all([idp.close(), aws.close()]);
});

describe('mobile guest → bearer sign-in upgrade', () => {
  it('keeps the guest identity: same id, now the authenticated role, and the guest token is used up', async () => {
    const guest = await newGuest();
    const asGuest = await guestCredentials(guest.guestToken);
    assert.equal(asGuest.status, 200, JSON.stringify(asGuest.body));
    assert.equal(asGuest.body.identityId, guest.identityId);
    assert.equal(asGuest.body.role, 'guest');
    assert.equal(authenticationTypeOf(asGuest.body.credentials.accessKeyId), 'unauthenticated');

    const jwt = await bearer('new-user');
    const upgraded = await upgrade(jwt, guest.guestToken);
    assert.equal(upgraded.status, 200, JSON.stringify(upgraded.body));
    assert.deepEqual(upgraded.body, { identityId: guest.identityId });
    assert.equal(upgraded.headers['cache-control'], 'no-store');
    assert.equal(linkCalls(guest.identityId), 1);
    const call = aws.calls.findLast((c) => c.operation === 'GetOpenIdTokenForDeveloperIdentity');
    assert.ok(call);
    assert.deepEqual((call.params as { Logins?: unknown }).Logins, {
      [DEVELOPER_PROVIDER]: 'mobile:new-user',
    });

    const asUser = await userCredentials(jwt);
    assert.equal(asUser.status, 200, JSON.stringify(asUser.body));
    assertMatchesOpenApi(asUser, { method: 'post', path: '/credentials' });
    assert.equal(asUser.body.identityId, guest.identityId, 'the signed-in user kept the guest identity');
    assert.equal(asUser.body.role, 'reader');
    assert.equal(authenticationTypeOf(asUser.body.credentials.accessKeyId), 'authenticated');

    // The old guest token no longer works, not even for another upgrade attempt.
    const stale = await guestCredentials(guest.guestToken);
    assert.equal(stale.status, 401);
    assert.equal(stale.body.code, 'invalid_guest_token');
    assert.equal(stale.headers['www-authenticate'], GUEST_CHALLENGE);
    assertMatchesOpenApi(stale, { method: 'post', path: '/credentials' });
    const again = await upgrade(jwt, guest.guestToken);
    assert.equal(again.status, 401);
    assert.equal(again.body.code, 'invalid_guest_token');
    assert.equal(linkCalls(guest.identityId), 1, 'nothing is linked twice');

    const audit = kw.logs
      .records()
      .find((r) => r.event === 'identity.linked' && r.guestIdentityId === guest.identityId);
    assert.equal(audit?.outcome, 'success');
    assert.equal(audit?.merged, false);
  });

  it('merges the guest into the identity a user already has: the user keeps theirs, the guest id resolves to it', async () => {
    const jwt = await bearer('returning-user');
    const first = await userCredentials(jwt);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const userIdentity = first.body.identityId as string;

    const guest = await newGuest();
    assert.notEqual(guest.identityId, userIdentity);
    const upgraded = await upgrade(await bearer('returning-user'), guest.guestToken);
    assert.equal(upgraded.status, 200, JSON.stringify(upgraded.body));
    assert.deepEqual(upgraded.body, { identityId: userIdentity }, 'the answer says the id changed');
    assert.equal(linkCalls(guest.identityId), 1);

    const later = await userCredentials(jwt);
    assert.equal(later.body.identityId, userIdentity);
    // Cognito merged the guest identity into the user's: it no longer gets unauthenticated tokens.
    const guestNow = await fetch(aws.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'AWSCognitoIdentityService.GetOpenIdToken',
      },
      body: JSON.stringify({ IdentityId: guest.identityId }),
    });
    assert.equal(guestNow.status, 400);
    assert.match(String(((await guestNow.json()) as { __type?: unknown }).__type), /NotAuthorizedException/);

    const stale = await guestCredentials(guest.guestToken);
    assert.equal(stale.status, 401);
    const audit = kw.logs
      .records()
      .find((r) => r.event === 'identity.linked' && r.guestIdentityId === guest.identityId);
    assert.equal(audit?.merged, true);
  });

  it('a bad, unknown, expired or empty guest token next to a valid bearer is a 401 and links nothing', async () => {
    const jwt = await bearer('careful-user');
    const expiring = new GuestTokens(store, 1);
    const guest = await newGuest();
    const shortLived = await expiring.issue(guest.identityId);
    secrets.push(shortLived);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const developerCalls = countCalls(aws, 'GetOpenIdTokenForDeveloperIdentity');
    for (const token of ['nonsense', '', 'kwg_short', `kwg_${'x'.repeat(43)}`, shortLived]) {
      const response = await upgrade(jwt, token);
      assert.equal(response.status, 401, `${token}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.code, 'invalid_guest_token');
      assert.equal(response.headers['www-authenticate'], GUEST_CHALLENGE);
    }
    assert.equal(countCalls(aws, 'GetOpenIdTokenForDeveloperIdentity'), developerCalls, 'no AWS call at all');
    const rejected = kw.logs
      .records()
      .filter((r) => r.event === 'token.rejected' && r.subject === 'careful-user');
    assert.equal(rejected.length, 5);

    // The guest is untouched and keeps working as a guest.
    const stillGuest = await guestCredentials(guest.guestToken);
    assert.equal(stillGuest.status, 200);
    assert.equal(stillGuest.body.identityId, guest.identityId);
    assert.equal(stillGuest.body.role, 'guest');
  });

  it('a bad bearer token decides alone: 401 invalid_token and the guest token stays usable', async () => {
    const guest = await newGuest();
    const expired = await idp.sign({ aud: API, sub: 'late', exp: Math.floor(Date.now() / 1000) - 600 });
    secrets.push(expired);
    const response = await upgrade(expired, guest.guestToken);
    assert.equal(response.status, 401);
    assert.equal(response.body.code, 'invalid_token');
    assert.equal(linkCalls(guest.identityId), 0);
    assert.equal((await guestCredentials(guest.guestToken)).status, 200);
  });

  it('when AWS fails the link, the answer is 503 and the guest token is given back for a retry', async () => {
    const guest = await newGuest();
    const jwt = await bearer('unlucky-user');
    aws.failNext('GetOpenIdTokenForDeveloperIdentity', 'internal', 5);
    const failed = await upgrade(jwt, guest.guestToken);
    assert.equal(failed.status, 503, JSON.stringify(failed.body));
    assert.ok(failed.headers['retry-after']);
    aws.reset();

    const retried = await upgrade(jwt, guest.guestToken);
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.deepEqual(retried.body, { identityId: guest.identityId });
    assert.equal((await guestCredentials(guest.guestToken)).status, 401);
  });

  it('two concurrent upgrades with one guest token: one links, the other is refused', async () => {
    const guest = await newGuest();
    const [a, b] = await Promise.all([
      upgrade(await bearer('racer-a'), guest.guestToken),
      upgrade(await bearer('racer-b'), guest.guestToken),
    ]);
    assert.deepEqual([a.status, b.status].sort(), [200, 401]);
    assert.equal(linkCalls(guest.identityId), 1);
  });

  it('without a guest token a bearer caller still has no guest identity (409); the token on /credentials is ignored', async () => {
    const jwt = await bearer('plain-user');
    const conflict = await request(kw.url).post('/identities/guest').set('Authorization', `Bearer ${jwt}`);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.code, 'already_signed_in');
    assertMatchesOpenApi(conflict, { method: 'post', path: '/identities/guest' });

    // Only POST /identities/guest upgrades: elsewhere the bearer token alone decides.
    const guest = await newGuest();
    const vend = await request(kw.url)
      .post('/credentials')
      .set('Authorization', `Bearer ${jwt}`)
      .set('X-Guest-Token', guest.guestToken)
      .send({});
    assert.equal(vend.status, 200);
    secrets.push(vend.body.credentials.secretAccessKey);
    assert.notEqual(vend.body.identityId, guest.identityId);
    assert.equal(linkCalls(guest.identityId), 0);
    assert.equal((await guestCredentials(guest.guestToken)).status, 200);
  });

  it('GET /auth/session tells a bearer caller when its token expires', async () => {
    const exp = Math.floor(Date.now() / 1000) + 240;
    const response = await request(kw.url)
      .get('/auth/session')
      .set('Authorization', `Bearer ${await bearer('clock-user', { exp })}`);
    assert.equal(response.status, 200);
    assertMatchesOpenApi(response, { method: 'get', path: '/auth/session' });
    assert.equal(response.body.expiresAt, new Date(exp * 1000).toISOString());
  });
});
