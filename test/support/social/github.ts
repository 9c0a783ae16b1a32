import {
  basicOf,
  bearerOf,
  type Outage,
  pkceMatches,
  randomValue,
  type StandinAnswer,
  type StandinRequest,
  startStandinServer,
} from './standin-server.ts';

/**
 * GitHub as an OAuth app sees it, on loopback: the web flow (`/login/oauth/authorize`,
 * `/login/oauth/access_token`) and the REST API (`/user`, `/user/emails`, `/user/orgs`, and
 * "check a token", `POST /applications/{client_id}/token`), with GitHub's documented shapes:
 *
 *  - the token endpoint answers JSON when asked with `Accept: application/json`, else
 *    form-encoded, and reports errors with HTTP 200 and an `error` field
 *    (`bad_verification_code`, `incorrect_client_credentials`, `redirect_uri_mismatch`);
 *  - `id` is a JSON number;
 *  - a bad token on the API is 401 `{"message":"Bad credentials",…}`; the rate limit is 403 with
 *    `x-ratelimit-remaining: 0` and `x-ratelimit-reset`;
 *  - "check a token" answers 404 for a token that is unknown, revoked or another app's.
 *
 *   const github = await startGithub({ apps: { [CLIENT_ID]: SECRET }, redirectUri });
 *   github.addUser({ id: 101, login: 'octo', name: 'Octo Cat', emails: [...], orgs: ['acme'] });
 *   github.signedIn = 'octo';              // who is logged in at github.com: authorize approves them
 *   github.issueToken('octo', { clientId }) // a token as the mobile SDK would hold it
 *   github.revoke(token); github.rateLimited = true; github.server.outage = 'slow' | 'down';
 *   github.idAsString = true;               // /user answers "id": "101" instead of 101
 */

export interface GithubUser {
  id: number;
  login: string;
  name?: string | null;
  /** The public profile email (any address the user typed; not necessarily verified). */
  email?: string | null;
  emails: Array<{
    email: string;
    primary: boolean;
    verified: boolean;
    visibility?: 'public' | 'private' | null;
  }>;
  orgs: string[];
}

interface GithubToken {
  login: string;
  clientId: string;
  scopes: string[];
  revoked: boolean;
  expiresAt?: number;
}

export interface GithubStandin {
  readonly url: string;
  readonly server: { outage: Outage; slowMs: number };
  signedIn: string | undefined;
  /** The next authorization is refused by the user (`error=access_denied`). */
  denyNext: boolean;
  rateLimited: boolean;
  idAsString: boolean;
  /** Answer /user without an `id` (a broken or hostile API). */
  omitId: boolean;
  readonly requests: Record<'authorize' | 'token' | 'user' | 'emails' | 'orgs' | 'checkToken', number>;
  /** What the last token request looked like (for asserting PKCE and client auth). */
  lastTokenRequest: { accept: string; params: URLSearchParams } | undefined;
  /** Every access token the web flow or `issueToken` handed out (so tests can look for them in logs). */
  readonly issued: string[];
  addUser(user: GithubUser): void;
  issueToken(
    login: string,
    options?: { clientId?: string; scopes?: string[]; expiresInSeconds?: number },
  ): string;
  revoke(token: string): void;
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';

export async function startGithub(options: {
  /** Registered OAuth apps: client id → client secret. */
  apps: Record<string, string>;
  /** The callback URL registered for the apps. */
  redirectUri: string;
}): Promise<GithubStandin> {
  const users = new Map<string, GithubUser>();
  const tokens = new Map<string, GithubToken>();
  const codes = new Map<
    string,
    { login: string; clientId: string; redirectUri: string; challenge?: string; scopes: string[] }
  >();
  const requests = { authorize: 0, token: 0, user: 0, emails: 0, orgs: 0, checkToken: 0 };

  function mint(login: string, clientId: string, scopes: string[], expiresInSeconds?: number): string {
    const token = randomValue('gho_', 27);
    standin.issued.push(token);
    tokens.set(token, {
      login,
      clientId,
      scopes,
      revoked: false,
      ...(expiresInSeconds !== undefined ? { expiresAt: Date.now() + expiresInSeconds * 1000 } : {}),
    });
    return token;
  }

  function simpleUser(user: GithubUser): Record<string, unknown> {
    return {
      login: user.login,
      ...(standin.omitId ? {} : { id: standin.idAsString ? String(user.id) : user.id }),
      node_id: `U_${user.id}`,
      avatar_url: `https://avatars.example.test/u/${user.id}`,
      type: 'User',
      site_admin: false,
    };
  }

  const rateLimit = (): StandinAnswer => ({
    status: 403,
    headers: {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 30),
      'x-ratelimit-resource': 'core',
    },
    body: { message: 'API rate limit exceeded for user ID 101.', documentation_url: DOCS },
  });
  const badCredentials: StandinAnswer = {
    status: 401,
    body: { message: 'Bad credentials', documentation_url: DOCS, status: '401' },
  };

