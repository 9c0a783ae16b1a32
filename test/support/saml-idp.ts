import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import * as xmllint from '@authenio/samlify-node-xmllint';
import * as samlify from 'samlify';

/**
 * A real SAML 2.0 identity provider on loopback: samlify configured as an IdP with its own
 * key pair. It receives keywarden's AuthnRequest over the HTTP-Redirect binding (validated
 * against the SAML protocol XSD and, when signed, verified with the SP's metadata
 * certificate) and answers with a signed SAMLResponse in an auto-POST form, as a browser
 * would see it. Options bend the response for the hostile cases.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
export const SAML_KEYS_DIR = path.join(here, '..', 'fixtures', 'saml', 'keys');

export type SamlKeyName = 'idp-a' | 'idp-a-next' | 'idp-b' | 'sp-signing' | 'sp-encryption';

export function samlKey(name: SamlKeyName): { key: string; cert: string } {
  return {
    key: readFileSync(path.join(SAML_KEYS_DIR, `${name}.key`), 'utf8'),
    cert: readFileSync(path.join(SAML_KEYS_DIR, `${name}.crt`), 'utf8'),
  };
}

// The IdP side validates what keywarden sends against the SAML XSDs (xmllint compiled to wasm).
samlify.setSchemaValidator({ validate: validateAgainstSamlSchemas });

/**
 * node-xmllint's emscripten runtime, on every call, prints a blank line, adds a process
 * 'uncaughtException' listener and a `process.stdout.once('drain', () => process.exit())`.
 * The call is synchronous, so the noise is muted and the listeners removed right after.
 */
