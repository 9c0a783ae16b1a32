import { createHmac } from 'node:crypto';
import {
  bearerOf,
  type Outage,
  pkceMatches,
  randomValue,
  type StandinAnswer,
  type StandinRequest,
  startStandinServer,
} from './standin-server.ts';

/**
 * Facebook Login and the Graph API (`v23.0`) on loopback, in their documented shapes:
 *
 *  - `GET /v23.0/dialog/oauth` redirects back with `code` and `state` (and Facebook's famous
 *    `#_=_` fragment);
 *  - `/v23.0/oauth/access_token` (GET with query parameters as documented, or POST form)
 *    answers `{access_token, token_type, expires_in}`;
 *  - `GET /v23.0/me?fields=id,name,email` with the user token (`access_token` parameter or
 *    `Authorization: Bearer`), checking `appsecret_proof` when the app requires it;
 *  - `GET /v23.0/debug_token?input_token=…` with the app access token `<app id>|<app secret>`
 *    answers `{data: {app_id, type, application, expires_at, is_valid, scopes, user_id}}`, with
 *    `is_valid: false` and `data.error` for a revoked, expired or unparseable token;
 *  - errors are `{"error": {"message", "type": "OAuthException", "code", "fbtrace_id"}}` with
 *    HTTP 400 — code 190 for a bad access token, 4 for the app's rate limit.
 *
 *   const facebook = await startFacebook({ apps: { '1001': 'secret' }, redirectUri });
 *   facebook.addUser({ key: 'fran', id: '10150', name: 'Fran', email: 'fran@example.test' });
 *   facebook.signedIn = 'fran'; facebook.issueToken('fran', { appId: '2002' });
 */

export interface FacebookUser {
  key: string;
  /** App-scoped user id (a string in the Graph API). */
  id: string;
  name: string;
  email?: string;
}

interface FacebookToken {
  userKey: string;
  appId: string;
  type: 'USER' | 'PAGE' | 'APP';
  expiresAt: number;
  revoked: boolean;
}

export interface FacebookStandin {
  readonly url: string;
  /** `${url}/v23.0`, the Graph API base keywarden is configured with. */
  readonly graph: string;
  readonly server: { outage: Outage; slowMs: number };
  signedIn: string | undefined;
  rateLimited: boolean;
  /** `/me` answers the id as a JSON number (a hostile or changed API). */
  idAsNumber: boolean;
  /** The app demands `appsecret_proof` on user-token calls ("Require App Secret"). */
  requireAppSecretProof: boolean;
  readonly requests: Record<'dialog' | 'token' | 'me' | 'debugToken', number>;
  /** Every user access token handed out. */
  readonly issued: string[];
  addUser(user: FacebookUser): void;
  issueToken(
    userKey: string,
    options?: { appId?: string; expiresInSeconds?: number; type?: FacebookToken['type'] },
  ): string;
  revoke(token: string): void;
  close(): Promise<void>;
}

const VERSION = 'v23.0';

function graphError(message: string, code: number, extra: Record<string, unknown> = {}): StandinAnswer {
  return {
    status: 400,
    body: { error: { message, type: 'OAuthException', code, ...extra, fbtrace_id: randomValue('', 8) } },
  };
}

