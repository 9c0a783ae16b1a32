import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import { establishSession, revokeSessions, sessionAuthenticator } from '../src/auth/session/session.ts';
import { createSessionMiddleware } from '../src/auth/session/session-middleware.ts';
import { authenticate } from '../src/http/middleware/authenticate.ts';
import { errorHandler } from '../src/http/middleware/error-handler.ts';
import { requestScope } from '../src/http/middleware/request-id.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { COOKIE, SESSION_SECRET } from './fixtures/oidc/keywarden-oidc.ts';
import { BrowserSession } from './support/browser-session.ts';
import { captureLogs } from './support/logs.ts';
import { testConfig } from './support/test-config.ts';

/**
 * The session module on its own (memory store through the StateStore adapter): the guest
 * session the guest engineer creates, the guest → sign-in upgrade, and revocation by subject.
 */
function sessionApp() {
  const config = testConfig({ server: { trustProxyHops: 1 }, session: { secret: SESSION_SECRET } });
  const store = new MemoryStore();
  const app = express();
  app.set('trust proxy', 1);
  app.use(requestScope());
  app.use(createSessionMiddleware({ config, store, logger: captureLogs().logger }));
  app.use(authenticate([sessionAuthenticator()]));
  app.post('/guest/:id', async (req, res) => {
    const identityId = String(req.params.id);
    await establishSession(req, {
      principal: { kind: 'guest', provider: 'guest', subject: identityId, claims: {} },
      provider: 'guest',
      guestIdentityId: identityId,
    });
    res.json({});
  });
  app.post('/user/:subject', async (req, res) => {
    await establishSession(req, {
      principal: { kind: 'user', provider: 'corp', subject: String(req.params.subject), claims: {} },
      provider: 'corp',
    });
    res.json({});
  });
  app.get('/who', (req, res) => {
    res.json({ scope: req.scope, record: req.session?.auth ?? null });
  });
  app.use(errorHandler(captureLogs().logger));
  return { app, store };
}

describe('establishSession', () => {
  it('creates a guest session and carries its identity into the signed-in session', async () => {
    const { app, store } = sessionApp();
    const browser = new BrowserSession(app);
    await browser.post('/guest/eu-west-1:guest-1').expect(200);
    const guestSessionId = browser.sessionId(COOKIE)!;
    const asGuest = (await browser.get('/who').expect(200)).body;
    assert.equal(asGuest.scope.authMethod, 'session');
    assert.equal(asGuest.scope.principal.kind, 'guest');
    assert.equal(asGuest.scope.identityId, 'eu-west-1:guest-1');

    await browser.post('/user/alice').expect(200);
    assert.notEqual(browser.sessionId(COOKIE), guestSessionId);
    assert.equal(await store.get(`sess:${guestSessionId}`), null);
    const asUser = (await browser.get('/who').expect(200)).body;
    assert.equal(asUser.scope.principal.subject, 'alice');
    assert.equal(asUser.record.guestIdentityId, 'eu-west-1:guest-1');
    assert.equal(asUser.scope.identityId, undefined); // resolved later by the identity service

    // A second sign-in of another user in the same browser does not inherit the guest identity.
    await browser.post('/user/bob').expect(200);
    assert.equal((await browser.get('/who').expect(200)).body.record.guestIdentityId, undefined);
  });

  it('revokes every session of a subject, and only those', async () => {
    const { app, store } = sessionApp();
    const laptop = new BrowserSession(app);
    const phone = new BrowserSession(app);
    const other = new BrowserSession(app);
    await laptop.post('/user/carol').expect(200);
    await phone.post('/user/carol').expect(200);
    await other.post('/user/dave').expect(200);
    assert.equal(await revokeSessions(store, { provider: 'corp', subject: 'carol' }), 2);
    assert.equal((await laptop.get('/who').expect(200)).body.record, null);
    assert.equal((await phone.get('/who').expect(200)).body.record, null);
    assert.equal((await other.get('/who').expect(200)).body.record.principal.subject, 'dave');
    assert.equal(await revokeSessions(store, { provider: 'corp', subject: 'carol' }), 0);
  });
});
