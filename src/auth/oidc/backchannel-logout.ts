import type { Request, Response } from 'express';
import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import type { Configuration } from 'openid-client';
import type { Logger } from 'pino';
import { ASYMMETRIC_ALGORITHMS } from '../../config/bearer-schema.ts';
import { BadRequestError, ServiceUnavailableError } from '../../http/errors.ts';
import type { AuditLog } from '../../observability/audit.ts';
import type { StateStore } from '../../store/types.ts';
import { revokeSessions } from '../session/session.ts';

const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Asymmetric algorithms only (the bearer issuers' list): `none` and HMAC (a shared client secret) never. */
const ASYMMETRIC_ALGS: ReadonlySet<string> = new Set(ASYMMETRIC_ALGORITHMS);

/** How old a logout token may be, and how long its `jti` is remembered to refuse a replay. */
const MAX_TOKEN_AGE_SECONDS = 300;
const CLOCK_TOLERANCE_SECONDS = 30;

export interface BackChannelLogoutOptions {
  provider: string;
  clientId: string;
  httpTimeoutMs: number;
  discovery: () => Promise<Configuration>;
  store: StateStore;
  logger: Logger;
  audit: AuditLog;
  onIdpLogout?: ((provider: string, subject: string) => Promise<number>) | undefined;
}

/**
 * OIDC Back-Channel Logout 1.0 receiver: the IdP POSTs a signed logout token; every session
 * of that `sid` (or, without one, of that `sub`) is deleted from the shared store, so the
 * sessions end on every instance at once.
 */
export class BackChannelLogout {
  readonly #options: BackChannelLogoutOptions;
  #jwks: { uri: string; keys: ReturnType<typeof createRemoteJWKSet> } | undefined;

  constructor(options: BackChannelLogoutOptions) {
    this.#options = options;
  }

  #keys(jwksUri: string): ReturnType<typeof createRemoteJWKSet> {
    if (this.#jwks?.uri !== jwksUri) {
      this.#jwks = {
        uri: jwksUri,
        keys: createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: this.#options.httpTimeoutMs }),
      };
    }
    return this.#jwks.keys;
  }

  #reject(req: Request, reason: string): BadRequestError {
    this.#options.audit.record('session.revoked', {
      outcome: 'failure',
      requestId: req.scope.requestId,
      sourceIp: req.ip,
      provider: this.#options.provider,
      reason,
    });
    return new BadRequestError('The logout token is not valid.', 'invalid_logout_token');
  }

  async #verify(req: Request, token: string): Promise<JWTPayload> {
    const configuration = await this.#options.discovery();
    const metadata = configuration.serverMetadata();
    if (!metadata.jwks_uri) throw this.#reject(req, 'idp_has_no_jwks');
    const advertised = metadata.id_token_signing_alg_values_supported ?? ['RS256'];
    const algorithms = advertised.filter((alg) => ASYMMETRIC_ALGS.has(alg));
    try {
      const { payload } = await jwtVerify(token, this.#keys(metadata.jwks_uri), {
        issuer: metadata.issuer,
        audience: this.#options.clientId,
        algorithms,
        requiredClaims: ['iat', 'jti'],
        maxTokenAge: MAX_TOKEN_AGE_SECONDS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      return payload;
    } catch (error) {
      if (
        error instanceof joseErrors.JWKSTimeout ||
        (error instanceof Error && (error.name === 'TypeError' || error.name === 'AbortError'))
      ) {
        throw new ServiceUnavailableError('The identity provider keys cannot be fetched.', 5, {
          cause: error,
        });
      }
      const code = error instanceof joseErrors.JOSEError ? error.code : 'invalid_token';
      throw this.#reject(req, code);
    }
  }

  async handle(req: Request, res: Response): Promise<void> {
    const body: unknown = req.body;
    const token =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>).logout_token : undefined;
    if (typeof token !== 'string' || token.length === 0 || token.length > 8_192) {
      throw this.#reject(req, 'logout_token_missing');
    }
    const payload = await this.#verify(req, token);

    const events = payload.events;
    if (
      typeof events !== 'object' ||
      events === null ||
      typeof (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT] !== 'object'
    ) {
      throw this.#reject(req, 'event_missing');
    }
    // A nonce would make the token usable as an ID token; the spec forbids it.
    if ('nonce' in payload) throw this.#reject(req, 'nonce_present');
    const sid = typeof payload.sid === 'string' && payload.sid ? payload.sid : undefined;
    const sub = typeof payload.sub === 'string' && payload.sub ? payload.sub : undefined;
    if (!sid && !sub) throw this.#reject(req, 'sid_and_sub_missing');

    const jtiKey = `oidc:bcl:jti:${this.#options.provider}:${String(payload.jti)}`;
    const fresh = await this.#options.store.set(jtiKey, '1', {
      ttlMs: (MAX_TOKEN_AGE_SECONDS + CLOCK_TOLERANCE_SECONDS) * 2 * 1000,
      onlyIfAbsent: true,
    });
    if (!fresh) throw this.#reject(req, 'replayed');

    let revoked: number;
    let grants: number;
    try {
      revoked = await revokeSessions(
        this.#options.store,
        sid ? { provider: this.#options.provider, sid } : { provider: this.#options.provider, subject: sub },
      );
      // The user signed out at the IdP: CLI tokens derived from their login end too.
      grants =
        sub && this.#options.onIdpLogout ? await this.#options.onIdpLogout(this.#options.provider, sub) : 0;
    } catch (error) {
      // Not done: the IdP retries after an error (Back-Channel Logout 1.0 §2.8), and that retry
      // carries this same token, so it must not be refused as a replay.
      await this.#options.store.delete(jtiKey).catch(() => undefined);
      throw error;
    }
    this.#options.audit.record('session.revoked', {
      outcome: 'success',
      requestId: req.scope.requestId,
      provider: this.#options.provider,
      ...(sub ? { subject: sub } : {}),
      reason: 'backchannel_logout',
      sessions: revoked,
      grants,
    });
    res.setHeader('Cache-Control', 'no-store');
    res.status(200).end();
  }
}
