import type { Logger } from 'pino';
import type { GithubIssuerConfig } from '../../../config/bearer-schema.ts';
import { normaliseSubject } from '../../document-claims.ts';
import { resourceClient, UserDocumentSource } from '../../oauth2/user-document.ts';
import { outageOf } from '../../provider-errors.ts';
import { InvalidTokenError } from '../token-verifier.ts';
import {
  type CheckedToken,
  callProvider,
  confirmedDocument,
  ownCredentialsRefused,
  type TokenCheck,
} from './token-check.ts';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A GitHub user token (OAuth app or GitHub App), checked with GitHub's "check a token" API as
 * this app: `POST /applications/{client_id}/token` with the client id and secret as Basic auth.
 * GitHub answers 404 for a token that is unknown, revoked, or issued to another app — which an
 * authenticated `GET /user` could not tell: any app the user ever authorised could otherwise
 * replay its token here and be taken for that user. Then the same user calls as the browser
 * sign-in (the preset's `/user`, `/user/emails`, `/user/orgs`), which must name the same user.
 */
export class GithubTokenCheck implements TokenCheck {
  readonly #name: string;
  readonly #config: GithubIssuerConfig;
  readonly #logger: Logger;
  readonly #users: UserDocumentSource;

  constructor(name: string, config: GithubIssuerConfig, deps: { logger: Logger; production: boolean }) {
    this.#name = name;
    this.#config = config;
    this.#logger = deps.logger;
    this.#users = new UserDocumentSource(
      resourceClient(config.clientId, config.userInfo.url, config.timeoutMs, deps.production),
      config.userInfo,
      undefined,
      `${name} (github)`,
    );
  }

  async check(token: string): Promise<CheckedToken> {
    const config = this.#config;
    const what = `${this.#name} token check`;
    const url = new URL(config.checkTokenUrl.replace('{clientId}', encodeURIComponent(config.clientId)));
    const basic = Buffer.from(`${config.clientId}:${config.clientSecret ?? ''}`).toString('base64');
    const { response, body } = await callProvider(
      url,
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          accept: 'application/vnd.github+json',
          'content-type': 'application/json',
          'x-github-api-version': '2022-11-28',
        },
        body: JSON.stringify({ access_token: token }),
        timeoutMs: config.timeoutMs,
      },
      what,
    );
    if (response.status !== 200) {
      const outage = outageOf(response, body, what);
      if (outage) throw outage;
      if (response.status === 401) throw ownCredentialsRefused(this.#logger, this.#name, what);
      throw new InvalidTokenError(
        'The token is not valid, has been revoked or belongs to another app',
        this.#name,
      );
    }
    const app = isRecord(body) && isRecord(body.app) ? body.app : undefined;
    if (app?.client_id !== config.clientId) {
      throw new InvalidTokenError('The token was issued to another app', this.#name);
    }
    const expiry =
      isRecord(body) && typeof body.expires_at === 'string' ? Date.parse(body.expires_at) : Number.NaN;
    const expiresAt = Number.isFinite(expiry) ? expiry : undefined;
    if (expiresAt !== undefined && expiresAt <= Date.now()) {
      throw new InvalidTokenError('The token has expired', this.#name);
    }
    const user = isRecord(body) && isRecord(body.user) ? body.user : undefined;
    const subject = normaliseSubject(user?.id);
    if (subject === undefined) throw new InvalidTokenError('The token owner has no usable id', this.#name);
    const document = await confirmedDocument(this.#users, token, subject, config.claims.subject, this.#name);
    return { subject, document, ...(expiresAt !== undefined ? { expiresAt } : {}) };
  }
}