function validateAgainstSamlSchemas(xml: string): Promise<unknown> {
  const emitters: Array<[NodeJS.EventEmitter, string]> = [
    [process, 'uncaughtException'],
    [process.stdout, 'drain'],
    [process.stderr, 'drain'],
  ];
  const before = emitters.map(([emitter, event]) => new Set(emitter.listeners(event)));
  const log = console.log;
  console.log = () => undefined;
  try {
    return xmllint.validate(xml);
  } finally {
    console.log = log;
    emitters.forEach(([emitter, event], index) => {
      for (const listener of emitter.listeners(event)) {
        if (!before[index]!.has(listener))
          emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    });
  }
}

export const NAMEID_PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

export interface SamlResponseOptions {
  nameId?: string;
  nameIdFormat?: string;
  /** Attribute name → values (several values make a multi-valued attribute). */
  attributes?: Record<string, string | string[]>;
  sessionIndex?: string;
  /** Sign the assertion (default true). */
  signAssertion?: boolean;
  /** Sign the whole Response (default false). */
  signResponse?: boolean;
  /** Encrypt the assertion with the SP's metadata encryption certificate. */
  encrypt?: boolean;
  /** Sign with RSA-SHA1 / SHA-1 digests instead of SHA-256. */
  sha1?: boolean;
  /** Sign with this key (rotation); default the IdP's current key. */
  signWith?: SamlKeyName;
  /** Shift every timestamp by this many ms (negative: in the past). */
  clockOffsetMs?: number;
  /** How long the assertion stays valid (default 5 minutes). */
  lifetimeMs?: number;
  audience?: string;
  destination?: string;
  recipient?: string;
  /** The Response's top-level StatusCode Value (default Success). */
  statusCode?: string;
  /** null drops InResponseTo entirely (an unsolicited response). */
  inResponseTo?: string | null;
  relayState?: string;
  issuer?: string;
  /** The SP (entity id) the response is for; default: the AuthnRequest's issuer, else the last trusted SP. */
  sp?: string;
}

export interface PostedSamlResponse {
  /** Where the auto-POST form sends the browser (the SP's ACS URL from its metadata). */
  action: string;
  SAMLResponse: string;
  RelayState?: string;
  /** The AuthnRequest ID the response answers (as the IdP parsed it). */
  requestId: string;
  /** The response XML, for tests that tamper with it. */
  xml: string;
}

export interface SamlIdp {
  readonly url: string;
  readonly entityId: string;
  readonly ssoUrl: string;
  readonly sloUrl: string;
  /** PEM of the key the IdP signs with now. */
  readonly certificate: string;
  /** The IdP's metadata XML (for the idpMetadataFile config). */
  metadata(): string;
  /** Switch the signing key (certificate rotation). */
  useKey(name: SamlKeyName): void;
  /** Tell the IdP who the SP is (keywarden's /metadata XML). */
  trustServiceProvider(spMetadataXml: string): void;
  /** Play the browser at the IdP: follow keywarden's redirect, get back the auto-POST form's fields. */
  login(authnRequestUrl: string, options?: SamlResponseOptions): Promise<PostedSamlResponse>;
  /** A response without a preceding AuthnRequest (IdP-initiated SSO). */
  unsolicited(options?: SamlResponseOptions): Promise<PostedSamlResponse>;
  /** An IdP-initiated LogoutRequest as a Redirect-binding URL to the SP's SLO endpoint. */
  logoutRequestUrl(options: {
    nameId: string;
    sessionIndex?: string;
    signed?: boolean;
    sha1?: boolean;
    /** The SP's entity id (default: the last one trusted). */
    sp?: string;
  }): string;
  /** An IdP-initiated LogoutRequest for the HTTP-POST binding (enveloped XML signature when signed). */
  logoutRequestForm(options: {
    nameId: string;
    sessionIndex?: string;
    signed?: boolean;
    sha1?: boolean;
    sp?: string;
  }): { action: string; SAMLRequest: string };
  /** Parse an SP-initiated LogoutRequest URL (the IdP's SLO endpoint) and answer a LogoutResponse URL. */
  answerLogout(
    logoutRequestUrl: string,
  ): Promise<{ nameId: string; sessionIndex?: string; responseUrl: string }>;
  /** AuthnRequests received (parsed). */
  readonly requests: Array<{ id: string; signed: boolean; xml: string }>;
  close(): Promise<void>;
}

function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function attributeStatement(attributes: Record<string, string | string[]>): string {
  const entries = Object.entries(attributes);
  if (entries.length === 0) return '';
  const body = entries
    .map(([name, value]) => {
      const values = (Array.isArray(value) ? value : [value])
        .map((v) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(v)}</saml:AttributeValue>`)
        .join('');
      return `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">${values}</saml:Attribute>`;
    })
    .join('');
  return `<saml:AttributeStatement>${body}</saml:AttributeStatement>`;
}

function authnStatement(instant: string, sessionIndex: string): string {
  return `<saml:AuthnStatement AuthnInstant="${instant}" SessionIndex="${escapeXml(sessionIndex)}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`;
}

/**
 * Decoded query parameters, as samlify's Redirect-binding parsers take them from a web
 * framework (the signature itself is checked over the raw octet string).
 */
function queryParams(search: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(search));
}

function formField(html: string, name: string): string | undefined {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  return match?.[1]?.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}

