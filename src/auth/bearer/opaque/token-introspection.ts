import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import type { IntrospectionIssuerConfig } from '../../../config/bearer-schema.ts';
import { subjectOf } from '../../document-claims.ts';
import { describeIdpError, isIdpUnavailable } from '../../idp-errors.ts';
import { ProviderUnavailableError } from '../../provider-errors.ts';
import { InvalidTokenError } from '../token-verifier.ts';
import { type CheckedToken, ownCredentialsRefused, type TokenCheck } from './token-check.ts';

/** Leeway for `exp` and `nbf`, as for JWT bearer tokens' default. */
const CLOCK_TOLERANCE_MS = 30_000;

/**
 * An opaque access token of an enterprise IdP, checked by RFC 7662 token introspection
 * (openid-client's tokenIntrospection, with keywarden's own client credentials): `active` must be
 * true, `exp`/`nbf` hold, and — where configured — `iss`, `aud` and `client_id` are the expected
 * ones. An IdP that refuses the introspection call itself (our credentials, a server error) says
 * nothing about the token: 503.
 */
export class IntrospectionTokenCheck implements TokenCheck {
  readonly #name: string;
  readonly #config: IntrospectionIssuerConfig;
  readonly #logger: Logger;
  readonly #client: oidc.Configuration;

  constructor(
    name: string,
    config: IntrospectionIssuerConfig,
    deps: { logger: Logger; production: boolean },
  ) {
    this.#name = name;
    this.#config = config;
    this.#logger = deps.logger;
    const clientAuth =
      config.clientAuthMethod === 'client_secret_post'
        ? oidc.ClientSecretPost(config.clientSecret)
        : oidc.ClientSecretBasic(config.clientSecret);
    this.#client = new oidc.Configuration(
      {
        issuer: config.issuer ?? new URL(config.introspectionEndpoint).origin,
        introspection_endpoint: config.introspectionEndpoint,
      },
      config.clientId,
      undefined,
      clientAuth,
    );
    this.#client.timeout = config.timeoutMs / 1000;
    if (!deps.production) oidc.allowInsecureRequests(this.#client);
  }

  async check(token: string): Promise<CheckedToken> {
    const config = this.#config;
    const what = `${this.#name} introspection`;
    let answer: oidc.IntrospectionResponse;
    try {
      answer = await oidc.tokenIntrospection(this.#client, token, { token_type_hint: 'access_token' });
    } catch (error) {
      const status =
        error instanceof oidc.ResponseBodyError || error instanceof oidc.WWWAuthenticateChallengeError
          ? error.status
          : undefined;
      if (status === 401) throw ownCredentialsRefused(this.#logger, this.#name, what);
      const reason = `${what} failed: ${describeIdpError(error)}`;
      throw new ProviderUnavailableError(reason, isIdpUnavailable(error) ? 5 : 30, { cause: error });
    }
    const invalid = (description: string) => new InvalidTokenError(description, this.#name);
    if (answer.active !== true) throw invalid('The token is not active');
    const now = Date.now();
    const expiresAt = typeof answer.exp === 'number' ? answer.exp * 1000 : undefined;
    if (expiresAt !== undefined && expiresAt + CLOCK_TOLERANCE_MS <= now)
      throw invalid('The token has expired');
    if (typeof answer.nbf === 'number' && answer.nbf * 1000 - CLOCK_TOLERANCE_MS > now) {
      throw invalid('The token is not yet valid');
    }
    if (config.issuer !== undefined && answer.iss !== undefined && answer.iss !== config.issuer) {
      throw invalid('The token issuer is not trusted');
    }
    if (
      config.clientIds &&
      (typeof answer.client_id !== 'string' || !config.clientIds.includes(answer.client_id))
    ) {
      throw invalid('The token was issued to a client that is not accepted');
    }
    if (config.audiences) {
      const audiences = Array.isArray(answer.aud) ? answer.aud : answer.aud === undefined ? [] : [answer.aud];
      if (!audiences.some((audience) => config.audiences?.includes(audience))) {
        throw invalid('The token audience is not accepted');
      }
    }
    const subject = subjectOf(answer, config.claims.subject);
    if (subject === undefined) throw invalid('The token subject claim is missing or empty');
    return { subject, document: answer, ...(expiresAt !== undefined ? { expiresAt } : {}) };
  }
}
