import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { USER_INDEX_KINDS, UserIndex } from '../src/identity/user-index.ts';
import { type AdminStack, credentialSecrets, startAdminStack } from './fixtures/admin/stack.ts';
import { BUCKET, DEVELOPER_PROVIDER } from './fixtures/credentials/config.ts';
import type { Instance } from './fixtures/credentials/harness.ts';
import type { BrowserSession } from './support/browser-session.ts';

/**
 * The identity lifecycle Cognito offers, through keywarden's admin API against the AWS test
 * double, on Redis with two instances: unlink a login, merge two users' identities, delete an
 * identity with everything keywarden holds for it (an erasure request). Each is checked at the
 * double (Cognito's own records) and in keywarden's (the next vend, the lookup, the store).
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

interface Vended {
  status: number;
  body: {
    identityId?: string;
    code?: string;
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  };
}

async function vend(instance: Instance, token: string): Promise<Vended> {
  const response = await fetch(`${instance.url}/credentials?scope=own`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await response.json()) as Vended['body'];
  stack.secrets.push(...credentialSecrets(body));
  return { status: response.status, body };
}

/** The developer logins Cognito (the double) has linked to an identity. */
function cognitoLoginsOf(identityId: string): string[] {
  return [...(stack.aws.identities.get(identityId)?.developerUserIds ?? [])];
}

describe('identity lifecycle through the admin API', () => {
  it('unlinks a login from its identity; the next vend makes a new identity', async () => {
    const token = await stack.bearer('frank');
    const first = await vend(stack.a, token);
    assert.equal(first.status, 200);
    const oldIdentity = first.body.identityId!;

    const unlinked = await admin.post('/admin/users/corp:frank/unlink').set('X-CSRF', '1').send({});
    assert.equal(unlinked.status, 200, JSON.stringify(unlinked.body));
    assert.equal(unlinked.body.identityId, oldIdentity);
    const call = stack.aws.calls.find((candidate) => candidate.operation === 'UnlinkDeveloperIdentity');
    assert.deepEqual(call?.params, {
      IdentityId: oldIdentity,
      IdentityPoolId: stack.a.config.aws.pool.identityPoolId,
      DeveloperProviderName: DEVELOPER_PROVIDER,
      DeveloperUserIdentifier: 'corp:frank',
    });
    assert.deepEqual(cognitoLoginsOf(oldIdentity), []);

    const next = await vend(stack.b, token);
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.notEqual(next.body.identityId, oldIdentity, 'not answered from the old identity’s cache entry');
    const lookup = await admin.get('/admin/users/corp:frank').set('X-CSRF', '1').expect(200);
    assert.equal(lookup.body.cognito.identityId, next.body.identityId);
    assert.ok(!lookup.body.identityIds.includes(oldIdentity), 'keywarden forgot the old identity');

    const nobody = await admin.post('/admin/users/corp:nobody/unlink').set('X-CSRF', '1').send({});
    assert.equal(nobody.status, 404);
    assert.equal(nobody.body.code, 'unknown_identity');
  });

  it("merges one user's identity into another's; keywarden then resolves both to the survivor", async () => {
    const gus = await stack.bearer('gus');
    const hana = await stack.bearer('hana');
    const gusIdentity = (await vend(stack.a, gus)).body.identityId!;
    const hanaIdentity = (await vend(stack.b, hana)).body.identityId!;
    assert.notEqual(gusIdentity, hanaIdentity);

    const merged = await admin
      .post('/admin/users/corp:gus/merge')
      .set('X-CSRF', '1')
      .send({ into: 'corp:hana' });
    assert.equal(merged.status, 200, JSON.stringify(merged.body));
    assert.equal(merged.body.identityId, hanaIdentity);
    const call = stack.aws.calls.find((candidate) => candidate.operation === 'MergeDeveloperIdentities');
    assert.deepEqual(call?.params, {
      SourceUserIdentifier: 'corp:gus',
      DestinationUserIdentifier: 'corp:hana',
      DeveloperProviderName: DEVELOPER_PROVIDER,
      IdentityPoolId: stack.a.config.aws.pool.identityPoolId,
    });

    const again = await vend(stack.b, gus);
    assert.equal(again.status, 200);
    assert.equal(again.body.identityId, hanaIdentity, 'gus now vends for the surviving identity');
    const lookup = await admin.get('/admin/users/corp:gus').set('X-CSRF', '1').expect(200);
    assert.deepEqual([...lookup.body.cognito.logins].sort(), ['corp:gus', 'corp:hana']);

    const bad = await admin.post('/admin/users/corp:gus/merge').set('X-CSRF', '1').send({ into: 'nope' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'invalid_user');
  });

  it('deletes an identity with everything keywarden holds for it, and denies its outstanding credentials', async () => {
    stack.idp.setAccount('ivan', { name: 'Ivan', groups: ['staff'] });
    const browser = await stack.signIn(stack.a, 'ivan');
    const cliToken = await stack.cliToken(browser);
    const bearer = await stack.bearer('ivan');
    const vended = await vend(stack.b, bearer);
    assert.equal(vended.status, 200);
    const identityId = vended.body.identityId!;
    const s3 = new S3Client({
      endpoint: stack.aws.url,
      region: stack.aws.region,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: {
        accessKeyId: vended.body.credentials!.accessKeyId,
        secretAccessKey: vended.body.credentials!.secretAccessKey,
        sessionToken: vended.body.credentials!.sessionToken,
      },
    });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `users/${identityId}/mine.txt`, Body: 'x' }));

    const erased = await admin.delete('/admin/users/corp:ivan/identity').set('X-CSRF', '1');
    assert.equal(erased.status, 200, JSON.stringify(erased.body));
    assert.deepEqual(erased.body.deletedIdentityIds, [identityId]);
    assert.deepEqual(erased.body.unprocessed, []);
    assert.equal(erased.body.sessions, 1);
    assert.equal(erased.body.cliTokens, 1);
    assert.equal(erased.body.issuedCredentials.revoked, true);
    const call = stack.aws.calls.find((candidate) => candidate.operation === 'DeleteIdentities');
    assert.deepEqual(call?.params, { IdentityIdsToDelete: [identityId] });

    assert.equal((await browser.withApp(stack.b.url).get('/auth/session')).status, 401);
    assert.equal((await vend(stack.a, cliToken)).status, 401);
    await assert.rejects(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `users/${identityId}/again.txt`, Body: 'y' })),
      (error: Error) => error.name === 'AccessDenied',
    );
    // Nothing of ivan is left in keywarden's store: no index, no identity record, no counters.
    const index = new UserIndex(stack.a.store);
    for (const kind of USER_INDEX_KINDS) {
      assert.deepEqual(await index.members({ provider: 'corp', subject: 'ivan' }, kind), [], kind);
    }
    const lookup = await admin.get('/admin/users/corp:ivan').set('X-CSRF', '1').expect(200);
    assert.deepEqual(lookup.body.identityIds, []);
    assert.equal(lookup.body.cognito, null, 'Cognito no longer knows the login');
    assert.equal(lookup.body.suspension, null, 'an erasure is not a suspension');

    // Erased, not banned: the user may come back, as a new identity.
    const back = await vend(stack.a, bearer);
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.notEqual(back.body.identityId, identityId);
  });
});
