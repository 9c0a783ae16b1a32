import { type Profile, SAML, type SamlConfig, ValidateInResponseTo } from '@node-saml/node-saml';
import express, { type Request, type Response, Router } from 'express';
import type { SamlProviderConfig } from '../../config/saml-schema.ts';
import { StoreUnavailableError } from '../../store/types.ts';
import { BrowserBinding } from '../browser-binding.ts';
import type { LoginProvider, LoginProviderDeps } from '../login-provider.ts';
import { safeReturnTo } from '../return-to.ts';
import {
  currentSession,
  endSession,
  establishSession,
  revokeSessions,
  type SessionRecord,
} from '../session/session.ts';
import { idpCertificateSource, toPem } from './idp-certificates.ts';
import {
  assertSignedRedirect,
  inflateRedirectPayload,
  inspectLogoutRequest,
  type LogoutRequestFacts,
  readRedirectMessage,
} from './logout-checks.ts';
import { rejectionFromNodeSaml, SamlRejection } from './rejection.ts';
import { SamlReplayGuard } from './replay-guard.ts';
import { StoreRequestIdCache } from './request-id-cache.ts';
import {
  assertStrongAlgorithms,
  decodeBase64Message,
  inspectResponse,
  inspectVerifiedAssertion,
  parseSamlXml,
} from './response-checks.ts';
import { principalFromProfile } from './saml-principal.ts';

export type SamlProviderDeps = LoginProviderDeps;

/** keywarden's own SAML endpoints for one provider, all derived from `server.publicUrl`. */
export interface SamlEndpoints {
  entityId: string;
  acsUrl: string;
  sloUrl: string;
  metadataUrl: string;
}

function samlEndpoints(publicUrl: string, name: string, spEntityId?: string): SamlEndpoints {
  const base = `${publicUrl}/auth/saml/${name}`;
  return {
    entityId: spEntityId ?? `${base}/metadata`,
    acsUrl: `${base}/acs`,
    sloUrl: `${base}/slo`,
    metadataUrl: `${base}/metadata`,
  };
}

/** A store outage must answer 503, not be mistaken for a bad message. */
function unlessUnavailable(error: unknown): SamlRejection {
  if (error instanceof StoreUnavailableError) throw error;
  return rejectionFromNodeSaml(error);
}

/**
 * One SAML 2.0 IdP as a login provider. node-saml (≥ 5.1) does the XML-signature work with
 * the IdP certificates from config only; around it keywarden adds what node-saml leaves out
 * or gets wrong for a multi-instance BFF: a store-backed request-id cache bound to the browser
 * that started the login, the SHA-1 ban, Destination/Recipient/Issuer checks,
 * one-assertion-only, replay detection, signed LogoutRequests only. See docs/saml.md.
 */
export class SamlLoginProvider implements LoginProvider {
  readonly name: string;
  readonly kind = 'saml' as const;
  readonly displayName: string;
  readonly endpoints: SamlEndpoints;
  readonly #settings: SamlProviderConfig;
  readonly #deps: SamlProviderDeps;
  readonly #samlOptions: SamlConfig;
  /** For logout and metadata; a login uses a per-browser instance (`#samlForBrowser`). */
  readonly #saml: SAML;
  readonly #requestIds: StoreRequestIdCache;
  readonly #browserBinding: BrowserBinding;
  readonly #replays: SamlReplayGuard;

  constructor(name: string, settings: SamlProviderConfig, deps: SamlProviderDeps) {
    this.name = name;
    this.displayName = settings.displayName ?? name;
    this.#settings = settings;
    this.#deps = deps;
    this.endpoints = samlEndpoints(deps.config.server.publicUrl, name, settings.spEntityId);
    this.#replays = new SamlReplayGuard(deps.store, name, settings.acceptedClockSkewMs);
    this.#requestIds = new StoreRequestIdCache(deps.store, name, settings.requestTtlMs);
    this.#browserBinding = new BrowserBinding(deps.config.session, 'saml', settings.requestTtlMs);
    this.#samlOptions = this.#buildSamlOptions();
    this.#saml = new SAML(this.#samlOptions);
  }

