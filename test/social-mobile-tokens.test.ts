import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@redis/client';
import request from 'supertest';
import type { RedisStore } from '../src/store/redis/redis-store.ts';
import { credentialOverrides, DEVELOPER_PROVIDER } from './fixtures/credentials/config.ts';
import { type Instance, mergeOverrides, startInstance } from './fixtures/credentials/harness.ts';
import { redisStoreAt } from './fixtures/oidc/keywarden-oidc.ts';
import { type AwsDouble, startAwsDouble } from './support/aws-double/index.ts';
import { type JwksIssuer, startJwksIssuer } from './support/jwks-issuer.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import { type RedisServer, startRedis } from './support/redis-server.ts';
import { type FacebookStandin, startFacebook } from './support/social/facebook.ts';
import { type GithubStandin, startGithub } from './support/social/github.ts';
import { type IntrospectionStandin, startIntrospection } from './support/social/introspection.ts';

/**
 * Mobile apps exchanging their social provider's token for AWS credentials: opaque (non-JWT)
 * Facebook and GitHub user tokens and an enterprise IdP's introspected access tokens, checked by
 * asking the provider (stand-ins answering the documented shapes), cached in a real Redis under
 * the token's digest, and turned into credentials by the AWS test double. Hostile cases: tokens
 * of another app, revoked, expired or unparseable tokens, numeric vs string ids, rate-limited,
 * slow and down providers (503, never 401), and a store that must never hold a raw token.
 */

const FACEBOOK_APP = '1001';
const FACEBOOK_SECRET = 'facebook-app-secret-0123456789abcdef';
const OTHER_FACEBOOK_APP = '2002';
const GITHUB_CLIENT = 'Iv1.keywarden0mobile';
const GITHUB_SECRET = 'github-client-secret-mobile-0123456789';
const INTROSPECTION_CLIENT = 'keywarden-resource-server';
const INTROSPECTION_SECRET = 'introspection-secret-0123456789abcdef';
const API = 'https://api.keywarden.test';

let aws: AwsDouble;
let redis: RedisServer;
let store: RedisStore;
let facebook: FacebookStandin;
let github: GithubStandin;
let corp: IntrospectionStandin;
let jwt: JwksIssuer;
let kw: Instance;
const secrets: string[] = [FACEBOOK_SECRET, GITHUB_SECRET, INTROSPECTION_SECRET];

function bearer(token: string, issuer?: string) {
  return (test: request.Test) => {
    test.set('Authorization', `Bearer ${token}`);
    if (issuer) test.set('X-Token-Issuer', issuer);
    return test;
  };
}

async function credentials(token: string, issuer?: string): Promise<request.Response> {
  const response = await bearer(token, issuer)(request(kw.url).post('/credentials')).send({});
  if (response.status === 200) secrets.push(response.body.credentials.secretAccessKey);
  return response;
}

async function whoAmI(token: string, issuer?: string): Promise<request.Response> {
  return bearer(token, issuer)(request(kw.url).get('/auth/session'));
}

function assertInvalidToken(response: request.Response, description?: RegExp): void {
  assert.equal(response.status, 401, JSON.stringify(response.body));
  assert.equal(response.body.code, 'invalid_token');
  assert.match(
    String(response.headers['www-authenticate']),
    /^Bearer realm="keywarden", error="invalid_token"/,
  );
  if (description) assert.match(response.body.detail, description);
}

function assertUnavailable(response: request.Response): void {
  assert.equal(response.status, 503, JSON.stringify(response.body));
  assert.equal(response.body.code, 'service_unavailable');
  assert.ok(Number(response.headers['retry-after']) >= 1, 'Retry-After');
}

function developerLogins(): string[] {
  return aws.calls
    .filter((call) => call.operation === 'GetOpenIdTokenForDeveloperIdentity')
    .map((call) => Object.values((call.params as { Logins: Record<string, string> }).Logins).join());
}

