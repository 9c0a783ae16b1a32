/**
 * fromKeywarden against a real keywarden (AWS test double behind it): what an app relies on
 * when it hands the provider to an AWS SDK client — credentials with their expiry, one
 * /credentials request however many callers ask, a refresh before they expire, 401 handed to
 * the app's hook, 503 retried after Retry-After within a bound.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKeywardenClient, type FetchLike, fromKeywarden, KeywardenError } from '../src/index.ts';
import { startKeywarden, type TestKeywarden } from './support/keywarden.ts';

let keywarden: TestKeywarden;

before(async () => {
  keywarden = await startKeywarden({
    // keywarden's own cache hands out only credentials with more than 897 s left, so a client
    // that refreshes at 896 s gets new ones, a few seconds after the first (see the refresh test).
    cache: { minRemainingSeconds: 897, refreshAheadSeconds: 897 },
  });
});

after(async () => {
  await keywarden?.close();
});

/** A fetch that counts what the client sends, by `METHOD path`. */
function countingFetch() {
  const sent: string[] = [];
  const fetchImpl: FetchLike = (url, init) => {
    sent.push(`${init.method} ${new URL(url).pathname}`);
    return fetch(url, init);
  };
  return { fetchImpl, count: (name: string) => sent.filter((entry) => entry === name).length };
}

describe('fromKeywarden with a bearer token', () => {
  it('answers the vended credentials with their expiration, identity and role', async () => {
    const provider = fromKeywarden({
      baseUrl: keywarden.url,
      getToken: () => keywarden.tokenFor('reader-1'),
      durationSeconds: 900,
    });
    const credentials = await provider();
    const vended = keywarden.aws.credentials.get(credentials.accessKeyId);
    assert.ok(vended, 'credentials STS vended');
    assert.equal(credentials.secretAccessKey, vended.secretAccessKey);
    assert.equal(credentials.sessionToken, vended.sessionToken);
    assert.ok(credentials.expiration instanceof Date);
    assert.ok(Math.abs(credentials.expiration.getTime() - vended.expiration) < 1000);
    assert.equal(credentials.identityId, vended.identityId);
    assert.equal(credentials.role, 'reader');
  });

  it('is memoized, and refreshes refreshBeforeSeconds before expiry, while the old ones are still valid', async () => {
    const { fetchImpl, count } = countingFetch();
    const provider = fromKeywarden({
      baseUrl: keywarden.url,
      fetch: fetchImpl,
      getToken: () => keywarden.tokenFor('refresher'),
      durationSeconds: 900,
      refreshBeforeSeconds: 896,
    });
    const first = await provider();
    const again = await provider();
    assert.equal(again, first, 'the same credentials, from memory');
    assert.equal(count('POST /credentials'), 1);

    // Wait (no faster clock anywhere) until the credentials are within 896 s of expiring.
    const refreshAt = first.expiration.getTime() - 896_000;
    await sleep(Math.max(0, refreshAt - Date.now()) + 100);
    const refreshed = await provider();
    assert.equal(count('POST /credentials'), 2, 'one new request once inside the refresh window');
    assert.ok(Date.now() < first.expiration.getTime(), 'before the old credentials expired');
    assert.notEqual(refreshed.accessKeyId, first.accessKeyId, 'new credentials');
    assert.ok(refreshed.expiration > first.expiration);
    assert.equal(refreshed.identityId, first.identityId);
    assert.equal(await provider(), refreshed, 'memoized again');
    assert.equal(count('POST /credentials'), 2);
  });

  it('fetches again when the SDK forces a refresh', async () => {
    const { fetchImpl, count } = countingFetch();
    const provider = fromKeywarden({
      baseUrl: keywarden.url,
      fetch: fetchImpl,
      getToken: () => keywarden.tokenFor('forced'),
    });
    await provider();
    await provider({ forceRefresh: true });
    assert.equal(count('POST /credentials'), 2);
  });

  it('single flight: 100 concurrent callers share exactly one /credentials request', async () => {
    const { fetchImpl, count } = countingFetch();
    const before = keywarden.received('POST', '/credentials');
    let tokens = 0;
    const provider = fromKeywarden({
      baseUrl: keywarden.url,
      fetch: fetchImpl,
      getToken: () => {
        tokens++;
        return keywarden.tokenFor('crowd');
      },
    });
    const results = await Promise.all(Array.from({ length: 100 }, () => provider()));
    assert.equal(count('POST /credentials'), 1, 'the client sent one request');
    assert.equal(keywarden.received('POST', '/credentials') - before, 1, 'keywarden received one request');
    assert.equal(tokens, 1, 'and asked the app for one token');
    assert.ok(results.every((result) => result === results[0]));
  });

  it('a refused token: the onSignInRequired hook gets the 401, then the provider rejects with it', async () => {
    const expired = await keywarden.issuer.sign({
      aud: 'https://api.keywarden.test',
      sub: 'late',
      iat: Math.floor(Date.now() / 1000) - 600,
      exp: Math.floor(Date.now() / 1000) - 300,
    });
    const seen: KeywardenError[] = [];
    const provider = fromKeywarden({
      baseUrl: keywarden.url,
      getToken: () => expired,
      onSignInRequired: (error) => {
        seen.push(error);
      },
    });
    const error = await provider().then(
      () => assert.fail('expected a 401'),
      (thrown: unknown) => thrown,
    );
    assert.ok(error instanceof KeywardenError);
    assert.equal(error.status, 401);
    assert.equal(error.code, 'invalid_token');
    assert.match(error.requestId ?? '', /\S/, 'the request id to quote');
    assert.equal(error.problem?.status, 401);
    assert.deepEqual(seen, [error]);
  });

  it('no token and no session: 401 unauthenticated, hook called', async () => {
    const seen: string[] = [];
    const client = createKeywardenClient({
      baseUrl: keywarden.url,
      getToken: () => undefined,
      onSignInRequired: (error) => {
        seen.push(error.code);
      },
    });
    await assert.rejects(client.credentials()(), {
      name: 'KeywardenError',
      status: 401,
      code: 'unauthenticated',
    });
    assert.deepEqual(seen, ['unauthenticated']);
  });

  it('keywarden errors other than 401 are thrown with their code and do not call the hook', async () => {
    let hooked = false;
    const provider = fromKeywarden({
      baseUrl: keywarden.url,
      getToken: () => keywarden.tokenFor('wants-admin'),
      role: 'admin',
      onSignInRequired: () => {
        hooked = true;
      },
    });
    await assert.rejects(provider(), { status: 403, code: 'role_not_allowed' });
    assert.equal(hooked, false);
  });
});

