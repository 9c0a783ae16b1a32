import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsDouble, VendedCredentials } from './aws-double/index.ts';

/**
 * A stand-in for the AWS federation endpoint (`https://signin.aws.amazon.com/federation`) on
 * 127.0.0.1, checking what AWS checks:
 *
 *   GET /federation?Action=getSigninToken&Session=<json>[&SessionDuration=n]
 *     The Session JSON must be `{sessionId, sessionKey, sessionToken}` of credentials the AWS
 *     test double vended and that have not expired (by the double's clock); SessionDuration,
 *     when given, 900…43200. Answers `{"SigninToken": "…"}` (valid 15 minutes, single use),
 *     else 400.
 *   GET /federation?Action=login&Issuer=<url>&Destination=<url>&SigninToken=<token>
 *     Answers a small HTML page ("AWS console (stand-in)") naming the role, or 400 for an
 *     unknown, used or expired token. Real AWS would redirect to the console instead.
 *
 *   const federation = await startFederationStandin(aws);
 *   federation.url            http://127.0.0.1:<port>/federation (portal.federationEndpoint)
 *   federation.tokens         SigninToken → {credentials, sessionDuration, issuedAt, used}
 *   federation.logins         every login: {issuer, destination, token, accepted, roleArn?}
 *   federation.failNext(n)    the next n getSigninToken calls answer 500
 *   federation.close()
 */

export interface IssuedSigninToken {
  readonly credentials: VendedCredentials;
  readonly sessionDuration: number | undefined;
  readonly issuedAt: number;
  used: boolean;
}

export interface FederationLogin {
  readonly issuer: string | null;
  readonly destination: string | null;
  readonly token: string | null;
  readonly accepted: boolean;
  readonly roleArn?: string;
}

export interface FederationStandin {
  readonly url: string;
  readonly tokens: Map<string, IssuedSigninToken>;
  readonly logins: FederationLogin[];
  readonly requests: { getSigninToken: number; login: number; rejected: string[] };
  failNext(count?: number): void;
  close(): Promise<void>;
}

const TOKEN_LIFETIME_MS = 15 * 60_000;

export async function startFederationStandin(aws: AwsDouble): Promise<FederationStandin> {
  const tokens = new Map<string, IssuedSigninToken>();
  const logins: FederationLogin[] = [];
  const requests = { getSigninToken: 0, login: 0, rejected: [] as string[] };
  let failures = 0;

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://federation.invalid');
    const reject = (why: string) => {
      requests.rejected.push(why);
      res.writeHead(400, { 'content-type': 'text/plain' }).end(why);
    };
    if (url.pathname === '/favicon.ico') {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== 'GET' || url.pathname !== '/federation') return reject('not the federation endpoint');
    const action = url.searchParams.get('Action');

    if (action === 'getSigninToken') {
      requests.getSigninToken += 1;
      if (failures > 0) {
        failures -= 1;
        res.writeHead(500).end('internal error');
        return;
      }
      let session: { sessionId?: unknown; sessionKey?: unknown; sessionToken?: unknown };
      try {
        session = JSON.parse(url.searchParams.get('Session') ?? '');
      } catch {
        return reject('Session is not JSON');
      }
      const vended =
        typeof session.sessionId === 'string' ? aws.credentials.get(session.sessionId) : undefined;
      if (!vended) return reject('unknown sessionId');
      if (vended.secretAccessKey !== session.sessionKey) return reject('sessionKey does not match');
      if (vended.sessionToken !== session.sessionToken) return reject('sessionToken does not match');
      if (vended.expiration <= Date.now()) return reject('credentials expired');
      const durationParam = url.searchParams.get('SessionDuration');
      let sessionDuration: number | undefined;
      if (durationParam !== null) {
        sessionDuration = Number(durationParam);
        if (!Number.isInteger(sessionDuration) || sessionDuration < 900 || sessionDuration > 43_200) {
          return reject('SessionDuration out of range');
        }
      }
      const token = randomBytes(48).toString('base64url');
      tokens.set(token, { credentials: vended, sessionDuration, issuedAt: Date.now(), used: false });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ SigninToken: token }));
      return;
    }

    if (action === 'login') {
      requests.login += 1;
      const token = url.searchParams.get('SigninToken');
      const issued = token ? tokens.get(token) : undefined;
      const valid = issued !== undefined && !issued.used && Date.now() - issued.issuedAt < TOKEN_LIFETIME_MS;
      const login: FederationLogin = {
        issuer: url.searchParams.get('Issuer'),
        destination: url.searchParams.get('Destination'),
        token,
        accepted: valid,
        ...(issued ? { roleArn: issued.credentials.roleArn } : {}),
      };
      logins.push(login);
      if (!valid || !issued) return reject('invalid SigninToken');
      issued.used = true;
      const role = issued.credentials.roleArn.replace(/[^\w:/+=,.@-]/g, '');
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(
          `<!doctype html><html lang="en"><head><title>AWS console (stand-in)</title></head><body><h1>AWS console (stand-in)</h1><p id="role">${role}</p></body></html>`,
        );
      return;
    }
    reject('unknown Action');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/federation`,
    tokens,
    logins,
    requests,
    failNext(count = 1) {
      failures = count;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
