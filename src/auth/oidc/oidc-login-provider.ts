import express, { type Request, type Response, Router } from 'express';
import { importPKCS8 } from 'jose';
import * as oidc from 'openid-client';
import type { OidcProviderConfig } from '../../config/auth-schema.ts';
import { ServiceUnavailableError, UnauthorizedError } from '../../http/errors.ts';
import { BrowserBinding } from '../browser-binding.ts';
import { describeIdpError, isIdpUnavailable } from '../idp-errors.ts';
import {
  BoundLoginTransactions,
  completeSignIn,
  idpErrorReason,
  keepInSession,
  type LoginTransaction,
  loginStateError,
  preLoginContext,
  recordLoginFailure,
  takeFromSession,
  transactionProblem,
} from '../login-flow.ts';
import type { LoginProvider, LoginProviderDeps } from '../login-provider.ts';
import type { SessionRecord } from '../session/session.ts';
import { BackChannelLogout } from './backchannel-logout.ts';
import { mapClaims } from './claim-mapping.ts';
import { FirstSignInProfiles, nameFromPostedUser } from './first-sign-in-profile.ts';
import { LazyDiscovery } from './lazy-discovery.ts';
import { SignedClientSecret } from './signed-client-secret.ts';

export type OidcProviderDeps = LoginProviderDeps;

/**
 * Sign-in with one OIDC IdP as a confidential client: authorization code + PKCE S256 +
 * `state` + `nonce` per transaction, the exact redirect URI `<publicUrl>/auth/callback/<name>`,
 * and openid-client's checks of the response (RFC 9207 `iss` where the IdP advertises it) and of
 * the ID token (signature with the issuer's keys, `iss`, `aud`, `exp`, `nonce`).
 *
 * The transaction is held server-side: in the browser's pre-login session when the answer comes
 * back as a GET redirect (`responseMode: query`), or in the shared store bound to a SameSite=None
 * cookie when it comes back as a cross-site POST (`form_post`, Sign in with Apple), since the
 * SameSite=Lax session cookie does not ride that POST.
 */
export class OidcLoginProvider implements LoginProvider {
  readonly kind = 'oidc' as const;
  readonly name: string;
  readonly displayName: string;
  readonly redirectUri: string;
  readonly #settings: OidcProviderConfig;
  readonly #deps: OidcProviderDeps;
  readonly #discovery: LazyDiscovery<oidc.Configuration>;
  readonly #backChannel: BackChannelLogout;
  /** form_post only. */
  readonly #bound: BoundLoginTransactions | undefined;
  readonly #signedSecret: SignedClientSecret | undefined;
  readonly #profiles: FirstSignInProfiles | undefined;

