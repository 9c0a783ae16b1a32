import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { createApp } from '../src/app.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { ADMIN_GROUP, type AdminStack, startAdminStack } from './fixtures/admin/stack.ts';
import type { BrowserSession } from './support/browser-session.ts';
import { captureLogs } from './support/logs.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import { testConfig } from './support/test-config.ts';

/**
 * Who may administer: only the callers `admin` in the config names — portal users (and their
 * CLI) with an admin group, bearer callers with the required claim. Everyone else is refused on
 * every admin route (403, audited), anonymous callers get 401, browsers need X-CSRF, and none of
 * the refused calls changes anything. Every action is an audit record naming who did what to
 * whom, with no secret in it.
 */

/** Every admin route, with a body where it takes one. */
const ROUTES: Array<{ method: 'get' | 'post' | 'delete'; path: string; body?: object }> = [
  { method: 'get', path: '/admin/users/corp:victim' },
  { method: 'post', path: '/admin/users/corp:victim/revoke', body: {} },
  { method: 'post', path: '/admin/users/corp:victim/unsuspend', body: {} },
  { method: 'delete', path: '/admin/users/corp:victim/sessions/abcdef' },
  { method: 'post', path: '/admin/users/corp:victim/unlink', body: {} },
  { method: 'post', path: '/admin/users/corp:victim/merge', body: { into: 'corp:other' } },
  { method: 'delete', path: '/admin/users/corp:victim/identity' },
];

let stack: AdminStack;
let root: BrowserSession;
let victim: BrowserSession;

before(async () => {
  stack = await startAdminStack();
  stack.idp.setAccount('victim', { groups: ['staff'] });
  // The bearer rule's claim value, in a portal user's groups: bearer rules apply to bearer tokens only.
  stack.idp.setAccount('mallory', { groups: ['staff', 'kw-api-admins'] });
  root = await stack.signIn(stack.a, 'root');
  victim = await stack.signIn(stack.b, 'victim');
});

after(async () => {
  stack?.a.logs.assertNoneContain(stack.secrets);
  stack?.b.logs.assertNoneContain(stack.secrets);
  await stack?.close();
});

type Call = ReturnType<BrowserSession['get']>;

function send(call: Call, body?: object): Call {
  return body ? call.send(body) : call;
}

async function unchanged(): Promise<void> {
  assert.equal((await victim.get('/auth/session')).status, 200, "the target's session is still there");
  const lookup = await root.get('/admin/users/corp:victim').set('X-CSRF', '1').expect(200);
  assert.equal(lookup.body.suspension, null);
}

