import express, { type Request, type Response, Router } from 'express';
import { importPKCS8 } from 'jose';
import * as oidc from 'openid-client';
import type { OidcProviderConfig } from '../../config/auth-schema.ts';
import { BadRequestError, ServiceUnavailableError, UnauthorizedError } from '../../http/errors.ts';
import type { LoginProvider, LoginProviderDeps } from '../login-provider.ts';
import { establishSession, type SessionRecord } from '../session/session.ts';
import { BackChannelLogout } from './backchannel-logout.ts';
import { mapClaims } from './claim-mapping.ts';
import { LazyDiscovery } from './lazy-discovery.ts';
import { describeOidcError, isIdpUnavailable } from './oidc-errors.ts';

/** One started sign-in, kept in the pre-login session so the callback is bound to this browser. */
export interface OidcTransaction {
  provider: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  expiresAt: number;
}

declare module '../session/session-data.ts' {
  interface SessionData {
    /** Pending OIDC sign-ins of this browser, keyed by `state`. */
    oidcLogins?: Record<string, OidcTransaction>;
  }
}

/** A browser rarely has more than a couple of sign-in tabs open; older ones are dropped. */
const MAX_PENDING_LOGINS = 5;

export type OidcProviderDeps = LoginProviderDeps;

function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((error) => (error ? reject(error) : resolve())));
}

/**
 * Sign-in with one OIDC IdP as a confidential client: authorization code + PKCE S256 +
 * `state` + `nonce` per transaction, the transaction held server-side in the browser's
 * pre-login session, the exact redirect URI `<publicUrl>/auth/callback/<name>`, and
 * openid-client's checks of the response (RFC 9207 `iss` where the IdP advertises it) and of
 * the ID token (signature with the issuer's keys, `iss`, `aud`, `exp`, `nonce`).
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
  }

  /** The IdP's metadata and this client, discovered on first use (see LazyDiscovery). */
  configuration(): Promise<oidc.Configuration> {
    return this.#discovery.get();
  }

  async #clientAuth(): Promise<oidc.ClientAuth> {
    const settings = this.#settings;
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
        { provider: this.name, issuer: settings.issuer, reason: describeOidcError(error) },
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

    const now = Date.now();
    const pending = Object.entries(req.session.oidcLogins ?? {})
      .filter(([, login]) => login.expiresAt > now)
      .slice(-(MAX_PENDING_LOGINS - 1));
    pending.push([
      state,
      {
        provider: this.name,
        nonce,
        codeVerifier,
        returnTo,
        expiresAt: now + this.#deps.config.auth.loginTimeoutMs,
      },
    ]);
    req.session.oidcLogins = Object.fromEntries(pending);
    try {
      // Saved before redirecting: if the store is down the browser gets a 503, not a dead end at the IdP.
      await saveSession(req);
    } catch (error) {
      delete (req as { session?: unknown }).session;
      throw error;
    }

    const url = oidc.buildAuthorizationUrl(configuration, {
      ...this.#settings.authParams,
      redirect_uri: this.redirectUri,
      response_type: 'code',
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
    router.get(`/callback/${this.name}`, (req, res) => this.#callback(req, res));
    router.post(
      `/backchannel-logout/${this.name}`,
      express.urlencoded({ extended: false, limit: '16kb' }),
      (req, res) => this.#backChannel.handle(req, res),
    );
    return router;
  }

  #fail(req: Request, reason: string, error: Error): Error {
    this.#deps.audit.record('login.failed', {
      outcome: 'failure',
      requestId: req.scope.requestId,
      sourceIp: req.ip,
      provider: this.name,
      reason,
    });
    return error;
  }

  async #callback(req: Request, res: Response): Promise<void> {
    const params = new URL(req.originalUrl, 'https://callback.invalid').searchParams;
    const state = params.get('state');
    const pending = req.session?.oidcLogins;
    const login = state !== null && pending && Object.hasOwn(pending, state) ? pending[state] : undefined;
    if (login && state !== null && pending) {
      // One use only, whatever happens next: a replayed callback finds nothing.
      delete pending[state];
      req.session.oidcLogins = pending;
    }
    const stateError = () =>
      new BadRequestError('The sign-in could not be completed; please start again.', 'invalid_login_state');
    if (!login) throw this.#fail(req, state ? 'unknown_state' : 'missing_state', stateError());
    // Mix-up defence: a response meant for another IdP's transaction is refused here.
    if (login.provider !== this.name) throw this.#fail(req, 'state_for_other_provider', stateError());
    if (login.expiresAt <= Date.now()) throw this.#fail(req, 'login_expired', stateError());

    const loginFailed = () => new UnauthorizedError('Sign-in was not completed.', 'login_failed');
    const idpError = params.get('error');
    if (idpError !== null) {
      const reason = /^[a-z_]{1,64}$/.test(idpError) ? idpError : 'invalid_error_code';
      throw this.#fail(req, `idp_error:${reason}`, loginFailed());
    }

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
      const reason = describeOidcError(error);
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
    const principal = mapClaims(this.name, this.#settings.claims, claims);
    if (!principal) throw this.#fail(req, 'subject_claim_missing', loginFailed());

    const now = Date.now();
    const sid = typeof idClaims.sid === 'string' ? idClaims.sid : undefined;
    await establishSession(req, {
      principal,
      provider: this.name,
      ...(typeof idClaims.auth_time === 'number' ? { authTime: idClaims.auth_time * 1000 } : {}),
      idp: {
        ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
        ...(this.#settings.refreshTokens && tokens.refresh_token
          ? { refreshToken: tokens.refresh_token }
          : {}),
        ...(tokens.expires_in !== undefined ? { accessTokenExpiresAt: now + tokens.expires_in * 1000 } : {}),
        ...(sid ? { sid } : {}),
      },
    });
    this.#deps.audit.record('login.succeeded', {
      outcome: 'success',
      requestId: req.scope.requestId,
      sourceIp: req.ip,
      provider: this.name,
      subject: principal.subject,
    });
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, login.returnTo);
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
        { provider: this.name, reason: describeOidcError(error) },
        'IdP refused the session refresh',
      );
      return false;
    }
  }
}