  constructor(name: string, settings: OidcProviderConfig, deps: OidcProviderDeps) {
    this.name = name;
    this.displayName = settings.displayName ?? name;
    this.#settings = settings;
    this.#deps = deps;
    this.redirectUri = `${deps.config.server.publicUrl}/auth/callback/${name}`;
    this.#discovery = new LazyDiscovery(() => this.#discover(), {
      maxBackoffMs: settings.discoveryMaxBackoffMs,
    });
    this.#backChannel = new BackChannelLogout({
      provider: name,
      clientId: settings.clientId,
      httpTimeoutMs: settings.httpTimeoutMs,
      discovery: () => this.#discovery.get(),
      store: deps.store,
      logger: deps.logger,
      audit: deps.audit,
      onIdpLogout: deps.onIdpLogout,
    });
    if (settings.responseMode === 'form_post') {
      const ttlMs = deps.config.auth.loginTimeoutMs;
      this.#bound = new BoundLoginTransactions(
        deps.store,
        new BrowserBinding(deps.config.session, 'formpost', ttlMs),
        ttlMs,
      );
    }
    const signed = settings.signedClientSecret;
    if (signed?.teamId && signed.keyId && signed.privateKey) {
      this.#signedSecret = new SignedClientSecret({
        teamId: signed.teamId,
        keyId: signed.keyId,
        privateKey: signed.privateKey,
        clientId: settings.clientId,
        audience: signed.audience ?? settings.issuer,
        lifetimeSeconds: signed.lifetimeSeconds,
      });
    }
    if (settings.firstSignInUserField) this.#profiles = new FirstSignInProfiles(deps.store);
  }

  /** The IdP's metadata and this client, discovered on first use (see LazyDiscovery). */
  configuration(): Promise<oidc.Configuration> {
    return this.#discovery.get();
  }

  async #clientAuth(): Promise<oidc.ClientAuth> {
    const settings = this.#settings;
    const signed = this.#signedSecret;
    if (signed) {
      // The secret is remade before it expires, so it is read at every token request, not once.
      return async (_as, client, body, headers) => {
        const secret = await signed.current();
        if (settings.clientAuthMethod === 'client_secret_basic') {
          const credentials = `${encodeURIComponent(client.client_id)}:${encodeURIComponent(secret)}`;
          headers.set('authorization', `Basic ${Buffer.from(credentials).toString('base64')}`);
        } else {
          body.set('client_id', client.client_id);
          body.set('client_secret', secret);
        }
      };
    }
    switch (settings.clientAuthMethod) {
      case 'private_key_jwt': {
        const key = await importPKCS8(settings.privateKey ?? '', settings.privateKeyAlg);
        return oidc.PrivateKeyJwt(settings.privateKeyId ? { key, kid: settings.privateKeyId } : key);
      }
      case 'client_secret_post':
        return oidc.ClientSecretPost(settings.clientSecret);
      default:
        return oidc.ClientSecretBasic(settings.clientSecret);
    }
  }

  async #discover(): Promise<oidc.Configuration> {
    const settings = this.#settings;
    const insecure = new URL(settings.issuer).protocol === 'http:' && this.#deps.config.env !== 'production';
    try {
      return await oidc.discovery(
        new URL(settings.issuer),
        settings.clientId,
        { redirect_uris: [this.redirectUri], response_types: ['code'] },
        await this.#clientAuth(),
        {
          execute: insecure ? [oidc.allowInsecureRequests] : [],
          timeout: Math.ceil(settings.httpTimeoutMs / 1000),
        },
      );
    } catch (error) {
      this.#deps.logger.warn(
        { provider: this.name, issuer: settings.issuer, reason: describeIdpError(error) },
        'OIDC discovery failed',
      );
      throw error;
    }
  }

  async startLogin(req: Request, res: Response, returnTo: string): Promise<void> {
    const configuration = await this.#discovery.get();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const codeChallenge = await oidc.calculatePKCECodeChallenge(codeVerifier);
    const login: LoginTransaction = {
      provider: this.name,
      nonce,
      codeVerifier,
      returnTo,
      expiresAt: Date.now() + this.#deps.config.auth.loginTimeoutMs,
    };
    if (this.#bound) await this.#bound.keep(req, res, state, { ...login, ...preLoginContext(req) });
    else await keepInSession(req, state, login);

    const url = oidc.buildAuthorizationUrl(configuration, {
      ...this.#settings.authParams,
      redirect_uri: this.redirectUri,
      response_type: 'code',
      ...(this.#bound ? { response_mode: 'form_post' } : {}),
      scope: this.#settings.scopes.join(' '),
      state,
      nonce,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
    });
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, url.href);
  }

  routes(): Router {
    const router = Router();
    if (this.#bound) {
      // The IdP's auto-submitted form; this provider has no GET callback (its transactions are not in the session).
      router.post(
        `/callback/${this.name}`,
        express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }),
        (req, res) => this.#formPostCallback(req, res),
      );
    } else {
      router.get(`/callback/${this.name}`, (req, res) => this.#queryCallback(req, res));
    }
    router.post(
      `/backchannel-logout/${this.name}`,
      express.urlencoded({ extended: false, limit: '16kb' }),
      (req, res) => this.#backChannel.handle(req, res),
    );
    return router;
  }

  #fail(req: Request, reason: string, error: Error): Error {
    recordLoginFailure(this.#deps.audit, req, this.name, reason);
    return error;
  }

  async #queryCallback(req: Request, res: Response): Promise<void> {
    const params = new URL(req.originalUrl, 'https://callback.invalid').searchParams;
    const state = params.get('state');
    await this.#callback(req, res, params, takeFromSession(req, state));
  }

  async #formPostCallback(req: Request, res: Response): Promise<void> {
    if (!req.is('application/x-www-form-urlencoded')) {
      throw this.#fail(req, 'malformed_callback', loginStateError());
    }
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries((req.body ?? {}) as Record<string, unknown>)) {
      // A repeated field (`state=a&state=b`) is not something an IdP sends.
      if (typeof value !== 'string') throw this.#fail(req, 'malformed_callback', loginStateError());
      params.set(key, value);
    }
    const bound = this.#bound!;
    const taken = await bound.take(req, params.get('state'));
    if (taken.otherBrowser) throw this.#fail(req, 'browser_binding_mismatch', loginStateError());
    bound.clear(res);
    await this.#callback(req, res, params, taken.login);
  }

  async #callback(
    req: Request,
    res: Response,
    params: URLSearchParams,
    login: LoginTransaction | undefined,
  ): Promise<void> {
    const state = params.get('state');
    const problem = transactionProblem(login, state, this.name);
    if (problem || !login) throw this.#fail(req, problem ?? 'unknown_state', loginStateError());

    const loginFailed = () => new UnauthorizedError('Sign-in was not completed.', 'login_failed');
    const idpError = params.get('error');
    if (idpError !== null) throw this.#fail(req, idpErrorReason(idpError), loginFailed());

    // Not part of the OAuth response: the name the IdP posts once (Apple's `user`), and an
    // `id_token` some IdPs add to a form_post even for response_type=code — the token endpoint's
    // ID token is the one that counts.
    const userField = this.#settings.firstSignInUserField;
    const postedUser = userField ? (params.get(userField) ?? undefined) : undefined;
    if (userField) params.delete(userField);
    params.delete('id_token');

    const configuration = await this.#discovery.get();
    const currentUrl = new URL(this.redirectUri);
    currentUrl.search = params.toString();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: login.codeVerifier,
        expectedState: state ?? undefined,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      const reason = describeIdpError(error);
      this.#deps.logger.warn(
        { provider: this.name, reason, requestId: req.scope.requestId },
        'OIDC callback rejected',
      );
      if (isIdpUnavailable(error)) {
        throw this.#fail(
          req,
          'idp_unavailable',
          new ServiceUnavailableError('The identity provider cannot be reached; retry later.', 5, {
            cause: error,
          }),
        );
      }
      throw this.#fail(req, 'token_rejected', loginFailed());
    }

    const idClaims = tokens.claims();
    if (!idClaims) throw this.#fail(req, 'no_id_token', loginFailed());
    let claims: Record<string, unknown> = { ...idClaims };
    if (this.#settings.fetchUserinfo) {
      try {
        const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
        claims = { ...userinfo, ...idClaims };
      } catch (error) {
        if (isIdpUnavailable(error)) throw new ServiceUnavailableError(undefined, 5, { cause: error });
        throw this.#fail(req, 'userinfo_rejected', loginFailed());
      }
    }
    let principal = mapClaims(this.name, this.#settings.claims, claims);
    if (!principal) throw this.#fail(req, 'subject_claim_missing', loginFailed());
    if (this.#profiles && principal.claims.name === undefined) {
      const posted = nameFromPostedUser(postedUser);
      if (posted !== undefined) await this.#profiles.remember(this.name, principal.subject, posted);
      const name = posted ?? (await this.#profiles.recall(this.name, principal.subject));
      if (name !== undefined) principal = { ...principal, claims: { ...principal.claims, name } };
    }

    const now = Date.now();
    const sid = typeof idClaims.sid === 'string' ? idClaims.sid : undefined;
    await completeSignIn(req, res, this.#deps, {
      principal,
      provider: this.name,
      login,
      record: {
        ...(typeof idClaims.auth_time === 'number' ? { authTime: idClaims.auth_time * 1000 } : {}),
        idp: {
          ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
          ...(this.#settings.refreshTokens && tokens.refresh_token
            ? { refreshToken: tokens.refresh_token }
            : {}),
          ...(tokens.expires_in !== undefined
            ? { accessTokenExpiresAt: now + tokens.expires_in * 1000 }
            : {}),
          ...(sid ? { sid } : {}),
        },
      },
    });
  }

  async logoutUrl(session: SessionRecord): Promise<string | undefined> {
    let configuration: oidc.Configuration;
    try {
      configuration = await this.#discovery.get();
    } catch {
      return undefined; // the local session is gone either way
    }
    if (!configuration.serverMetadata().end_session_endpoint) return undefined;
    const params: Record<string, string> = { client_id: this.#settings.clientId };
    if (this.#settings.logoutIdTokenHint && session.idp?.idToken) params.id_token_hint = session.idp.idToken;
    if (this.#settings.postLogoutRedirectUri)
      params.post_logout_redirect_uri = this.#settings.postLogoutRedirectUri;
    return oidc.buildEndSessionUrl(configuration, params).href;
  }

  /**
   * Keeps the IdP session alive with the refresh token once the access token has expired.
   * Answers false when the IdP refuses the refresh (the keywarden session then ends); an
   * unreachable IdP keeps the session and tries again on a later request.
   */
  async refreshSession(record: SessionRecord): Promise<boolean> {
    const idp = record.idp;
    if (!this.#settings.refreshTokens || !idp?.refreshToken) return true;
    if (idp.accessTokenExpiresAt === undefined || idp.accessTokenExpiresAt > Date.now()) return true;
    try {
      const configuration = await this.#discovery.get();
      const tokens = await oidc.refreshTokenGrant(configuration, idp.refreshToken);
      if (tokens.refresh_token) idp.refreshToken = tokens.refresh_token;
      if (tokens.id_token) idp.idToken = tokens.id_token;
      idp.accessTokenExpiresAt = Date.now() + (tokens.expires_in ?? 300) * 1000;
      return true;
    } catch (error) {
      if (error instanceof ServiceUnavailableError || isIdpUnavailable(error)) return true;
      this.#deps.logger.info(
        { provider: this.name, reason: describeIdpError(error) },
        'IdP refused the session refresh',
      );
      return false;
    }
  }
}