function mobileToken(key: string): string {
  const token = facebook.issueToken(key);
  secrets.push(token);
  return token;
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

before(async () => {
  redis = await startRedis();
  [aws, store, jwt] = await Promise.all([startAwsDouble(), redisStoreAt(redis.url), startJwksIssuer()]);
  [facebook, github, corp] = await Promise.all([
    startFacebook({
      apps: { [FACEBOOK_APP]: FACEBOOK_SECRET, [OTHER_FACEBOOK_APP]: 'another-apps-secret-0123456789' },
      redirectUri: 'https://keywarden.test/auth/callback/facebook',
    }),
    startGithub({
      apps: { [GITHUB_CLIENT]: GITHUB_SECRET, 'Iv1.some0other0app': 'other-app-secret-0123456789' },
      redirectUri: 'https://keywarden.test/auth/callback/github',
    }),
    startIntrospection({ clientId: INTROSPECTION_CLIENT, clientSecret: INTROSPECTION_SECRET }),
  ]);
  facebook.addUser({ key: 'fran', id: '10150123', name: 'Fran Book', email: 'fran@example.test' });
  facebook.addUser({ key: 'gabe', id: '10150456', name: 'Gabe Book' });
  github.addUser({
    id: 101,
    login: 'octocat',
    name: 'Mona Octocat',
    emails: [{ email: 'mona@example.test', primary: true, verified: true }],
    orgs: ['acme'],
  });
  const fast = { timeoutMs: 500, failureBackoffSeconds: 1 };
  kw = await startInstance(
    aws,
    mergeOverrides(credentialOverrides({ endpoint: aws.url }), {
      bearer: {
        issuers: {
          // A deployment writes kind, app id and secret; the URLs point the defaults at the stand-ins.
          facebook: {
            kind: 'facebook',
            appId: FACEBOOK_APP,
            appSecret: FACEBOOK_SECRET,
            debugTokenUrl: `${facebook.graph}/debug_token`,
            userInfo: { url: `${facebook.graph}/me?fields=id,name,email` },
            ...fast,
          },
          github: {
            kind: 'github',
            clientId: GITHUB_CLIENT,
            clientSecret: GITHUB_SECRET,
            checkTokenUrl: `${github.url}/applications/{clientId}/token`,
            userInfo: {
              url: `${github.url}/user`,
              extraCalls: { emails: `${github.url}/user/emails`, orgs: `${github.url}/user/orgs` },
            },
            ...fast,
          },
          corp: {
            kind: 'introspection',
            introspectionEndpoint: corp.endpoint,
            issuer: corp.url,
            clientId: INTROSPECTION_CLIENT,
            clientSecret: INTROSPECTION_SECRET,
            audiences: [API],
            clientIds: ['corp-mobile'],
            claims: { groups: 'groups' },
            ...fast,
          },
          misconfigured: {
            kind: 'introspection',
            introspectionEndpoint: corp.endpoint,
            clientId: INTROSPECTION_CLIENT,
            clientSecret: 'not-the-secret-the-idp-knows-0123',
            ...fast,
          },
          mobile: { issuer: jwt.issuer, jwksUri: jwt.jwksUri, audiences: [API] },
        },
      },
    }),
    store,
  );
});

after(async () => {
  kw.logs.assertNoneContain([...secrets, ...facebook.issued, ...github.issued]);
  await kw.close();
  await store.close();
  await Promise.all([aws.close(), facebook.close(), github.close(), corp.close(), jwt.close(), redis.stop()]);
});

describe('Facebook access tokens (debug_token)', () => {
  it('exchanges a Facebook token for AWS credentials as facebook:<user id>, the browser sign-in identity', async () => {
    const token = mobileToken('fran');
    const response = await credentials(token, 'facebook');
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assertMatchesOpenApi(response, { method: 'post', path: '/credentials' });
    assert.equal(response.body.role, 'reader');
    assert.equal(developerLogins().at(-1), 'facebook:10150123');
    assert.equal(
      aws.credentials.get(response.body.credentials.accessKeyId)?.authenticationType,
      'authenticated',
    );

    const me = await whoAmI(token, 'facebook');
    assert.equal(me.status, 200);
    assert.equal(me.body.provider, 'facebook');
    assert.equal(me.body.subject, '10150123');
    assert.equal(me.body.name, 'Fran Book');
    assert.equal(me.body.email, 'fran@example.test');
    assert.equal(me.body.authMethod, 'bearer');
    assert.ok(Date.parse(me.body.expiresAt) > Date.now() + 86_400_000, "the token's own expiry");
  });

  it('refuses a token minted for another app, without asking for its profile', async () => {
    const token = facebook.issueToken('fran', { appId: OTHER_FACEBOOK_APP });
    secrets.push(token);
    const meCalls = facebook.requests.me;
    assertInvalidToken(await credentials(token, 'facebook'), /another app/);
    assert.equal(facebook.requests.me, meCalls);
    const audit = kw.logs
      .records()
      .filter((record) => record.event === 'token.rejected')
      .at(-1);
    assert.equal(audit?.provider, 'facebook');
    assert.match(String(audit?.reason), /another app/);
  });

  it('refuses a revoked, an expired, an unparseable and a page token', async () => {
    const revoked = mobileToken('fran');
    facebook.revoke(revoked);
    assertInvalidToken(await credentials(revoked, 'facebook'), /revoked/);
    const expired = facebook.issueToken('fran', { expiresInSeconds: -60 });
    assertInvalidToken(await credentials(expired, 'facebook'));
    assertInvalidToken(await credentials('EAABnot0a0real0token', 'facebook'));
    const page = facebook.issueToken('fran', { type: 'PAGE' });
    assertInvalidToken(await credentials(page, 'facebook'), /not a user access token/);
  });

  it('maps the user id sent as a string by debug_token and as a number by /me to the same identity', async () => {
    facebook.idAsNumber = true;
    try {
      const response = await credentials(mobileToken('fran'), 'facebook');
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(developerLogins().at(-1), 'facebook:10150123');
    } finally {
      facebook.idAsNumber = false;
    }
  });

  it('asks Facebook once per token: later requests and a replayed bad token are answered from the cache', async () => {
    const token = mobileToken('gabe');
    const before = facebook.requests.debugToken;
    for (let index = 0; index < 3; index += 1) assert.equal((await whoAmI(token, 'facebook')).status, 200);
    assert.equal(facebook.requests.debugToken, before + 1);

    const bad = 'EAABunknown0token0for0the0negative0cache';
    for (let index = 0; index < 3; index += 1) assertInvalidToken(await whoAmI(bad, 'facebook'));
    assert.equal(facebook.requests.debugToken, before + 2, 'a refused token is remembered too');
  });

  it('does not trust a cached token past its own expiry', async () => {
    const token = facebook.issueToken('gabe', { expiresInSeconds: 2 });
    secrets.push(token);
    assert.equal((await whoAmI(token, 'facebook')).status, 200);
    await wait(2_100);
    assertInvalidToken(await whoAmI(token, 'facebook'));
  });

  it('answers 503 with Retry-After when Facebook rate-limits, is slow or is down, then backs off, then recovers', async () => {
    facebook.rateLimited = true;
    try {
      assertUnavailable(await credentials(mobileToken('fran'), 'facebook'));
    } finally {
      facebook.rateLimited = false;
    }
    await wait(1_100); // failureBackoffSeconds
    for (const outage of ['slow', 'down'] as const) {
      facebook.server.slowMs = 3_000;
      facebook.server.outage = outage;
      try {
        assertUnavailable(await credentials(mobileToken('fran'), 'facebook'));
        // Within the backoff the provider is not called again.
        const calls = facebook.requests.debugToken;
        assertUnavailable(await credentials(mobileToken('fran'), 'facebook'));
        assert.equal(facebook.requests.debugToken, calls);
      } finally {
        facebook.server.outage = 'none';
      }
      await wait(1_100);
    }
    assert.equal((await credentials(mobileToken('fran'), 'facebook')).status, 200);
  });
});

describe('GitHub tokens (check a token as this app)', () => {
  it('exchanges a GitHub token for AWS credentials as github:<id>, with the same claims as the web sign-in', async () => {
    const token = github.issueToken('octocat', { clientId: GITHUB_CLIENT });
    const response = await credentials(token, 'github');
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(developerLogins().at(-1), 'github:101');
    const me = await whoAmI(token, 'github');
    assert.equal(me.body.subject, '101');
    assert.equal(me.body.email, 'mona@example.test');
  });

  it('refuses a token the same user gave another app, though GitHub /user would accept it', async () => {
    const token = github.issueToken('octocat', { clientId: 'Iv1.some0other0app' });
    const direct = await fetch(`${github.url}/user`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(direct.status, 200, 'the token itself is valid at GitHub');
    assertInvalidToken(await credentials(token, 'github'), /another app/);
  });

  it('refuses a revoked token, and answers 503 while GitHub rate-limits', async () => {
    const revoked = github.issueToken('octocat', { clientId: GITHUB_CLIENT });
    github.revoke(revoked);
    assertInvalidToken(await credentials(revoked, 'github'));
    github.rateLimited = true;
    try {
      assertUnavailable(
        await credentials(github.issueToken('octocat', { clientId: GITHUB_CLIENT }), 'github'),
      );
    } finally {
      github.rateLimited = false;
    }
  });

  it('refuses a token whose owner has no id', async () => {
    await wait(1_100); // the rate-limit backoff above
    github.omitId = true;
    try {
      assertInvalidToken(
        await credentials(github.issueToken('octocat', { clientId: GITHUB_CLIENT }), 'github'),
        /no usable id/,
      );
    } finally {
      github.omitId = false;
    }
  });
});

describe('RFC 7662 token introspection', () => {
  const claims = (extra: Record<string, unknown> = {}) => ({
    sub: 'emp-42',
    client_id: 'corp-mobile',
    aud: API,
    exp: Math.floor(Date.now() / 1000) + 600,
    name: 'Erin Employee',
    groups: ['admins'],
    ...extra,
  });

  it('accepts an active token of an accepted client and audience; its groups drive role rules', async () => {
    const admin = corp.issue(claims());
    secrets.push(admin);
    const me = await whoAmI(admin, 'corp');
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.subject, 'emp-42');
    assert.equal(me.body.name, 'Erin Employee');
    assert.deepEqual(me.body.allowedRoles, ['admin'], 'groups from the introspection answer');

    const staff = corp.issue(claims({ groups: [] }));
    secrets.push(staff);
    const response = await credentials(staff, 'corp');
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.role, 'reader');
    assert.equal(developerLogins().at(-1), 'corp:emp-42');
  });

  it('refuses inactive, revoked, other-client, other-audience and subject-less tokens', async () => {
    assertInvalidToken(await credentials('at_never_issued_by_the_idp', 'corp'), /not active/);
    const revoked = corp.issue(claims());
    corp.revoke(revoked);
    assertInvalidToken(await credentials(revoked, 'corp'), /not active/);
    assertInvalidToken(
      await credentials(corp.issue(claims({ client_id: 'some-other-app' })), 'corp'),
      /client/,
    );
    assertInvalidToken(
      await credentials(corp.issue(claims({ aud: 'https://other.api' })), 'corp'),
      /audience/,
    );
    assertInvalidToken(await credentials(corp.issue(claims({ sub: undefined })), 'corp'), /subject/);
  });

  it('answers 503 when the IdP refuses keywarden itself or is too slow', async () => {
    assertUnavailable(await credentials(corp.issue(claims()), 'misconfigured'));
    assert.ok(
      kw.logs
        .records()
        .some(
          (record) =>
            record.level === 'error' && /refused keywarden's own client credentials/.test(String(record.msg)),
        ),
    );
    corp.server.slowMs = 3_000;
    corp.server.outage = 'slow';
    try {
      assertUnavailable(await credentials(corp.issue(claims()), 'corp'));
    } finally {
      corp.server.outage = 'none';
    }
  });
});