  /**
   * node-saml reaches its request-id cache only through the instance's options, so a login
   * exchange gets its own (cheap: options only) instance whose cache sees the ids of the
   * browser that presented this binding digest.
   */
  #samlForBrowser(requestIds: StoreRequestIdCache): SAML {
    return new SAML({ ...this.#samlOptions, cacheProvider: requestIds });
  }

  #buildSamlOptions(): SamlConfig {
    const s = this.#settings;
    const { entityId, acsUrl, sloUrl } = this.endpoints;
    return {
      issuer: entityId,
      callbackUrl: acsUrl,
      logoutCallbackUrl: sloUrl,
      entryPoint: s.ssoUrl,
      logoutUrl: s.sloUrl ?? s.ssoUrl,
      idpIssuer: s.idpEntityId,
      // From configuration only: a certificate inside the message is never trusted.
      idpCert: idpCertificateSource({
        ...(s.idpCertificates ? { certificates: s.idpCertificates } : {}),
        ...(s.idpMetadataFile ? { metadataFile: s.idpMetadataFile } : {}),
        entityId: s.idpEntityId,
      }),
      audience: entityId,
      wantAssertionsSigned: s.wantAssertionsSigned,
      // node-saml 5 defaults this to true; most IdPs sign only the assertion.
      wantAuthnResponseSigned: s.wantResponseSigned,
      signatureAlgorithm: s.signatureAlgorithm,
      digestAlgorithm: s.signatureAlgorithm,
      ...(s.spPrivateKey ? { privateKey: s.spPrivateKey } : {}),
      ...(s.spCertificate ? { publicCert: toPem(s.spCertificate) } : {}),
      ...(s.decryptionPrivateKey ? { decryptionPvk: s.decryptionPrivateKey } : {}),
      identifierFormat: s.nameIdFormat,
      // A requested AuthnContext (node-saml asks for PasswordProtectedTransport) makes Entra and
      // ADFS refuse MFA or Windows sign-ins; the IdP's policy decides how users authenticate.
      disableRequestedAuthnContext: true,
      acceptedClockSkewMs: s.acceptedClockSkewMs,
      // `never` is node-saml's default; unsolicited responses carry no InResponseTo at all, so
      // nothing binds them to a browser either (docs/saml.md: why they are off by default).
      validateInResponseTo: s.allowUnsolicited ? ValidateInResponseTo.ifPresent : ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: s.requestTtlMs,
      // Unbound view: LogoutRequest ids. AuthnRequest ids go through `#samlForBrowser`.
      cacheProvider: this.#requestIds,
    };
  }

  async startLogin(_req: Request, res: Response, returnTo: string): Promise<void> {
    // RelayState carries the (already validated) return path; it is validated again on the
    // way back, since the IdP hands back whatever it was given — or whatever an attacker posts.
    // The request id is saved with the binding's digest before the cookie goes out: a store
    // failure answers 503 without leaving a cookie behind.
    const binding = this.#browserBinding.mint();
    const saml = this.#samlForBrowser(this.#requestIds.forBrowser(binding.digest));
    const url = await saml.getAuthorizeUrlAsync(returnTo, undefined, {});
    this.#browserBinding.set(res, binding);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, url);
  }

  async logoutUrl(session: SessionRecord): Promise<string | undefined> {
    const idp = session.idp;
    if (!this.#settings.sloUrl || !idp?.nameID) return undefined;
    const profile: Profile = {
      issuer: this.#settings.idpEntityId,
      nameID: idp.nameID,
      nameIDFormat: idp.nameIDFormat ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
      ...(idp.sessionIndex ? { sessionIndex: idp.sessionIndex } : {}),
    };
    return this.#saml.getLogoutUrlAsync(profile, this.#deps.config.auth.landingPath, {});
  }

  /** SP metadata for the IdP administrator: entity id, ACS, SLO, NameID format, certificates. */
  metadata(): string {
    const s = this.#settings;
    const xml = this.#saml.generateServiceProviderMetadata(
      s.decryptionCertificate ? toPem(s.decryptionCertificate) : null,
      s.spCertificate ? toPem(s.spCertificate) : null,
    );
    // node-saml lists the SLO endpoint for HTTP-POST only; IdPs mostly send LogoutRequests by
    // HTTP-Redirect, which the same URL serves, so both bindings are announced.
    const postSlo = '<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"';
    const redirectSlo = `<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${this.endpoints.sloUrl}"/>`;
    return xml.replace(postSlo, `${redirectSlo}\n    ${postSlo}`);
  }

