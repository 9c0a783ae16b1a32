import { type Request, type Response, Router } from 'express';
import * as oidc from 'openid-client';
import type { OAuth2ProviderConfig } from '../../config/oauth2-schema.ts';
import { ServiceUnavailableError, UnauthorizedError } from '../../http/errors.ts';
import { principalFromDocument } from '../document-claims.ts';
import { describeIdpError, isIdpUnavailable } from '../idp-errors.ts';
import {
  completeSignIn,
  idpErrorReason,
  keepInSession,
  loginStateError,
  recordLoginFailure,
  takeFromSession,
  transactionProblem,
} from '../login-flow.ts';
import type { LoginProvider, LoginProviderDeps } from '../login-provider.ts';
import { ProviderRejectedError, ProviderUnavailableError } from '../provider-errors.ts';
import { UserDocumentSource } from './user-document.ts';

/**
 * Sign-in with a plain OAuth 2.0 provider (GitHub, Facebook, X, Amazon — see the presets in
 * src/auth/provider-presets.ts) as a confidential client: authorization code, `state` always and
 * PKCE S256 unless turned off, the transaction in the browser's pre-login session, the exact
 * redirect URI `<publicUrl>/auth/callback/<name>`. There is no ID token: the user is whoever the
 * provider's user endpoint says owns the access token, read with that token right after the
 * exchange. The token is used for that only and never kept.
 */
export class OAuth2LoginProvider implements LoginProvider {
  readonly kind = 'oauth2' as const;
  readonly name: string;
  readonly displayName: string;
  readonly redirectUri: string;
  readonly #settings: OAuth2ProviderConfig;
  readonly #deps: LoginProviderDeps;
  readonly #configuration: oidc.Configuration;
  readonly #users: UserDocumentSource;

  constructor(name: string, settings: OAuth2ProviderConfig, deps: LoginProviderDeps) {
    this.name = name;
    this.displayName = settings.displayName ?? name;
    this.#settings = settings;
    this.#deps = deps;
    this.redirectUri = `${deps.config.server.publicUrl}/auth/callback/${name}`;
    this.#configuration = oauth2Configuration(settings, deps.config.env === 'production');
    this.#users = new UserDocumentSource(this.#configuration, settings.userInfo, settings.clientSecret, name);
  }

  async startLogin(req: Request, res: Response, returnTo: string): Promise<void> {
    const state = oidc.randomState();
    const codeVerifier = this.#settings.pkce ? oidc.randomPKCECodeVerifier() : undefined;
    await keepInSession(req, state, {
      provider: this.name,
      returnTo,
      expiresAt: Date.now() + this.#deps.config.auth.loginTimeoutMs,
      ...(codeVerifier ? { codeVerifier } : {}),
    });
    const url = oidc.buildAuthorizationUrl(this.#configuration, {
      ...this.#settings.authParams,
      redirect_uri: this.redirectUri,
      response_type: 'code',
      ...(this.#settings.scopes.length > 0 ? { scope: this.#settings.scopes.join(' ') } : {}),
      state,
      ...(codeVerifier
        ? {
            code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
            code_challenge_method: 'S256',
          }
        : {}),
    });
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, url.href);
  }

  routes(): Router {
    const router = Router();
    router.get(`/callback/${this.name}`, (req, res) => this.#callback(req, res));
    return router;
  }

  #fail(req: Request, reason: string, error: Error): Error {
    recordLoginFailure(this.#deps.audit, req, this.name, reason);
    return error;
  }

  async #callback(req: Request, res: Response): Promise<void> {
    const params = new URL(req.originalUrl, 'https://callback.invalid').searchParams;
    const state = params.get('state');
    const login = takeFromSession(req, state);
    const problem = transactionProblem(login, state, this.name);
    if (problem || !login) throw this.#fail(req, problem ?? 'unknown_state', loginStateError());

    const loginFailed = () => new UnauthorizedError('Sign-in was not completed.', 'login_failed');
    const idpError = params.get('error');
    if (idpError !== null) throw this.#fail(req, idpErrorReason(idpError), loginFailed());

    const currentUrl = new URL(this.redirectUri);
    currentUrl.search = params.toString();
    let accessToken: string;
    try {
      const tokens = await oidc.authorizationCodeGrant(this.#configuration, currentUrl, {
        ...(login.codeVerifier ? { pkceCodeVerifier: login.codeVerifier } : {}),
        expectedState: state ?? undefined,
        idTokenExpected: false,
      });
      accessToken = tokens.access_token;
    } catch (error) {
      const reason = describeIdpError(error);
      this.#deps.logger.warn(
        { provider: this.name, reason, requestId: req.scope.requestId },
        'OAuth 2.0 callback rejected',
      );
      if (isIdpUnavailable(error)) {
        throw this.#fail(
          req,
          'idp_unavailable',
          new ServiceUnavailableError('The sign-in provider cannot be reached; retry later.', 5, {
            cause: error,
          }),
        );
      }
      throw this.#fail(req, 'token_rejected', loginFailed());
    }

    let document: Record<string, unknown>;
    try {
      document = await this.#users.fetch(accessToken);
    } catch (error) {
      this.#deps.logger.warn(
        { provider: this.name, reason: (error as Error).message, requestId: req.scope.requestId },
        'OAuth 2.0 user document not read',
      );
      if (error instanceof ProviderUnavailableError) {
        throw this.#fail(
          req,
          'idp_unavailable',
          new ServiceUnavailableError(
            'The sign-in provider cannot be reached; retry later.',
            error.retryAfterSeconds,
            {
              cause: error,
            },
          ),
        );
      }
      if (error instanceof ProviderRejectedError) throw this.#fail(req, 'userinfo_rejected', loginFailed());
      throw error;
    }
    const principal = principalFromDocument(this.name, this.#settings.claims, document);
    if (!principal) throw this.#fail(req, 'subject_claim_missing', loginFailed());
    await completeSignIn(req, res, this.#deps, { principal, provider: this.name, login });
  }
}

/**
 * openid-client's client for a provider without discovery: the endpoints come from config.
 * Plain HTTP endpoints (local stand-ins) are allowed outside production only; the config check
 * refuses them in production anyway.
 */
export function oauth2Configuration(
  settings: Pick<
    OAuth2ProviderConfig,
    | 'issuer'
    | 'authorizationEndpoint'
    | 'tokenEndpoint'
    | 'clientId'
    | 'clientSecret'
    | 'clientAuthMethod'
    | 'httpTimeoutMs'
  >,
  production: boolean,
): oidc.Configuration {
  const clientAuth =
    settings.clientAuthMethod === 'client_secret_post'
      ? oidc.ClientSecretPost(settings.clientSecret)
      : oidc.ClientSecretBasic(settings.clientSecret);
  const configuration = new oidc.Configuration(
    {
      issuer: settings.issuer ?? new URL(settings.authorizationEndpoint).origin,
      authorization_endpoint: settings.authorizationEndpoint,
      token_endpoint: settings.tokenEndpoint,
    },
    settings.clientId,
    undefined,
    clientAuth,
  );
  configuration.timeout = settings.httpTimeoutMs / 1000;
  if (!production) oidc.allowInsecureRequests(configuration);
  return configuration;
}