describe('which issuer checks an opaque token', () => {
  it('needs X-Token-Issuer for an opaque token, sends nothing to a provider without it, and refuses an unknown one', async () => {
    const token = mobileToken('fran');
    const calls = facebook.requests.debugToken;
    assertInvalidToken(await credentials(token), /X-Token-Issuer/);
    assert.equal(facebook.requests.debugToken, calls);
    assertInvalidToken(await credentials(token, 'myspace'), /not configured/);
  });

  it('still takes JWTs by their issuer, and refuses a JWT that is not from the issuer the header names', async () => {
    const token = await jwt.sign({ aud: API, sub: 'jwt-user' });
    secrets.push(token);
    assert.equal((await whoAmI(token)).status, 200);
    assert.equal((await whoAmI(token, 'mobile')).status, 200);
    assertInvalidToken(await whoAmI(token, 'facebook'));
  });

  it('never keeps a raw token in the store, only digests', async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const keys = await client.keys('*');
      const cacheKeys = keys.filter((key) => key.includes('bearer:opaque:'));
      assert.ok(cacheKeys.length > 3, 'verdicts were cached');
      const values = await Promise.all(
        keys.map(async (key) =>
          (await client.type(key)) === 'string' ? ((await client.get(key)) ?? '') : '',
        ),
      );
      const everything = [...keys, ...values].join('\n');
      for (const token of [...facebook.issued, ...github.issued]) assert.ok(!everything.includes(token));
    } finally {
      await client.quit();
    }
  });
});