export async function startFacebook(options: {
  /** Registered apps: app id → app secret. */
  apps: Record<string, string>;
  redirectUri: string;
}): Promise<FacebookStandin> {
  const users = new Map<string, FacebookUser>();
  const tokens = new Map<string, FacebookToken>();
  const codes = new Map<
    string,
    { userKey: string; appId: string; redirectUri: string; challenge?: string }
  >();
  const requests = { dialog: 0, token: 0, me: 0, debugToken: 0 };

  function mint(
    userKey: string,
    appId: string,
    expiresInSeconds = 5_183_944,
    type: FacebookToken['type'] = 'USER',
  ) {
    const token = randomValue('EAAB', 40);
    standin.issued.push(token);
    tokens.set(token, {
      userKey,
      appId,
      type,
      expiresAt: Date.now() + expiresInSeconds * 1000,
      revoked: false,
    });
    return token;
  }

  const param = (req: StandinRequest, name: string) => req.query.get(name) ?? req.form.get(name);
  const throttled = () => graphError('(#4) Application request limit reached', 4, { is_transient: true });

  function dialog(req: StandinRequest): StandinAnswer {
    requests.dialog += 1;
    const appId = req.query.get('client_id') ?? '';
    const redirectUri = req.query.get('redirect_uri') ?? '';
    if (!Object.hasOwn(options.apps, appId)) return { status: 200, body: '<h1>Invalid App ID</h1>' };
    if (redirectUri !== options.redirectUri) return { status: 200, body: '<h1>URL blocked</h1>' };
    if (!standin.signedIn) return { status: 200, body: '<form><input name="email"></form>' };
    const code = randomValue('AQ', 60);
    const challenge = req.query.get('code_challenge') ?? undefined;
    codes.set(code, {
      userKey: standin.signedIn,
      appId,
      redirectUri,
      ...(challenge !== undefined ? { challenge } : {}),
    });
    const back = new URL(redirectUri);
    back.searchParams.set('code', code);
    const state = req.query.get('state');
    if (state) back.searchParams.set('state', state);
    back.hash = '_=_';
    return { status: 302, headers: { location: back.href } };
  }

  async function accessToken(req: StandinRequest): Promise<StandinAnswer> {
    requests.token += 1;
    const appId = param(req, 'client_id') ?? '';
    if (!Object.hasOwn(options.apps, appId) || options.apps[appId] !== param(req, 'client_secret')) {
      return graphError('Error validating client secret.', 1, { error_subcode: 1 });
    }
    const code = param(req, 'code') ?? '';
    const grant = codes.get(code);
    codes.delete(code);
    if (!grant || grant.appId !== appId) return graphError('Invalid verification code format.', 100);
    if (param(req, 'redirect_uri') !== grant.redirectUri) {
      return graphError(
        'Error validating verification code. Please make sure your redirect_uri is identical.',
        100,
      );
    }
    if (!(await pkceMatches(param(req, 'code_verifier'), grant.challenge))) {
      return graphError('Invalid code verifier.', 100);
    }
    return {
      status: 200,
      body: { access_token: mint(grant.userKey, appId), token_type: 'bearer', expires_in: 5_183_944 },
    };
  }

  function me(req: StandinRequest): StandinAnswer {
    requests.me += 1;
    if (standin.rateLimited) return throttled();
    const token = req.query.get('access_token') ?? bearerOf(req) ?? '';
    const record = tokens.get(token);
    if (!record) return graphError('Invalid OAuth access token data.', 190);
    if (record.revoked) {
      return graphError('Error validating access token: The session has been invalidated.', 190, {
        error_subcode: 460,
      });
    }
    if (record.expiresAt <= Date.now()) {
      return graphError('Error validating access token: Session has expired.', 190, { error_subcode: 463 });
    }
    if (standin.requireAppSecretProof) {
      const expected = createHmac('sha256', options.apps[record.appId] ?? '')
        .update(token)
        .digest('hex');
      if (req.query.get('appsecret_proof') !== expected) {
        return {
          status: 400,
          body: {
            error: {
              message: 'API calls from the server require an appsecret_proof argument',
              type: 'GraphMethodException',
              code: 100,
              fbtrace_id: randomValue('', 8),
            },
          },
        };
      }
    }
    const user = users.get(record.userKey);
    if (!user) return graphError('Invalid OAuth access token data.', 190);
    const fields = (req.query.get('fields') ?? 'id,name').split(',');
    const answer: Record<string, unknown> = {};
    if (fields.includes('id')) answer.id = standin.idAsNumber ? Number(user.id) : user.id;
    if (fields.includes('name')) answer.name = user.name;
    if (fields.includes('email') && user.email) answer.email = user.email;
    return { status: 200, body: answer };
  }

  function debugToken(req: StandinRequest): StandinAnswer {
    requests.debugToken += 1;
    if (standin.rateLimited) return throttled();
    const appToken = req.query.get('access_token') ?? bearerOf(req) ?? '';
    const [appId = '', appSecret] = appToken.split('|');
    if (!Object.hasOwn(options.apps, appId) || options.apps[appId] !== appSecret) {
      return graphError('Invalid OAuth access token signature.', 190);
    }
    const input = req.query.get('input_token');
    if (!input) return graphError('(#100) The parameter input_token is required', 100);
    const record = tokens.get(input);
    if (!record) {
      return {
        status: 200,
        body: {
          data: {
            error: { code: 190, message: 'Invalid OAuth access token - Cannot parse access token' },
            is_valid: false,
            scopes: [],
          },
        },
      };
    }
    const user = users.get(record.userKey);
    const expired = record.expiresAt <= Date.now();
    const base = {
      app_id: record.appId,
      type: record.type,
      application: `App ${record.appId}`,
      data_access_expires_at: Math.floor(record.expiresAt / 1000) + 86_400 * 30,
      expires_at: Math.floor(record.expiresAt / 1000),
      scopes: ['public_profile', 'email'],
      user_id: user?.id,
    };
    if (record.revoked || expired) {
      return {
        status: 200,
        body: {
          data: {
            ...base,
            is_valid: false,
            error: record.revoked
              ? {
                  code: 190,
                  message: 'Error validating access token: The session has been invalidated.',
                  subcode: 460,
                }
              : { code: 190, message: 'Error validating access token: Session has expired.', subcode: 463 },
          },
        },
      };
    }
    return {
      status: 200,
      body: { data: { ...base, is_valid: true, issued_at: Math.floor(Date.now() / 1000) } },
    };
  }

  const server = await startStandinServer(async (req) => {
    const prefix = `/${VERSION}`;
    const path = req.path.startsWith(prefix) ? req.path.slice(prefix.length) : undefined;
    if (path === '/dialog/oauth' && req.method === 'GET') return dialog(req);
    if (path === '/oauth/access_token') return accessToken(req);
    if (path === '/me' && req.method === 'GET') return me(req);
    if (path === '/debug_token' && req.method === 'GET') return debugToken(req);
    return graphError('Unknown path components', 2500);
  });

  const standin: FacebookStandin = {
    url: server.url,
    graph: `${server.url}/${VERSION}`,
    server,
    signedIn: undefined,
    rateLimited: false,
    idAsNumber: false,
    requireAppSecretProof: true,
    requests,
    issued: [],
    addUser(user) {
      users.set(user.key, user);
    },
    issueToken(userKey, tokenOptions = {}) {
      return mint(
        userKey,
        tokenOptions.appId ?? Object.keys(options.apps)[0]!,
        tokenOptions.expiresInSeconds,
        tokenOptions.type,
      );
    },
    revoke(token) {
      const record = tokens.get(token);
      if (record) record.revoked = true;
    },
    close: () => server.close(),
  };
  return standin;
}

/** The facebook preset's endpoints, moved to the stand-in (what a test adds to `preset: facebook`). */
export function facebookEndpoints(graph: string): Record<string, unknown> {
  return {
    authorizationEndpoint: `${graph}/dialog/oauth`,
    tokenEndpoint: `${graph}/oauth/access_token`,
    userInfo: { url: `${graph}/me?fields=id,name,email` },
  };
}