export async function startSamlIdp(options: { name?: string; key?: SamlKeyName } = {}): Promise<SamlIdp> {
  let currentKey: SamlKeyName = options.key ?? 'idp-a';
  /** SP metadata by entity id; the AuthnRequest's Issuer picks one. */
  const serviceProviders = new Map<string, string>();
  let lastServiceProvider: string | undefined;
  const requests: SamlIdp['requests'] = [];

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const entityId = `${url}/${options.name ?? 'idp'}/metadata`;
  const ssoUrl = `${url}/sso`;
  const sloUrl = `${url}/slo`;

  function identityProvider(signWith: SamlKeyName, sha1: boolean, encrypt: boolean) {
    const { key, cert } = samlKey(signWith);
    return samlify.IdentityProvider({
      entityID: entityId,
      privateKey: key,
      signingCert: cert,
      wantAuthnRequestsSigned: false,
      isAssertionEncrypted: encrypt,
      requestSignatureAlgorithm: sha1 ? SHA1 : SHA256,
      singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: ssoUrl }],
      singleLogoutService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: sloUrl }],
      nameIDFormat: [NAMEID_PERSISTENT],
      generateID: () => `_${randomUUID()}`,
    });
  }

  /** samlify decides what to sign from the SP's metadata; the options override it per response. */
  function serviceProvider(sign: { assertion: boolean; response: boolean }, spEntityId?: string) {
    const spMetadata = serviceProviders.get(spEntityId ?? lastServiceProvider ?? '');
    if (!spMetadata)
      throw new Error(`call trustServiceProvider(metadata) for ${spEntityId ?? 'an SP'} first`);
    const metadata = spMetadata.replace(
      /WantAssertionsSigned="(true|false)"/,
      `WantAssertionsSigned="${sign.assertion}"`,
    );
    return samlify.ServiceProvider({ metadata, wantMessageSigned: sign.response });
  }

  async function buildResponse(
    requestId: string | null,
    opts: SamlResponseOptions,
  ): Promise<PostedSamlResponse> {
    const signAssertion = opts.signAssertion ?? true;
    const signResponse = opts.signResponse ?? false;
    const sp = serviceProvider({ assertion: signAssertion, response: signResponse }, opts.sp);
    const idp = identityProvider(opts.signWith ?? currentKey, opts.sha1 ?? false, opts.encrypt ?? false);
    const acs = sp.entityMeta.getAssertionConsumerService(samlify.Constants.wording.binding.post) as string;
    const now = Date.now() + (opts.clockOffsetMs ?? 0);
    const instant = new Date(now).toISOString();
    const until = new Date(now + (opts.lifetimeMs ?? 5 * 60_000)).toISOString();
    const responseId = `_${randomUUID()}`;
    const inResponseTo = opts.inResponseTo === undefined ? requestId : opts.inResponseTo;
    let xml = '';

    const result = await idp.createLoginResponse(
      sp,
      { extract: { request: { id: requestId ?? '' } } },
      'post',
      {},
      {
        relayState: opts.relayState,
        customTagReplacement: (template: string) => {
          const withStatements = template
            .replace(
              '{AuthnStatement}',
              authnStatement(instant, opts.sessionIndex ?? `_session-${randomUUID()}`),
            )
            .replace('{AttributeStatement}', attributeStatement(opts.attributes ?? {}));
          xml = samlify.SamlLib.replaceTagsByValue(withStatements, {
            ID: responseId,
            AssertionID: `_${randomUUID()}`,
            Destination: opts.destination ?? acs,
            Audience: opts.audience ?? sp.entityMeta.getEntityID(),
            SubjectRecipient: opts.recipient ?? acs,
            Issuer: opts.issuer ?? entityId,
            IssueInstant: instant,
            StatusCode: opts.statusCode ?? samlify.Constants.StatusCode.Success,
            ConditionsNotBefore: instant,
            ConditionsNotOnOrAfter: until,
            SubjectConfirmationDataNotOnOrAfter: until,
            NameIDFormat: opts.nameIdFormat ?? NAMEID_PERSISTENT,
            NameID: opts.nameId ?? 'employee-42',
            InResponseTo: inResponseTo ?? undefined,
          });
          return { id: responseId, context: xml };
        },
      },
    );
    let samlResponse = result.context;
    if (!signAssertion && !signResponse) {
      // samlify always signs something; strip it to get the unsigned message an attacker would send.
      samlResponse = Buffer.from(
        Buffer.from(samlResponse, 'base64')
          .toString('utf8')
          .replace(/<ds:Signature[\s\S]*?<\/ds:Signature>/g, ''),
      ).toString('base64');
    }
    return {
      action: acs,
      SAMLResponse: samlResponse,
      ...(opts.relayState !== undefined ? { RelayState: opts.relayState } : {}),
      requestId: requestId ?? '',
      xml: Buffer.from(samlResponse, 'base64').toString('utf8'),
    };
  }

  server.on('request', (req, res) => {
    void (async () => {
      const requestUrl = new URL(req.url ?? '/', url);
      if (requestUrl.pathname !== '/sso') {
        res.writeHead(404).end();
        return;
      }
      const optionsHeader = req.headers['x-test-response-options'];
      const opts = (
        typeof optionsHeader === 'string' ? JSON.parse(optionsHeader) : {}
      ) as SamlResponseOptions;
      const rawQuery = requestUrl.search.slice(1);
      // The octet string a Redirect-binding signature covers: the raw parameters, in order, minus Signature.
      const octetString = rawQuery
        .split('&')
        .filter((pair) => !pair.startsWith('Signature='))
        .join('&');
      const query = queryParams(requestUrl.search);
      const signed = Boolean(query.Signature);
      const idp = samlify.IdentityProvider({
        entityID: entityId,
        signingCert: samlKey(currentKey).cert,
        wantAuthnRequestsSigned: signed,
        singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: ssoUrl }],
        singleLogoutService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: sloUrl }],
      });
      const requestXml = inflateRawSync(Buffer.from(query.SAMLRequest ?? '', 'base64')).toString();
      const spEntityId = /<(?:saml2?:)?Issuer[^>]*>([^<]+)</.exec(requestXml)?.[1];
      const sp = serviceProvider({ assertion: true, response: false }, spEntityId);
      const parsed = await idp.parseLoginRequest(sp, 'redirect', { query, octetString });
      const requestId = String((parsed.extract.request as Record<string, string>).id);
      requests.push({ id: requestId, signed, xml: parsed.samlContent });
      const relayState = query.RelayState;
      const posted = await buildResponse(requestId, {
        ...(relayState !== undefined ? { relayState } : {}),
        ...(spEntityId ? { sp: spEntityId } : {}),
        ...opts,
      });
      const fields = [`<input type="hidden" name="SAMLResponse" value="${posted.SAMLResponse}"/>`];
      if (posted.RelayState !== undefined) {
        fields.push(`<input type="hidden" name="RelayState" value="${escapeXml(posted.RelayState)}"/>`);
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        `<html><body onload="document.forms[0].submit()"><form method="post" action="${escapeXml(posted.action)}">${fields.join('')}</form></body></html>`,
      );
    })().catch((error: unknown) => {
      if (res.headersSent) return;
      res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
    });
  });

  return {
    url,
    entityId,
    ssoUrl,
    sloUrl,
    requests,
    get certificate() {
      return samlKey(currentKey).cert;
    },
    metadata() {
      return identityProvider(currentKey, false, false).getMetadata();
    },
    useKey(name) {
      currentKey = name;
    },
    trustServiceProvider(xml) {
      const spEntityId = /entityID="([^"]+)"/.exec(xml)?.[1];
      if (!spEntityId) throw new Error('not SP metadata');
      serviceProviders.set(spEntityId, xml);
      lastServiceProvider = spEntityId;
    },
    async login(authnRequestUrl, opts = {}) {
      const response = await fetch(authnRequestUrl, {
        headers: { 'x-test-response-options': JSON.stringify(opts) },
      });
      const html = await response.text();
      if (!response.ok) throw new Error(`the IdP refused the AuthnRequest: ${html}`);
      const action = /action="([^"]*)"/
        .exec(html)?.[1]
        ?.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));
      const samlResponse = formField(html, 'SAMLResponse');
      if (!action || !samlResponse) throw new Error('the IdP answered no auto-POST form');
      const relayState = formField(html, 'RelayState');
      const requestId = requests.at(-1)?.id ?? '';
      return {
        action,
        SAMLResponse: samlResponse,
        ...(relayState !== undefined ? { RelayState: relayState } : {}),
        requestId,
        xml: Buffer.from(samlResponse, 'base64').toString('utf8'),
      };
    },
    unsolicited(opts = {}) {
      return buildResponse(null, { inResponseTo: null, ...opts });
    },
    logoutRequestUrl({ nameId, sessionIndex, signed = true, sha1 = false, sp: spEntityId }) {
      const idp = identityProvider(currentKey, sha1, false);
      const sp = serviceProvider({ assertion: true, response: false }, spEntityId);
      sp.entitySetting.wantLogoutRequestSigned = signed;
      const { context } = idp.createLogoutRequest(sp, 'redirect', {
        logoutNameID: nameId,
        ...(sessionIndex ? { sessionIndex } : {}),
      });
      return context;
    },
    logoutRequestForm({ nameId, sessionIndex, signed = true, sha1 = false, sp: spEntityId }) {
      const idp = identityProvider(currentKey, sha1, false);
      const sp = serviceProvider({ assertion: true, response: false }, spEntityId);
      sp.entitySetting.wantLogoutRequestSigned = signed;
      const posted = idp.createLogoutRequest(sp, 'post', {
        logoutNameID: nameId,
        ...(sessionIndex ? { sessionIndex } : {}),
      }) as { context: string; entityEndpoint: string };
      return { action: posted.entityEndpoint, SAMLRequest: posted.context };
    },
    async answerLogout(logoutRequestUrl) {
      const requestUrl = new URL(logoutRequestUrl);
      const query = queryParams(requestUrl.search);
      const octetString = requestUrl.search
        .slice(1)
        .split('&')
        .filter((pair) => !pair.startsWith('Signature='))
        .join('&');
      const idp = samlify.IdentityProvider({
        entityID: entityId,
        privateKey: samlKey(currentKey).key,
        signingCert: samlKey(currentKey).cert,
        wantLogoutRequestSigned: Boolean(query.Signature),
        requestSignatureAlgorithm: SHA256,
        singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: ssoUrl }],
        singleLogoutService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: sloUrl }],
      });
      const requestXml = inflateRawSync(Buffer.from(query.SAMLRequest ?? '', 'base64')).toString();
      const spEntityId = /<(?:saml2?:)?Issuer[^>]*>([^<]+)</.exec(requestXml)?.[1];
      const sp = serviceProvider({ assertion: true, response: false }, spEntityId);
      sp.entitySetting.wantLogoutResponseSigned = true;
      const parsed = await idp.parseLogoutRequest(sp, 'redirect', { query, octetString });
      const extract = parsed.extract as { nameID?: string; sessionIndex?: string; request?: { id: string } };
      const { context } = idp.createLogoutResponse(
        sp,
        parsed as unknown as Parameters<typeof idp.createLogoutResponse>[1],
        'redirect',
        {
          relayState: query.RelayState ?? '',
        },
      ) as { context: string };
      return {
        nameId: String(extract.nameID ?? ''),
        ...(extract.sessionIndex ? { sessionIndex: String(extract.sessionIndex) } : {}),
        responseUrl: context,
      };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** keywarden's public URL in SAML tests: the IdP posts to https://keywarden.test/auth/saml/<name>/acs. */
export const SAML_PUBLIC_URL = 'https://keywarden.test';

/** Config overrides for an app with the given SAML providers, behind a TLS proxy, rate limits off. */
export function samlAppOverrides(
  providers: Record<string, Record<string, unknown>>,
): Record<string, unknown> {
  return {
    server: { publicUrl: SAML_PUBLIC_URL, trustProxyHops: 1 },
    rateLimit: { enabled: false },
    // Shared by every instance in a test, as in a real deployment.
    session: { secret: 'saml-test-session-secret-0123456789abcdef' },
    auth: { providers },
  };
}

/** A provider entry trusting this IdP's current certificate. */
export function samlProviderFor(idp: SamlIdp, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'saml',
    idpEntityId: idp.entityId,
    ssoUrl: idp.ssoUrl,
    sloUrl: idp.sloUrl,
    idpCertificates: [idp.certificate],
    ...extra,
  };
}

/** The fields of an auto-POST form as a urlencoded body. */
export function formBody(posted: Pick<PostedSamlResponse, 'SAMLResponse' | 'RelayState'>): string {
  const body = new URLSearchParams({ SAMLResponse: posted.SAMLResponse });
  if (posted.RelayState !== undefined) body.set('RelayState', posted.RelayState);
  return body.toString();
}
