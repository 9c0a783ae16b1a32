import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDACTED, redactUrl } from '../src/observability/logger.ts';
import { captureLogs } from './support/logs.ts';

const SECRETS = {
  bearer: 'eyJhbGciOiJSUzI1NiJ9.secret-bearer-payload.sig',
  cookie: '__Host-keywarden=s%3Asecret-session-id.sig',
  awsSecret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE-session-token',
  saml: 'PHNhbWxwOlJlc3BvbnNlIHNlY3JldC1zYW1sLXJlc3BvbnNl',
  refresh: 'refresh-token-secret-value',
  guest: 'guest-token-secret-value-0123456789',
};

describe('log redaction', () => {
  it('removes secrets wherever they sit in a log object', () => {
    const logs = captureLogs();
    logs.logger.info(
      {
        req: {
          headers: {
            authorization: `Bearer ${SECRETS.bearer}`,
            cookie: SECRETS.cookie,
            'x-guest-token': SECRETS.guest,
          },
        },
        res: { headers: { 'set-cookie': [SECRETS.cookie] } },
      },
      'request',
    );
    logs.logger.info({
      credentials: {
        accessKeyId: 'ASIAEXAMPLE',
        secretAccessKey: SECRETS.awsSecret,
        sessionToken: SECRETS.sessionToken,
      },
    });
    logs.logger.info({
      Credentials: { SecretAccessKey: SECRETS.awsSecret, SessionToken: SECRETS.sessionToken },
    });
    logs.logger.info({ body: { SAMLResponse: SECRETS.saml } });
    logs.logger.info({ session: { idp: { refreshToken: SECRETS.refresh } } });
    logs.logger.warn({ guestToken: SECRETS.guest, token: SECRETS.bearer });
    logs.assertNoneContain(Object.values(SECRETS));
    const records = logs.records();
    assert.equal(records.length, 6);
    const first = records[0] as { req: { headers: Record<string, string> } };
    assert.equal(first.req.headers.authorization, REDACTED);
    const second = records[1] as { credentials: Record<string, string> };
    assert.equal(
      second.credentials.accessKeyId,
      'ASIAEXAMPLE',
      'identifiers that are not secrets stay visible',
    );
  });

  it('masks secret query parameters in URLs and keeps the rest', () => {
    const url = redactUrl(
      '/auth/callback/dev?code=abc123secret&state=st4te&iss=https%3A%2F%2Fidp&X-Amz-Signature=deadbeef&X-Amz-Security-Token=tok',
    );
    assert.doesNotMatch(url, /abc123secret|st4te|deadbeef|=tok/);
    assert.match(url, /iss=https%3A%2F%2Fidp/);
    assert.equal(redactUrl('/healthz'), '/healthz');
    const nested = redactUrl(
      `/auth/login/dev?returnTo=${encodeURIComponent('/portal/device?user_code=WXYZ-2345')}`,
    );
    assert.doesNotMatch(
      decodeURIComponent(nested),
      /WXYZ-2345/,
      'secrets inside a return path are masked too',
    );
    assert.match(decodeURIComponent(nested), /returnTo=\/portal\/device\?user_code=/);
  });

  it('masks OAuth token parameters that reach keywarden in URLs (the in-process development IdP)', () => {
    // The development IdP is mounted in keywarden's own app, so its RP-initiated logout
    // (`id_token_hint`) and any misused token request arrive in keywarden's access log.
    const url = redactUrl(
      '/dev-idp/session/end?id_token_hint=eyJhbGciOiJSUzI1NiJ9.hint-payload.hint-sig&client_id=kw&client_secret=s3cr3t-value&refresh_token=rt-secret&code_verifier=verifier-secret&client_assertion=eyJ.assertion.sig',
    );
    assert.doesNotMatch(url, /hint-payload|s3cr3t-value|rt-secret|verifier-secret|assertion\.sig/);
    assert.match(url, /client_id=kw/);
  });
});
