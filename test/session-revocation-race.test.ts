import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import {
  endSession,
  establishSession,
  revokeSessions,
  type SessionRecord,
  sessionAuthenticator,
} from '../src/auth/session/session.ts';
import { createSessionMiddleware } from '../src/auth/session/session-middleware.ts';
import { authenticate } from '../src/http/middleware/authenticate.ts';
import { errorHandler } from '../src/http/middleware/error-handler.ts';
import { requestScope } from '../src/http/middleware/request-id.ts';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import type { RedisStore } from '../src/store/redis/redis-store.ts';
import type { StateStore } from '../src/store/types.ts';
import { COOKIE, redisStoreAt, SESSION_SECRET } from './fixtures/oidc/keywarden-oidc.ts';
import { BrowserSession } from './support/browser-session.ts';
import { captureLogs } from './support/logs.ts';
import { type RedisServer, startRedis } from './support/redis-server.ts';
import { testConfig } from './support/test-config.ts';

/**
 * A session revoked (back-channel logout, SAML SLO, logout in another tab, sign-in rotating the
 * id) while another request of the same session is still running must stay revoked:
 * the session middleware writes a modified session back when that request ends, and that write must
 * not re-create the deleted record. Run against the memory store and against Redis.
 */

/** Lets a test hold a request inside the session keep-alive hook (where an IdP refresh runs). */
class Gate {
  entered: Promise<void>;
  #enter!: () => void;
  #release!: () => void;
  #released: Promise<void>;
  constructor() {
    this.entered = new Promise((resolve) => {
      this.#enter = resolve;
    });
    this.#released = new Promise((resolve) => {
      this.#release = resolve;
    });
  }
  async pass(): Promise<void> {
    this.#enter();
    await this.#released;
  }
  open(): void {
    this.#release();
  }
}

function sessionApp(store: StateStore) {
  const config = testConfig({ server: { trustProxyHops: 1 }, session: { secret: SESSION_SECRET } });
  let gate: Gate | undefined;
  const app = express();
  app.set('trust proxy', 1);
  app.use(requestScope());
  app.use(createSessionMiddleware({ config, store, logger: captureLogs().logger }));
  app.use(
    authenticate([
      sessionAuthenticator({
        // Stands in for an OIDC refresh: it updates the IdP tokens in place (so the session middleware
        // saves the session when the response ends) after a slow call to the IdP.
        keepAlive: async (_req, record: SessionRecord) => {
          if (gate) await gate.pass();
          record.idp = { ...record.idp, accessTokenExpiresAt: Date.now() + 60_000 };
          return true;
        },
      }),
    ]),
  );
  app.post('/login/:subject', async (req, res) => {
    await establishSession(req, {
      principal: { kind: 'user', provider: 'corp', subject: String(req.params.subject), claims: {} },
      provider: 'corp',
    });
    res.json({});
  });
  app.post('/logout', async (req, res) => {
    await endSession(req);
    res.json({});
  });
  app.get('/who', (req, res) => {
    res.json({ subject: req.scope.principal?.subject ?? null });
  });
  app.use(errorHandler(captureLogs().logger));
  return {
    app,
    hold: () => {
      gate = new Gate();
      return gate;
    },
    releaseAll: () => {
      gate = undefined;
    },
  };
}

let redis: RedisServer;
let redisStore: RedisStore;

before(async () => {
  redis = await startRedis();
  redisStore = await redisStoreAt(redis.url);
});

after(async () => {
  await redisStore?.close();
  await redis?.stop();
});

for (const kind of ['memory', 'redis'] as const) {
  describe(`a session revoked during a running request (${kind} store)`, () => {
    const storeOf = (): StateStore => (kind === 'memory' ? new MemoryStore() : redisStore);

    it('is not re-created by that request saving its refreshed IdP tokens (back-channel logout)', async () => {
      const store = storeOf();
      const { app, hold, releaseAll } = sessionApp(store);
      const browser = new BrowserSession(app);
      await browser.post('/login/alice').expect(200);
      const key = `sess:${browser.sessionId(COOKIE)}`;

      const gate = hold();
      const running = browser.get('/who');
      const answered = running.then((response) => response);
      await gate.entered;
      assert.equal(await revokeSessions(store, { provider: 'corp', subject: 'alice' }), 1);
      assert.equal(await store.get(key), null);
      gate.open();
      // Authenticated before the revocation was visible: this one response still knows the user.
      assert.equal((await answered).status, 200);
      releaseAll();

      assert.equal(await store.get(key), null, 'the revoked record was written back');
      assert.equal((await browser.get('/who').expect(200)).body.subject, null);
    });

    it('is not re-created after a logout in another tab', async () => {
      const store = storeOf();
      const { app, hold, releaseAll } = sessionApp(store);
      const tab1 = new BrowserSession(app);
      await tab1.post('/login/bob').expect(200);
      const tab2 = new BrowserSession(app);
      tab2.setCookie(COOKIE, tab1.cookie(COOKIE)!);
      const key = `sess:${tab1.sessionId(COOKIE)}`;

      const gate = hold();
      const answered = tab1.get('/who').then((response) => response);
      await gate.entered;
      releaseAll(); // tab2's own request must not wait at the gate
      await tab2.post('/logout').expect(200);
      assert.equal(await store.get(key), null);
      gate.open();
      assert.equal((await answered).status, 200);

      assert.equal(await store.get(key), null, 'the logged-out record was written back');
      assert.equal((await tab1.get('/who').expect(200)).body.subject, null);
    });

    it('still saves new sessions and updates live ones', async () => {
      const store = storeOf();
      const { app } = sessionApp(store);
      const browser = new BrowserSession(app);
      await browser.post('/login/carol').expect(200);
      const key = `sess:${browser.sessionId(COOKIE)}`;
      const before = JSON.parse((await store.get(key))!).auth.idp?.accessTokenExpiresAt;
      assert.equal(before, undefined);
      assert.equal((await browser.get('/who').expect(200)).body.subject, 'carol');
      const saved = JSON.parse((await store.get(key))!).auth.idp.accessTokenExpiresAt;
      assert.ok(typeof saved === 'number' && saved > Date.now(), 'the refreshed tokens were saved');
    });
  });
}