describe('admin authorization', () => {
  it('answers 401 to anonymous callers on every admin route', async () => {
    for (const route of ROUTES) {
      const response = await send(request(stack.a.url)[route.method](route.path), route.body);
      assert.equal(response.status, 401, `${route.method} ${route.path}`);
      assert.equal(response.body.code, 'unauthenticated');
      assertMatchesOpenApi(response, route);
      assert.match(String(response.headers['www-authenticate']), /^Bearer realm="keywarden"/);
    }
    await unchanged();
  });

  it('refuses signed-in non-admins everywhere: portal users, their CLI, bearer callers, guests', async () => {
    const mallory = await stack.signIn(stack.a, 'mallory');
    const malloryCli = await stack.cliToken(mallory);
    const plainBearer = await stack.bearer('mallory', { groups: ['staff'] });
    // The portal's admin group, in a bearer token: groups rules apply to portal users only.
    const groupBearer = await stack.bearer('mallory', { groups: [ADMIN_GROUP] });
    const guest = (await (await fetch(`${stack.b.url}/identities/guest`, { method: 'POST' })).json()) as {
      guestToken: string;
    };
    stack.secrets.push(guest.guestToken);
    const callers: Array<[string, (call: Call) => Call]> = [
      [
        'portal user',
        (call) =>
          call.set('Cookie', mallory.cookieHeader()).set('X-Forwarded-Proto', 'https').set('X-CSRF', '1'),
      ],
      ['CLI token', (call) => call.set('Authorization', `Bearer ${malloryCli}`)],
      ['bearer without the claim', (call) => call.set('Authorization', `Bearer ${plainBearer}`)],
      ['bearer with the portal group', (call) => call.set('Authorization', `Bearer ${groupBearer}`)],
      ['guest token', (call) => call.set('X-Guest-Token', guest.guestToken)],
    ];
    for (const [who, as] of callers) {
      for (const route of ROUTES) {
        const response = await send(as(request(stack.b.url)[route.method](route.path)), route.body);
        assert.equal(response.status, 403, `${who}: ${route.method} ${route.path}`);
        assert.equal(response.body.code, 'admin_required', `${who}: ${route.method} ${route.path}`);
        assertMatchesOpenApi(response, route);
      }
    }
    const denied = stack.b.logs.records().filter((record) => record.event === 'admin.denied');
    assert.ok(denied.length >= ROUTES.length * callers.length);
    assert.ok(denied.every((record) => record.outcome === 'denied'));
    await unchanged();
  });

  it('lets admins in: a portal admin with X-CSRF, their CLI, a bearer token with the admin claim', async () => {
    const noCsrf = await root.get('/admin/users/corp:victim');
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.code, 'csrf_header_missing');
    for (const route of ROUTES.filter((candidate) => candidate.method !== 'get')) {
      const response = await send(root[route.method](route.path), route.body);
      assert.equal(response.status, 403, `${route.method} ${route.path} without X-CSRF`);
      assert.equal(response.body.code, 'csrf_header_missing');
    }
    await unchanged();

    const rootCli = await stack.cliToken(root);
    const byCli = await request(stack.b.url)
      .get('/admin/users/corp:victim')
      .set('Authorization', `Bearer ${rootCli}`);
    assert.equal(byCli.status, 200, JSON.stringify(byCli.body));
    const adminBearer = await stack.bearer('ops-bot', { groups: ['kw-api-admins'] });
    const byBearer = await request(stack.a.url)
      .get('/admin/users/corp:victim')
      .set('Authorization', `Bearer ${adminBearer}`);
    assert.equal(byBearer.status, 200);
    assert.equal(byBearer.headers['cache-control'], 'no-store');
    assert.equal(byBearer.body.sessions.length, 1);
  });

  it('audits every action with who did what to whom and the outcome, and no secret', async () => {
    const target = await stack.signIn(stack.b, 'victim');
    const token = await stack.bearer('victim');
    const vended = await fetch(`${stack.a.url}/credentials`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const vendedBody = (await vended.json()) as {
      credentials: { secretAccessKey: string; sessionToken: string };
    };
    stack.secrets.push(vendedBody.credentials.secretAccessKey, vendedBody.credentials.sessionToken);
    stack.idp.setAccount('other', { groups: ['staff'] });
    await fetch(`${stack.a.url}/credentials`, {
      headers: { authorization: `Bearer ${await stack.bearer('other')}` },
    });

    const described = async (method: 'get' | 'post' | 'delete', path: string, call: Call, status: number) => {
      const response = await call;
      assert.equal(response.status, status, `${method} ${path}: ${response.text.slice(0, 300)}`);
      assertMatchesOpenApi(response, { method, path });
      return response;
    };
    const lookupPath = '/admin/users/corp:victim';
    const lookup = await described('get', lookupPath, root.get(lookupPath).set('X-CSRF', '1'), 200);
    const sessionId = lookup.body.sessions.find(() => true).id;
    const sessionPath = `/admin/users/corp:victim/sessions/${sessionId}`;
    await described('delete', sessionPath, root.delete(sessionPath).set('X-CSRF', '1'), 204);
    await described('delete', sessionPath, root.delete(sessionPath).set('X-CSRF', '1'), 404);
    const revokePath = '/admin/users/corp:victim/revoke';
    const until = new Date(Date.now() + 3_600_000).toISOString();
    await described(
      'post',
      revokePath,
      root.post(revokePath).set('X-CSRF', '1').send({ reason: 'INC-77', until }),
      200,
    );
    await described(
      'post',
      revokePath,
      root.post(revokePath).set('X-CSRF', '1').send({ until: 'soon' }),
      400,
    );
    const unsuspendPath = '/admin/users/corp:victim/unsuspend';
    await described('post', unsuspendPath, root.post(unsuspendPath).set('X-CSRF', '1').send({}), 200);
    const mergePath = '/admin/users/corp:victim/merge';
    await described(
      'post',
      mergePath,
      root.post(mergePath).set('X-CSRF', '1').send({ into: 'corp:other' }),
      200,
    );
    const unlinkPath = '/admin/users/corp:victim/unlink';
    await described('post', unlinkPath, root.post(unlinkPath).set('X-CSRF', '1').send({}), 200);
    await described('post', unlinkPath, root.post(unlinkPath).set('X-CSRF', '1').send({}), 404);
    const erasePath = '/admin/users/corp:victim/identity';
    await described('delete', erasePath, root.delete(erasePath).set('X-CSRF', '1'), 200);
    assert.equal((await target.get('/auth/session')).status, 401);

    const audits = stack.a.logs.records().filter((record) => record.audit === true);
    for (const event of [
      'admin.lookup',
      'admin.session_revoked',
      'admin.user_revoked',
      'admin.user_unsuspended',
      'admin.identities_merged',
      'admin.identity_unlinked',
      'admin.identity_deleted',
    ]) {
      const record = audits.find((candidate) => candidate.event === event);
      assert.ok(record, `an ${event} record`);
      assert.equal(record.actor, 'corp:root', `${event} names the admin`);
      assert.equal(record.target, 'corp:victim', `${event} names the user`);
      assert.equal(record.outcome, 'success', `${event}: ${JSON.stringify(record)}`);
      assert.ok(record.requestId && record.sourceIp, `${event} says where from`);
      for (const value of Object.values(record)) {
        assert.ok(value === null || ['string', 'number', 'boolean'].includes(typeof value));
      }
    }
    const revoked = audits.find((record) => record.event === 'admin.user_revoked')!;
    assert.equal(revoked.reason, undefined);
    assert.equal(revoked.rolesFailed, 0);
    assert.ok(Number(revoked.rolesRevoked) >= 1);
    assert.equal(
      audits.find((record) => record.event === 'admin.identities_merged')?.mergedInto,
      'corp:other',
    );
  });
});

describe('admin is off unless configured, and has its own rate limit', () => {
  it('serves no admin route when admin is not configured', async () => {
    const app = await createApp({
      config: testConfig(),
      store: new MemoryStore(),
      logger: captureLogs().logger,
    });
    const response = await request(app).get('/admin/users/corp:victim');
    assert.equal(response.status, 404);
    assert.equal(response.body.code, 'not_found');
  });

  it('counts admin calls in the admin group', async () => {
    const config = testConfig({
      admin: { enabled: true, groups: ['ops'] },
      rateLimit: { groups: { admin: { perIp: { points: 2, windowSeconds: 60 } } } },
    });
    const app = await createApp({ config, store: new MemoryStore(), logger: captureLogs().logger });
    const statuses: number[] = [];
    for (let index = 0; index < 3; index += 1) {
      const response = await request(app).get('/admin/users/corp:victim');
      statuses.push(response.status);
      assert.match(String(response.headers['ratelimit-policy']), /^"admin";q=2;w=60/);
    }
    assert.deepEqual(statuses, [401, 401, 429]);
  });
});