  routes(): Router {
    const router = Router();
    const base = `/saml/${this.name}`;
    // Its own tight limit: a SAMLResponse is a few kB; the JSON limit elsewhere is unrelated.
    const form = express.urlencoded({
      extended: false,
      limit: this.#settings.maxMessageBytes,
      parameterLimit: 10,
      type: 'application/x-www-form-urlencoded',
    });

    router.get(`${base}/metadata`, (_req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.type('application/samlmetadata+xml').send(this.metadata());
    });
    router.post(`${base}/acs`, form, async (req, res) => {
      await this.#assertionConsumer(req, res);
    });
    router.get(`${base}/slo`, async (req, res) => {
      await this.#singleLogout(req, () => this.#redirectBindingLogout(req, res));
    });
    router.post(`${base}/slo`, form, async (req, res) => {
      await this.#singleLogout(req, () => this.#postBindingLogout(req, res));
    });
    return router;
  }

  #audit(req: Request, event: 'login.failed' | 'saml.replay_rejected', rejection: SamlRejection): void {
    this.#deps.audit.record(event, {
      outcome: 'failure',
      requestId: req.scope.requestId,
      sourceIp: req.ip,
      provider: this.name,
      reason: rejection.reason,
    });
  }

  async #assertionConsumer(req: Request, res: Response): Promise<void> {
    try {
      await this.#acceptResponse(req, res);
    } catch (error) {
      if (error instanceof SamlRejection) {
        this.#audit(req, error.reason === 'replay' ? 'saml.replay_rejected' : 'login.failed', error);
      }
      throw error;
    }
  }

  async #acceptResponse(req: Request, res: Response): Promise<void> {
    // The POST binding is a form post; a JSON body parsed by the app-wide parser is not one.
    if (!req.is('application/x-www-form-urlencoded')) throw new SamlRejection('malformed');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const samlResponse = body.SAMLResponse;
    const xml = decodeBase64Message(samlResponse);
    const s = this.#settings;
    const expect = {
      acsUrl: this.endpoints.acsUrl,
      idpEntityId: s.idpEntityId,
      ...(s.decryptionPrivateKey ? { decryptionKey: s.decryptionPrivateKey } : {}),
    };
    const inspected = await inspectResponse(xml, expect);
    await this.#replays.assertUnseen(
      inspected.assertionId ? [inspected.assertionId, inspected.responseId] : [inspected.responseId],
    );

    // A solicited response is looked up through this browser's binding only; an unsolicited one
    // (no InResponseTo, where allowed) has no request to look up and so no binding.
    const requestIds = this.#requestIds.forBrowser(this.#browserBinding.presented(req));
    let profile: Profile | null;
    try {
      ({ profile } = await this.#samlForBrowser(requestIds).validatePostResponseAsync({
        SAMLResponse: samlResponse as string,
      }));
    } catch (error) {
      if (requestIds.foundForAnotherBrowser && !(error instanceof StoreUnavailableError)) {
        throw new SamlRejection('browser_binding_mismatch', { cause: error });
      }
      throw unlessUnavailable(error);
    }
    const assertionXml = profile?.getAssertionXml?.();
    if (!profile || !assertionXml) throw new SamlRejection('malformed');

    const facts = await inspectVerifiedAssertion(assertionXml, expect);
    await this.#replays.remember([facts.assertionId, inspected.responseId], facts.validUntilMs);

    const principal = principalFromProfile(this.name, profile, s.attributes);
    await establishSession(req, {
      principal,
      provider: this.name,
      idp: {
        nameID: profile.nameID,
        nameIDFormat: profile.nameIDFormat,
        ...(profile.sessionIndex
          ? // The SessionIndex is the IdP's session id: indexed as `sid`, SLO finds the session by it.
            { sessionIndex: profile.sessionIndex, sid: profile.sessionIndex }
          : {}),
      },
    });
    this.#deps.audit.record('login.succeeded', {
      outcome: 'success',
      requestId: req.scope.requestId,
      sourceIp: req.ip,
      provider: this.name,
      subject: principal.subject,
    });
    this.#browserBinding.clear(res);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, safeReturnTo(body.RelayState, this.#deps.config));
  }

  /** Runs one SLO exchange; a refusal is audited with its reason and answered with the generic 401. */
  async #singleLogout(req: Request, handle: () => Promise<void>): Promise<void> {
    try {
      await handle();
    } catch (error) {
      const rejection = error instanceof SamlRejection ? error : unlessUnavailable(error);
      this.#deps.audit.record('logout', {
        outcome: 'failure',
        requestId: req.scope.requestId,
        sourceIp: req.ip,
        provider: this.name,
        reason: rejection.reason,
      });
      throw rejection;
    }
  }

  #logoutRequestExpectations() {
    const s = this.#settings;
    return {
      sloUrl: this.endpoints.sloUrl,
      idpEntityId: s.idpEntityId,
      maxAgeMs: s.requestTtlMs,
      skewMs: s.acceptedClockSkewMs,
    };
  }

  /** HTTP-Redirect binding: the signature covers the raw query string. */
  async #redirectBindingLogout(req: Request, res: Response): Promise<void> {
    const at = req.originalUrl.indexOf('?');
    const message = readRedirectMessage(at >= 0 ? req.originalUrl.slice(at + 1) : '');
    if (message.params.SAMLRequest) {
      assertSignedRedirect(message);
      const facts = await inspectLogoutRequest(
        inflateRedirectPayload(message.params.SAMLRequest),
        this.#logoutRequestExpectations(),
      );
      let profile: Profile | null;
      try {
        ({ profile } = await this.#saml.validateRedirectAsync(message.params, message.rawQuery));
      } catch (error) {
        throw unlessUnavailable(error);
      }
      await this.#obeyLogoutRequest(req, res, profile, facts, message.params.RelayState);
    } else if (message.params.SAMLResponse) {
      // The answer to our own LogoutRequest. The local session is already gone; land the browser.
      if (message.params.Signature) assertSignedRedirect(message);
      try {
        await this.#saml.validateRedirectAsync(message.params, message.rawQuery);
      } catch (error) {
        throw unlessUnavailable(error);
      }
      this.#landAfterLogout(res, message.params.RelayState);
    } else {
      throw new SamlRejection('malformed');
    }
  }

  /** HTTP-POST binding: an enveloped XML signature, which node-saml requires for both message kinds. */
  async #postBindingLogout(req: Request, res: Response): Promise<void> {
    if (!req.is('application/x-www-form-urlencoded')) throw new SamlRejection('malformed');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const relayState = typeof body.RelayState === 'string' ? body.RelayState : undefined;
    if (body.SAMLRequest !== undefined) {
      const facts = await inspectLogoutRequest(
        decodeBase64Message(body.SAMLRequest),
        this.#logoutRequestExpectations(),
      );
      let profile: Profile | null;
      try {
        ({ profile } = await this.#saml.validatePostRequestAsync({
          SAMLRequest: body.SAMLRequest as string,
        }));
      } catch (error) {
        throw unlessUnavailable(error);
      }
      await this.#obeyLogoutRequest(req, res, profile, facts, relayState);
    } else if (body.SAMLResponse !== undefined) {
      assertStrongAlgorithms(await parseSamlXml(decodeBase64Message(body.SAMLResponse)));
      let loggedOut: boolean;
      try {
        ({ loggedOut } = await this.#saml.validatePostResponseAsync({
          SAMLResponse: body.SAMLResponse as string,
        }));
      } catch (error) {
        throw unlessUnavailable(error);
      }
      if (!loggedOut) throw new SamlRejection('malformed');
      this.#landAfterLogout(res, relayState);
    } else {
      throw new SamlRejection('malformed');
    }
  }

  /**
   * The IdP ends the user's sessions (IdP-initiated, or another SP's logout propagated by the
   * IdP): every keywarden session of that NameID — or of that SessionIndex when given — ends,
   * whichever instance holds it, and the IdP gets a LogoutResponse.
   */
  async #obeyLogoutRequest(
    req: Request,
    res: Response,
    profile: Profile | null,
    facts: LogoutRequestFacts,
    relayState: string | undefined,
  ): Promise<void> {
    if (!profile?.nameID) throw new SamlRejection('subject_missing');
    await this.#replays.remember([facts.id], facts.issueInstantMs + this.#settings.requestTtlMs);

    const sessionIndex = typeof profile.sessionIndex === 'string' ? profile.sessionIndex : undefined;
    const revoked = await revokeSessions(
      this.#deps.store,
      sessionIndex
        ? { provider: this.name, sid: sessionIndex }
        : { provider: this.name, subject: profile.nameID },
    );
    const grants = this.#deps.onIdpLogout ? await this.#deps.onIdpLogout(this.name, profile.nameID) : 0;
    const own = currentSession(req);
    if (own?.provider === this.name && own.principal.subject === profile.nameID) await endSession(req);
    this.#deps.audit.record('session.revoked', {
      outcome: 'success',
      requestId: req.scope.requestId,
      sourceIp: req.ip,
      provider: this.name,
      subject: profile.nameID,
      reason: 'saml_logout_request',
      sessions: revoked,
      grants,
    });
    const url = await this.#saml.getLogoutResponseUrlAsync(profile, relayState ?? '', {}, true);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, url);
  }

  #landAfterLogout(res: Response, relayState: string | undefined): void {
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, safeReturnTo(relayState, this.#deps.config));
  }
}
