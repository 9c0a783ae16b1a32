import type { Logger } from 'pino';
import type { FacebookIssuerConfig } from '../../../config/bearer-schema.ts';
import { normaliseSubject } from '../../document-claims.ts';
import { resourceClient, UserDocumentSource } from '../../oauth2/user-document.ts';
import { outageOf, ProviderUnavailableError } from '../../provider-errors.ts';
import { InvalidTokenError } from '../token-verifier.ts';
import {
  type CheckedToken,
  callProvider,
  confirmedDocument,
  ownCredentialsRefused,
  type TokenCheck,
} from './token-check.ts';

/** Graph API error 190: the access token of the call (here: the app's own) is not valid. */
const INVALID_ACCESS_TOKEN = 190;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A Facebook user access token from the mobile SDK, checked with Graph API `debug_token` and
 * the app access token (`<app id>|<app secret>`, sent in the Authorization header, never in a
 * URL): `data.is_valid` true, `data.app_id` this app (a token the same user gave another app is
 * refused), `data.type` USER, `data.expires_at` in the future (0 means no expiry). The owner is
 * `data.user_id` — the app-scoped id the browser sign-in sees too — and `/me` gives the profile.
 */
export class FacebookTokenCheck implements TokenCheck {
  readonly #name: string;
  readonly #config: FacebookIssuerConfig;
  readonly #logger: Logger;
  readonly #users: UserDocumentSource;

  constructor(name: string, config: FacebookIssuerConfig, deps: { logger: Logger; production: boolean }) {
    this.#name = name;
    this.#config = config;
    this.#logger = deps.logger;
    this.#users = new UserDocumentSource(
      resourceClient(config.appId, config.userInfo.url, config.timeoutMs, deps.production),
      config.userInfo,
      config.appSecret,
      `${name} (facebook)`,
    );
  }

  async check(token: string): Promise<CheckedToken> {
    const config = this.#config;
    const what = `${this.#name} debug_token`;
    const url = new URL(config.debugTokenUrl);
    url.searchParams.set('input_token', token);
    const { response, body } = await callProvider(
      url,
      {
        headers: {
          authorization: `Bearer ${config.appId}|${config.appSecret ?? ''}`,
          accept: 'application/json',
        },
        timeoutMs: config.timeoutMs,
      },
      what,
    );
    if (response.status !== 200) {
      const outage = outageOf(response, body, what);
      if (outage) throw outage;
      const code = isRecord(body) && isRecord(body.error) ? body.error.code : undefined;
      // An invalid *input* token is a 200 with is_valid false; a refused call is about the app token.
      if (code === INVALID_ACCESS_TOKEN || response.status === 401) {
        throw ownCredentialsRefused(this.#logger, this.#name, what);
      }
      throw new InvalidTokenError('The token is not valid or has been revoked', this.#name);
    }
    const data = isRecord(body) ? body.data : undefined;
    if (!isRecord(data)) throw new ProviderUnavailableError(`${what} answered without data`, 5);
    if (data.error !== undefined || data.is_valid !== true) {
      throw new InvalidTokenError('The token is not valid or has been revoked', this.#name);
    }
    if (String(data.app_id) !== config.appId) {
      throw new InvalidTokenError('The token was issued to another app', this.#name);
    }
    if (data.type !== undefined && data.type !== 'USER') {
      throw new InvalidTokenError('The token is not a user access token', this.#name);
    }
    const expiresAt =
      typeof data.expires_at === 'number' && data.expires_at > 0 ? data.expires_at * 1000 : undefined;
    if (expiresAt !== undefined && expiresAt <= Date.now()) {
      throw new InvalidTokenError('The token has expired', this.#name);
    }
    const subject = normaliseSubject(data.user_id);
    if (subject === undefined) throw new InvalidTokenError('The token owner has no usable id', this.#name);
    const document = await confirmedDocument(this.#users, token, subject, config.claims.subject, this.#name);
    return { subject, document, ...(expiresAt !== undefined ? { expiresAt } : {}) };
  }
}
