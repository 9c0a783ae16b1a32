import { createHmac } from 'node:crypto';
import * as oidc from 'openid-client';
import type { UserInfoConfig } from '../../config/oauth2-schema.ts';
import { isIdpTransportFailure } from '../idp-errors.ts';
import { jsonBodyOf, outageOf, ProviderRejectedError, ProviderUnavailableError } from '../provider-errors.ts';

/**
 * A plain OAuth 2.0 provider's user document: its user endpoint called with the access token
 * (openid-client's fetchProtectedResource: `Authorization: Bearer`, the configured timeout),
 * plus the configured extra calls (GitHub's /user/emails and /user/orgs), each answer put into
 * the document under its name. Used by the browser sign-in and by the opaque bearer tokens of
 * the same providers, so web and mobile map a user the same way.
 */
export class UserDocumentSource {
  readonly #configuration: oidc.Configuration;
  readonly #settings: UserInfoConfig;
  readonly #appSecret: string | undefined;
  readonly #what: string;

  /**
   * @param configuration the provider's client configuration (timeouts, insecure-HTTP allowance)
   * @param appSecret the client secret, for Facebook's `appsecret_proof` when `appSecretProof` is on
   * @param what names the provider in logs
   */
  constructor(
    configuration: oidc.Configuration,
    settings: UserInfoConfig,
    appSecret: string | undefined,
    what: string,
  ) {
    this.#configuration = configuration;
    this.#settings = settings;
    this.#appSecret = appSecret;
    this.#what = what;
  }

  /** The user document; throws ProviderRejectedError (→ 401) or ProviderUnavailableError (→ 503). */
  async fetch(accessToken: string): Promise<Record<string, unknown>> {
    const extras = Object.entries(this.#settings.extraCalls);
    const [user, ...answers] = await Promise.all([
      this.#get(this.#settings.url, accessToken, 'user endpoint'),
      ...extras.map(([name, url]) => this.#get(url, accessToken, `${name} call`)),
    ]);
    if (typeof user !== 'object' || user === null || Array.isArray(user)) {
      throw new ProviderRejectedError(`${this.#what} user endpoint did not answer a JSON object`);
    }
    const document: Record<string, unknown> = { ...(user as Record<string, unknown>) };
    extras.forEach(([name], index) => {
      document[name] = answers[index];
    });
    return document;
  }

  async #get(url: string, accessToken: string, call: string): Promise<unknown> {
    const what = `${this.#what} ${call}`;
    const target = new URL(url);
    if (this.#settings.appSecretProof && this.#appSecret) {
      target.searchParams.set(
        'appsecret_proof',
        createHmac('sha256', this.#appSecret).update(accessToken).digest('hex'),
      );
    }
    const headers = new Headers(this.#settings.headers);
    if (!headers.has('accept')) headers.set('accept', 'application/json');
    let response: Response;
    try {
      response = await oidc.fetchProtectedResource(
        this.#configuration,
        accessToken,
        target,
        'GET',
        undefined,
        headers,
      );
    } catch (error) {
      throw this.#failure(error, what);
    }
    let body: unknown;
    try {
      body = await jsonBodyOf(response, what);
    } catch (error) {
      throw this.#failure(error, what);
    }
    if (response.status === 200) return body;
    throw (
      outageOf(response, body, what) ?? new ProviderRejectedError(`${what} answered HTTP ${response.status}`)
    );
  }

  #failure(error: unknown, what: string): Error {
    if (error instanceof ProviderUnavailableError) return error;
    if (error instanceof oidc.WWWAuthenticateChallengeError) {
      // A 401/403 with a challenge: the token is refused (unless the challenge is a rate limit).
      return (
        outageOf(error.response, undefined, what) ??
        new ProviderRejectedError(`${what} refused the token (HTTP ${error.status})`, { cause: error })
      );
    }
    if (isIdpTransportFailure(error)) {
      return new ProviderUnavailableError(`${what} could not be reached`, 5, { cause: error });
    }
    // Anything else (an http URL in production, say) is a deployment problem: retryable, not the user's fault.
    return new ProviderUnavailableError(`${what} failed`, 5, { cause: error });
  }
}

/**
 * A client configuration for calls that only need a timeout and the HTTP allowance (user
 * endpoints called for a mobile token): openid-client wants an authorization server, and the
 * user endpoint's origin stands for it.
 */
export function resourceClient(
  clientId: string,
  resourceUrl: string,
  timeoutMs: number,
  production: boolean,
): oidc.Configuration {
  const configuration = new oidc.Configuration({ issuer: new URL(resourceUrl).origin }, clientId);
  configuration.timeout = timeoutMs / 1000;
  if (!production) oidc.allowInsecureRequests(configuration);
  return configuration;
}
