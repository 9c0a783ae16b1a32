import { inflateRawSync } from 'node:zlib';
import { SamlRejection } from './rejection.ts';
import { ALLOWED_SIGNATURE_ALGORITHMS, assertStrongAlgorithms, parseSamlXml } from './response-checks.ts';
import { SAML_ASSERTION_NS, SAML_PROTOCOL_NS, xpath } from './saml-xml.ts';

/**
 * Checks on an IdP-initiated `<samlp:LogoutRequest>` that node-saml leaves out. Above all,
 * node-saml accepts a Redirect-binding message that carries no signature at all; a
 * LogoutRequest ends sessions, so an unsigned one must never be obeyed.
 */

/** Deflated messages are tiny; a bomb stops here. */
const MAX_INFLATED_BYTES = 256 * 1024;

export interface RedirectMessage {
  /** Decoded parameter values, as node-saml's validateRedirectAsync wants them. */
  params: {
    SAMLRequest?: string;
    SAMLResponse?: string;
    SigAlg?: string;
    Signature?: string;
    RelayState?: string;
  };
  /** The raw query string (the signature covers the encoded bytes). */
  rawQuery: string;
}

const REDIRECT_PARAMS = ['SAMLRequest', 'SAMLResponse', 'SigAlg', 'Signature', 'RelayState'] as const;

/** Reads the binding's parameters; a repeated one is refused, since signer and verifier might pick different copies. */
export function readRedirectMessage(rawQuery: string): RedirectMessage {
  const search = new URLSearchParams(rawQuery);
  const params: RedirectMessage['params'] = {};
  for (const name of REDIRECT_PARAMS) {
    const values = search.getAll(name);
    if (values.length > 1) throw new SamlRejection('malformed');
    if (values[0] !== undefined) params[name] = values[0];
  }
  return { params, rawQuery };
}

export function assertSignedRedirect(message: RedirectMessage): void {
  if (!message.params.Signature || !message.params.SigAlg) throw new SamlRejection('signature_invalid');
  if (!ALLOWED_SIGNATURE_ALGORITHMS.has(message.params.SigAlg)) throw new SamlRejection('weak_algorithm');
}

export function inflateRedirectPayload(value: string): string {
  try {
    return inflateRawSync(Buffer.from(value, 'base64'), { maxOutputLength: MAX_INFLATED_BYTES }).toString(
      'utf8',
    );
  } catch (error) {
    throw new SamlRejection('malformed', { cause: error });
  }
}

export interface LogoutRequestFacts {
  id: string;
  issueInstantMs: number;
}

/** Destination, Issuer, freshness and (for the POST binding) signature algorithms of a LogoutRequest. */
export async function inspectLogoutRequest(
  xml: string,
  expect: { sloUrl: string; idpEntityId: string; maxAgeMs: number; skewMs: number },
): Promise<LogoutRequestFacts> {
  const document = await parseSamlXml(xml);
  const roots = xpath.selectElements(
    document,
    `/*[local-name()='LogoutRequest' and namespace-uri()='${SAML_PROTOCOL_NS}']`,
  );
  const request = roots[0];
  if (!request || roots.length !== 1) throw new SamlRejection('malformed');
  if (request.getAttribute('Destination') !== expect.sloUrl) throw new SamlRejection('destination_mismatch');
  const issuers = xpath.selectElements(
    request,
    `./*[local-name()='Issuer' and namespace-uri()='${SAML_ASSERTION_NS}']`,
  );
  if (issuers.length !== 1 || issuers[0]?.textContent?.trim() !== expect.idpEntityId) {
    throw new SamlRejection('issuer_mismatch');
  }
  assertStrongAlgorithms(document);
  const id = request.getAttribute('ID');
  const issueInstantMs = Date.parse(request.getAttribute('IssueInstant') ?? '');
  if (!id || Number.isNaN(issueInstantMs)) throw new SamlRejection('malformed');
  const now = Date.now();
  if (issueInstantMs > now + expect.skewMs) throw new SamlRejection('not_yet_valid');
  if (issueInstantMs < now - expect.maxAgeMs - expect.skewMs) throw new SamlRejection('expired');
  return { id, issueInstantMs };
}
