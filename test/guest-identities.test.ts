import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { credentialOverrides } from './fixtures/credentials/config.ts';
import { countCalls, type Instance, mergeOverrides, startInstance } from './fixtures/credentials/harness.ts';
import {
  type AwsDouble,
  DEFAULT_DEVELOPER_PROVIDER_NAME,
  DEFAULT_IDENTITY_POOL_ID,
  startAwsDouble,
} from './support/aws-double/index.ts';
import { type JwksIssuer, startJwksIssuer } from './support/jwks-issuer.ts';

/** POST /identities/guest and the guest token authenticator. */

const API = 'https://api.keywarden.test';

/** A memory store that remembers every value written, to prove what is (not) stored. */
class RecordingStore extends MemoryStore {
  readonly written: Array<[string, string]> = [];
  override async set(
    key: string,
    value: string,
    options?: Parameters<MemoryStore['set']>[2],
  ): Promise<boolean> {
    this.written.push([key, value]);
    return super.set(key, value, options);
  }
}

let aws: AwsDouble;
let issuer: JwksIssuer;
let kw: Instance;
let store: RecordingStore;

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
      session: { secret: 'guest-test-session-secret-0123456789abcdef' },
      server: { trustProxyHops: 1 },
      bearer: { issuers: { mobile: { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: [API] } } },
    },
    extra,
  );
}

before(async () => {
  [aws, issuer] = await Promise.all([startAwsDouble(), startJwksIssuer()]);
  store = new RecordingStore();
  kw = await startInstance(aws, overrides(), store);
});

after(async () => {
  await kw?.close();
  await Promise.all([issuer?.close(), aws?.close()]);
});

describe('guest identities', () => {
  it('a guest token is 256 random bits, shown once and stored only as a digest', async () => {
    const response = await request(kw.url).post('/identities/guest').send({ mode: 'token' });
    assert.equal(response.status, 201);
    const { guestToken, identityId } = response.body as { guestToken: string; identityId: string };
    assert.equal(Buffer.from(guestToken.slice(4), 'base64url').length, 32);
    assert.ok(
      store.written.some(([key, value]) => key.startsWith('guest:tok:') && value.includes(identityId)),
    );
    for (const [key, value] of store.written) {
      assert.ok(!key.includes(guestToken) && !value.includes(guestToken), 'the token itself is never stored');
    }
    kw.logs.assertNoneContain([guestToken]);
    const audit = kw.logs.records().find((record) => record.event === 'guest.created');
    assert.equal(audit?.identityId, identityId);
  });

  it('the token works as X-Guest-Token and as a raw Authorization value (the SDK container provider)', async () => {
    const { guestToken, identityId } = (await request(kw.url).post('/identities/guest')).body as {
      guestToken: string;
      identityId: string;
    };
    for (const [header, value] of [
      ['X-Guest-Token', guestToken],
      ['Authorization', guestToken],
    ] as const) {
      const response = await request(kw.url).get('/credentials').set(header, value);
      assert.equal(response.status, 200, `${header}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.identityId, identityId);
    }
    const session = await request(kw.url).get('/auth/session').set('X-Guest-Token', guestToken);
    assert.equal(session.body.kind, 'guest');
    assert.equal(session.body.identityId, identityId);
  });

  it('a malformed or unknown guest token is a 401, never a fall-through to anonymous', async () => {
    for (const token of ['nonsense', 'kwg_short', `kwg_${'x'.repeat(43)}`]) {
      const response = await request(kw.url).post('/identities/guest').set('X-Guest-Token', token);
      assert.equal(response.status, 401, token);
      assert.equal(response.body.code, 'invalid_guest_token');
    }
  });

  it('session mode needs X-CSRF: 1; with it the browser gets a session cookie and no token', async () => {
    const refused = await request(kw.url).post('/identities/guest').send({ mode: 'session' });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'csrf_header_missing');
    const getIds = countCalls(aws, 'GetId');
    const browser = await request(kw.url)
      .post('/identities/guest')
      .set('X-CSRF', '1')
      .set('X-Forwarded-Proto', 'https');
    assert.equal(browser.status, 201);
    assert.equal(browser.body.guestToken, undefined);
    assert.ok(String(browser.headers['set-cookie']).includes('HttpOnly'));
    assert.equal(countCalls(aws, 'GetId'), getIds + 1);
  });

  it('a signed-in user has no guest identity (409); bodies must be JSON (415); unknown fields are refused (400)', async () => {
    const token = await issuer.sign({ sub: 'someone', aud: API });
    const user = await request(kw.url).post('/identities/guest').set('Authorization', `Bearer ${token}`);
    assert.equal(user.status, 409);
    assert.equal(user.body.code, 'already_signed_in');
    const text = await request(kw.url)
      .post('/identities/guest')
      .set('Content-Type', 'text/plain')
      .send('mode=token');
    assert.equal(text.status, 415);
    const extra = await request(kw.url)
      .post('/identities/guest')
      .send({ mode: 'token', identityId: 'us-east-1:x' });
    assert.equal(extra.status, 400);
  });

  it('guests switched off → 403 guests_disabled and no GetId', async () => {
    const closed = await startInstance(aws, overrides({ guests: { enabled: false } }));
    try {
      const before = countCalls(aws, 'GetId');
      const response = await request(closed.url).post('/identities/guest');
      assert.equal(response.status, 403);
      assert.equal(response.body.code, 'guests_disabled');
      assert.equal(countCalls(aws, 'GetId'), before);
    } finally {
      await closed.close();
    }
  });
});