describe('503 with Retry-After (AWS throttling keywarden)', () => {
  // keywarden's SDK makes 2 attempts per request (test config); each exhausted pair of
  // throttled Cognito calls is one 503 with Retry-After: 2 to the client.
  const THROTTLED = 'GetOpenIdTokenForDeveloperIdentity';

  it('is retried after Retry-After and then succeeds', async () => {
    const { fetchImpl, count } = countingFetch();
    keywarden.aws.failNext(THROTTLED, 'throttle', 2);
    const provider = fromKeywarden({
      baseUrl: keywarden.url,
      fetch: fetchImpl,
      getToken: () => keywarden.tokenFor('patient-1'),
    });
    const credentials = await provider();
    assert.ok(keywarden.aws.credentials.has(credentials.accessKeyId));
    assert.equal(count('POST /credentials'), 2, 'one 503, one success');
  });

  it('gives up after maxRetries and throws the 503 with its retryAfter', async () => {
    const { fetchImpl, count } = countingFetch();
    keywarden.aws.failNext(THROTTLED, 'throttle', 4);
    const provider = fromKeywarden({
      baseUrl: keywarden.url,
      fetch: fetchImpl,
      getToken: () => keywarden.tokenFor('patient-2'),
      retry: { maxRetries: 1 },
    });
    await assert.rejects(provider(), { status: 503, code: 'service_unavailable', retryAfter: 2 });
    assert.equal(count('POST /credentials'), 2, 'the first try and one retry');
    keywarden.aws.reset();
  });

  it('does not wait longer than maxRetryAfterSeconds: the 503 is thrown at once', async () => {
    const { fetchImpl, count } = countingFetch();
    keywarden.aws.failNext(THROTTLED, 'throttle', 2);
    const provider = fromKeywarden({
      baseUrl: keywarden.url,
      fetch: fetchImpl,
      getToken: () => keywarden.tokenFor('patient-3'),
      retry: { maxRetryAfterSeconds: 1 },
    });
    await assert.rejects(provider(), { status: 503, retryAfter: 2 });
    assert.equal(count('POST /credentials'), 1);
    keywarden.aws.reset();
  });
});