describe('guest upgrade with a social token', () => {
  it('keeps the guest identity when the guest signs in with Facebook', async () => {
    const guest = await request(kw.url).post('/identities/guest').send({ mode: 'token' });
    assert.equal(guest.status, 201, JSON.stringify(guest.body));
    secrets.push(guest.body.guestToken);
    const token = mobileToken('gabe');
    const upgraded = await bearer(
      token,
      'facebook',
    )(request(kw.url).post('/identities/guest')).set('X-Guest-Token', guest.body.guestToken);
    assert.equal(upgraded.status, 200, JSON.stringify(upgraded.body));
    assert.deepEqual(upgraded.body, { identityId: guest.body.identityId });
    const link = aws.calls.find(
      (call) =>
        call.operation === 'GetOpenIdTokenForDeveloperIdentity' &&
        (call.params as { IdentityId?: string }).IdentityId === guest.body.identityId,
    );
    assert.ok(link, 'the guest identity was passed to Cognito to link the login');
    assert.deepEqual((link.params as { Logins?: unknown }).Logins, {
      [DEVELOPER_PROVIDER]: 'facebook:10150456',
    });
    const asUser = await credentials(token, 'facebook');
    assert.equal(asUser.body.identityId, guest.body.identityId, 'the signed-in user kept the guest identity');
    assert.equal(
      aws.credentials.get(asUser.body.credentials.accessKeyId)?.authenticationType,
      'authenticated',
    );
  });
});
