import { basicOf, type Outage, randomValue, startStandinServer } from './standin-server.ts';

/**
 * An enterprise IdP's RFC 7662 token introspection endpoint on loopback: `POST /introspect`
 * (form `token`, optional `token_type_hint`) authenticated with the resource server's client id
 * and secret as HTTP Basic; 401 `{"error":"invalid_client"}` with a `WWW-Authenticate: Basic`
 * challenge otherwise. Answers `{"active": true, …claims}` for a live token and
 * `{"active": false}` for anything else (unknown, revoked, expired), as §2.2 requires.
 *
 *   const idp = await startIntrospection({ clientId: 'keywarden', clientSecret: '…' });
 *   const token = idp.issue({ sub: 'u1', client_id: 'mobile-app', aud: 'https://api', exp });
 */

export interface IntrospectionStandin {
  readonly url: string;
  readonly endpoint: string;
  readonly server: { outage: Outage; slowMs: number };
  readonly requests: { introspect: number };
  issue(claims: Record<string, unknown>): string;
  revoke(token: string): void;
  close(): Promise<void>;
}

export async function startIntrospection(options: {
  clientId: string;
  clientSecret: string;
}): Promise<IntrospectionStandin> {
  const tokens = new Map<string, { claims: Record<string, unknown>; revoked: boolean }>();
  const requests = { introspect: 0 };
  let issuer = '';
  const server = await startStandinServer((req) => {
    if (req.method !== 'POST' || req.path !== '/introspect')
      return { status: 404, body: { error: 'not_found' } };
    requests.introspect += 1;
    const client = basicOf(req);
    if (!client || client.id !== options.clientId || client.secret !== options.clientSecret) {
      return {
        status: 401,
        headers: { 'www-authenticate': 'Basic realm="introspection"' },
        body: { error: 'invalid_client' },
      };
    }
    const record = tokens.get(req.form.get('token') ?? '');
    const exp = record?.claims.exp;
    const live = record && !record.revoked && (typeof exp !== 'number' || exp * 1000 > Date.now());
    return {
      status: 200,
      body: live ? { active: true, iss: issuer, token_type: 'Bearer', ...record.claims } : { active: false },
    };
  });
  issuer = server.url;
  return {
    url: server.url,
    endpoint: `${server.url}/introspect`,
    server,
    requests,
    issue(claims) {
      const token = randomValue('at_', 30);
      tokens.set(token, { claims, revoked: false });
      return token;
    },
    revoke(token) {
      const record = tokens.get(token);
      if (record) record.revoked = true;
    },
    close: () => server.close(),
  };
}