  /** The user of a valid API token, or the error answer. */
  function apiUser(req: StandinRequest): GithubUser | StandinAnswer {
    if (standin.rateLimited) return rateLimit();
    const record = tokens.get(bearerOf(req) ?? '');
    if (!record || record.revoked || (record.expiresAt !== undefined && record.expiresAt <= Date.now())) {
      return badCredentials;
    }
    return users.get(record.login) ?? badCredentials;
  }

  function authorize(req: StandinRequest): StandinAnswer {
    requests.authorize += 1;
    const q = req.query;
    const clientId = q.get('client_id') ?? '';
    if (!Object.hasOwn(options.apps, clientId)) return { status: 404, body: 'Not Found' };
    const redirectUri = q.get('redirect_uri') ?? options.redirectUri;
    const back = new URL(redirectUri);
    if (redirectUri !== options.redirectUri) {
      return { status: 200, body: '<h1>The redirect_uri is not associated with this application.</h1>' };
    }
    const state = q.get('state');
    if (standin.denyNext) {
      standin.denyNext = false;
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'The user has denied your application access.');
      back.searchParams.set('error_uri', 'https://docs.github.com/apps/troubleshooting');
      if (state) back.searchParams.set('state', state);
      return { status: 302, headers: { location: back.href } };
    }
    if (!standin.signedIn)
      return { status: 200, body: '<form action="/session"><input name="login"></form>' };
    const code = randomValue('', 15);
    const challenge = q.get('code_challenge') ?? undefined;
    if (challenge !== undefined && q.get('code_challenge_method') !== 'S256') {
      return { status: 400, body: 'code_challenge_method must be S256' };
    }
    codes.set(code, {
      login: standin.signedIn,
      clientId,
      redirectUri,
      scopes: (q.get('scope') ?? '').split(/[ ,]+/).filter(Boolean),
      ...(challenge !== undefined ? { challenge } : {}),
    });
    back.searchParams.set('code', code);
    if (state) back.searchParams.set('state', state);
    return { status: 302, headers: { location: back.href } };
  }

  async function accessToken(req: StandinRequest): Promise<StandinAnswer> {
    requests.token += 1;
    const params =
      req.json !== undefined ? new URLSearchParams(req.json as Record<string, string>) : req.form;
    const accept = String(req.headers.accept ?? '');
    standin.lastTokenRequest = { accept, params };
    const answer = (fields: Record<string, string>): StandinAnswer =>
      accept.includes('application/json')
        ? { status: 200, body: fields }
        : {
            status: 200,
            headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
            body: new URLSearchParams(fields).toString(),
          };
    const error = (code: string, description: string) =>
      answer({ error: code, error_description: description, error_uri: `${DOCS}#${code}` });
    const basic = basicOf(req);
    const clientId = basic?.id ?? params.get('client_id') ?? '';
    const clientSecret = basic?.secret ?? params.get('client_secret') ?? '';
    if (!Object.hasOwn(options.apps, clientId) || options.apps[clientId] !== clientSecret) {
      return error(
        'incorrect_client_credentials',
        'The client_id and/or client_secret passed are incorrect.',
      );
    }
    const code = params.get('code') ?? '';
    const grant = codes.get(code);
    codes.delete(code);
    if (!grant || grant.clientId !== clientId) {
      return error('bad_verification_code', 'The code passed is incorrect or expired.');
    }
    if (params.has('redirect_uri') && params.get('redirect_uri') !== grant.redirectUri) {
      return error(
        'redirect_uri_mismatch',
        'The redirect_uri MUST match the registered callback URL for this application.',
      );
    }
    if (!(await pkceMatches(params.get('code_verifier'), grant.challenge))) {
      return error('bad_verification_code', 'The code passed is incorrect or expired.');
    }
    const token = mint(grant.login, clientId, grant.scopes);
    return answer({ access_token: token, scope: grant.scopes.join(','), token_type: 'bearer' });
  }

  function checkToken(req: StandinRequest, clientId: string): StandinAnswer {
    requests.checkToken += 1;
    if (standin.rateLimited) return rateLimit();
    const basic = basicOf(req);
    if (!basic || basic.id !== clientId || options.apps[clientId] !== basic.secret) return badCredentials;
    const token = (req.json as { access_token?: unknown } | undefined)?.access_token;
    if (typeof token !== 'string' || token.length === 0) {
      return { status: 422, body: { message: 'Validation Failed', documentation_url: DOCS } };
    }
    const record = tokens.get(token);
    const user = record ? users.get(record.login) : undefined;
    if (!record || !user || record.revoked || record.clientId !== clientId) {
      return { status: 404, body: { message: 'Not Found', documentation_url: DOCS } };
    }
    return {
      status: 200,
      body: {
        id: 1,
        url: `${standin.url}/authorizations/1`,
        scopes: record.scopes,
        token,
        token_last_eight: token.slice(-8),
        hashed_token: 'not-a-real-hash',
        app: { client_id: clientId, name: 'keywarden test app', url: 'https://keywarden.test' },
        note: null,
        note_url: null,
        updated_at: new Date().toISOString(),
        created_at: new Date().toISOString(),
        fingerprint: null,
        expires_at: record.expiresAt !== undefined ? new Date(record.expiresAt).toISOString() : null,
        user: simpleUser(user),
      },
    };
  }

  const server = await startStandinServer(async (req) => {
    const route = `${req.method} ${req.path}`;
    if (route === 'GET /login/oauth/authorize') return authorize(req);
    if (route === 'POST /login/oauth/access_token') return accessToken(req);
    const check = /^POST \/applications\/([^/]+)\/token$/.exec(route);
    if (check) return checkToken(req, decodeURIComponent(check[1]!));
    if (route === 'GET /user') {
      requests.user += 1;
      const user = apiUser(req);
      if (!('login' in user)) return user;
      return {
        status: 200,
        headers: { 'x-ratelimit-remaining': '4999' },
        body: { ...simpleUser(user), name: user.name ?? null, email: user.email ?? null, public_repos: 3 },
      };
    }
    if (route === 'GET /user/emails') {
      requests.emails += 1;
      const user = apiUser(req);
      if (!('login' in user)) return user;
      const record = tokens.get(bearerOf(req) ?? '');
      // Listing addresses needs the user:email (or user) scope.
      if (!record?.scopes.some((scope) => scope === 'user:email' || scope === 'user')) {
        return { status: 404, body: { message: 'Not Found', documentation_url: DOCS } };
      }
      return { status: 200, body: user.emails.map((email) => ({ visibility: null, ...email })) };
    }
    if (route === 'GET /user/orgs') {
      requests.orgs += 1;
      const user = apiUser(req);
      if (!('login' in user)) return user;
      return {
        status: 200,
        body: user.orgs.map((login, index) => ({
          login,
          id: 9000 + index,
          url: `${standin.url}/orgs/${login}`,
        })),
      };
    }
    return { status: 404, body: { message: 'Not Found', documentation_url: DOCS } };
  });

  const standin: GithubStandin = {
    url: server.url,
    server,
    signedIn: undefined,
    denyNext: false,
    rateLimited: false,
    idAsString: false,
    omitId: false,
    requests,
    lastTokenRequest: undefined,
    issued: [],
    addUser(user) {
      users.set(user.login, user);
    },
    issueToken(login, tokenOptions = {}) {
      const clientId = tokenOptions.clientId ?? Object.keys(options.apps)[0]!;
      return mint(
        login,
        clientId,
        tokenOptions.scopes ?? ['read:user', 'user:email'],
        tokenOptions.expiresInSeconds,
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

/** The github preset's endpoints, moved to the stand-in (what a test adds to `preset: github`). */
export function githubEndpoints(url: string): Record<string, unknown> {
  return {
    authorizationEndpoint: `${url}/login/oauth/authorize`,
    tokenEndpoint: `${url}/login/oauth/access_token`,
    userInfo: { url: `${url}/user`, extraCalls: { emails: `${url}/user/emails`, orgs: `${url}/user/orgs` } },
  };
}
