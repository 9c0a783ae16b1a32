import { SamlRejection } from './rejection.ts';
import {
  decryptXml,
  parseDomFromString,
  SAML_ASSERTION_NS,
  SAML_PROTOCOL_NS,
  XMLDSIG_NS,
  xpath,
} from './saml-xml.ts';

/**
 * The checks node-saml does not make, split around its signature validation:
 *  - before it (`inspectResponse`): shape, Destination, Issuer, one assertion only, a Success
 *    status, and the signature/digest algorithm allowlist (xml-crypto still accepts SHA-1 by
 *    default);
 *  - after it (`inspectVerifiedAssertion`), on the signed assertion XML node-saml hands back:
 *    Issuer, bearer Recipient, NotOnOrAfter, and the assertion id for replay detection.
 * Anything read before validation only ever leads to a rejection, never to trust.
 */

/** RSA with SHA-256/512 only; SHA-1 (and HMAC, which a public-key verifier must never accept) is refused. */
export const ALLOWED_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
]);

const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

const ALLOWED_DIGEST_ALGORITHMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmlenc#sha512',
]);

export interface ResponseExpectations {
  acsUrl: string;
  idpEntityId: string;
  /** When set, an EncryptedAssertion is decrypted here too so its signature algorithms can be checked. */
  decryptionKey?: string;
}

export interface InspectedResponse {
  responseId: string;
  /** Only for a plaintext assertion (an encrypted one's id is not visible yet). */
  assertionId?: string;
}

export interface VerifiedAssertionFacts {
  assertionId: string;
  /** The latest NotOnOrAfter of the assertion: until then a copy could still be accepted. */
  validUntilMs: number;
}

type XmlNode = Parameters<typeof xpath.selectElements>[0];
type XmlElement = ReturnType<typeof xpath.selectElements>[number];

/** Strict base64 (optionally wrapped in lines); anything else is not a POST-binding message. */
const BASE64 = /^[A-Za-z0-9+/\r\n]+={0,2}\s*$/;

export function decodeBase64Message(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || !BASE64.test(value)) {
    throw new SamlRejection('malformed');
  }
  return Buffer.from(value, 'base64').toString('utf8');
}

/**
 * Parses with node-saml's parser. SAML messages never carry a DTD (SAML bindings 3.x), so a
 * DOCTYPE is refused outright rather than trusting every parser to ignore its entities.
 */
export async function parseSamlXml(xml: string): Promise<XmlNode> {
  if (/<!DOCTYPE/i.test(xml)) throw new SamlRejection('malformed');
  try {
    return await parseDomFromString(xml);
  } catch (error) {
    throw new SamlRejection('malformed', { cause: error });
  }
}

const parse = parseSamlXml;

function elements(node: XmlNode, localName: string, namespace: string): XmlElement[] {
  return xpath.selectElements(node, `.//*[local-name()='${localName}' and namespace-uri()='${namespace}']`);
}

function children(node: XmlNode, localName: string, namespace: string): XmlElement[] {
  return xpath.selectElements(node, `./*[local-name()='${localName}' and namespace-uri()='${namespace}']`);
}

function rootElement(document: XmlNode, localName: string, namespace: string): XmlElement {
  const roots = xpath.selectElements(
    document,
    `/*[local-name()='${localName}' and namespace-uri()='${namespace}']`,
  );
  if (roots.length !== 1) throw new SamlRejection('malformed');
  return roots[0]!;
}

/**
 * Every XML signature in the tree must use allowlisted SignatureMethod and DigestMethod
 * algorithms. Only `ds:Signature` subtrees count: an EncryptedKey's RSA-OAEP DigestMethod
 * (SHA-1 by the standard's default) is a key-transport parameter, not a signature.
 */
export function assertStrongAlgorithms(node: XmlNode): void {
  for (const signature of elements(node, 'Signature', XMLDSIG_NS)) {
    const methods = elements(signature, 'SignatureMethod', XMLDSIG_NS);
    const digests = elements(signature, 'DigestMethod', XMLDSIG_NS);
    if (methods.length === 0 || digests.length === 0) throw new SamlRejection('malformed');
    for (const method of methods) {
      if (!ALLOWED_SIGNATURE_ALGORITHMS.has(method.getAttribute('Algorithm') ?? '')) {
        throw new SamlRejection('weak_algorithm');
      }
    }
    for (const digest of digests) {
      if (!ALLOWED_DIGEST_ALGORITHMS.has(digest.getAttribute('Algorithm') ?? '')) {
        throw new SamlRejection('weak_algorithm');
      }
    }
  }
}

function issuerOf(element: XmlElement): string | undefined {
  const issuers = children(element, 'Issuer', SAML_ASSERTION_NS);
  if (issuers.length > 1) throw new SamlRejection('malformed');
  return issuers[0]?.textContent?.trim();
}

/**
 * The Response's own status must be Success (SAML core 3.2.2.2: every other top-level code is a
 * failure; a second-level code only refines it). node-saml looks at the status only when the
 * Response has no assertion, so a failed Response that still carries a validly signed
 * assertion would otherwise sign the user in. The Status is required (SAML core 3.2.2).
 */
function assertSuccessStatus(response: XmlElement, hasAssertion: boolean): void {
  const statuses = children(response, 'Status', SAML_PROTOCOL_NS);
  const codes = statuses.length === 1 ? children(statuses[0]!, 'StatusCode', SAML_PROTOCOL_NS) : [];
  if (codes.length !== 1) throw new SamlRejection('malformed');
  if (codes[0]!.getAttribute('Value') === STATUS_SUCCESS) return;
  throw new SamlRejection(hasAssertion ? 'failed_status_with_assertion' : 'idp_error_status');
}

/** Pre-validation checks on a POST-binding `<samlp:Response>`. */
export async function inspectResponse(xml: string, expect: ResponseExpectations): Promise<InspectedResponse> {
  const document = await parse(xml);
  const response = rootElement(document, 'Response', SAML_PROTOCOL_NS);

  if (response.getAttribute('Destination') !== expect.acsUrl) throw new SamlRejection('destination_mismatch');
  const issuer = issuerOf(response);
  if (issuer !== undefined && issuer !== expect.idpEntityId) throw new SamlRejection('issuer_mismatch');

  // One assertion in the whole document, wherever it hides: a second, unsigned one injected
  // next to (or inside) the signed one is the classic signature-wrapping move.
  const plain = elements(document, 'Assertion', SAML_ASSERTION_NS);
  const encrypted = elements(document, 'EncryptedAssertion', SAML_ASSERTION_NS);
  if (plain.length + encrypted.length > 1) throw new SamlRejection('multiple_assertions');

  assertSuccessStatus(response, plain.length + encrypted.length > 0);

  assertStrongAlgorithms(document);
  if (encrypted[0] && expect.decryptionKey) {
    let decrypted: string;
    try {
      decrypted = await decryptXml(encrypted[0].toString(), expect.decryptionKey);
    } catch (error) {
      throw new SamlRejection('decryption_failed', { cause: error });
    }
    const inner = await parse(decrypted);
    if (elements(inner, 'Assertion', SAML_ASSERTION_NS).length !== 1) throw new SamlRejection('malformed');
    assertStrongAlgorithms(inner);
  }

  const responseId = response.getAttribute('ID');
  if (!responseId) throw new SamlRejection('malformed');
  const assertionId = plain[0]?.getAttribute('ID') ?? undefined;
  return assertionId ? { responseId, assertionId } : { responseId };
}

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

function timestamp(value: string | null): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new SamlRejection('malformed');
  return ms;
}

/**
 * Checks on the assertion exactly as node-saml verified it (the signed bytes, not the
 * surrounding document). node-saml checks audience, time conditions and InResponseTo; this adds
 * Issuer and Recipient, and reads what replay detection needs.
 */
export async function inspectVerifiedAssertion(
  assertionXml: string,
  expect: Pick<ResponseExpectations, 'acsUrl' | 'idpEntityId'>,
): Promise<VerifiedAssertionFacts> {
  const document = await parse(assertionXml);
  const assertion = rootElement(document, 'Assertion', SAML_ASSERTION_NS);
  if (issuerOf(assertion) !== expect.idpEntityId) throw new SamlRejection('issuer_mismatch');
  const assertionId = assertion.getAttribute('ID');
  if (!assertionId) throw new SamlRejection('malformed');

  const subject = children(assertion, 'Subject', SAML_ASSERTION_NS)[0];
  if (!subject || children(subject, 'NameID', SAML_ASSERTION_NS).length !== 1) {
    throw new SamlRejection('subject_missing');
  }
  const bearerData = children(subject, 'SubjectConfirmation', SAML_ASSERTION_NS)
    .filter((confirmation) => confirmation.getAttribute('Method') === BEARER)
    .flatMap((confirmation) => children(confirmation, 'SubjectConfirmationData', SAML_ASSERTION_NS));
  // Web SSO profile 4.1.4.2: bearer confirmation data carries our ACS URL as Recipient and
  // an expiry. Every bearer confirmation must name us, so none can be meant for another SP.
  if (bearerData.length === 0) throw new SamlRejection('recipient_mismatch');
  const expiries: number[] = [];
  for (const data of bearerData) {
    if (data.getAttribute('Recipient') !== expect.acsUrl) throw new SamlRejection('recipient_mismatch');
    const notOnOrAfter = timestamp(data.getAttribute('NotOnOrAfter'));
    if (notOnOrAfter === undefined) throw new SamlRejection('expired');
    expiries.push(notOnOrAfter);
  }
  for (const conditions of children(assertion, 'Conditions', SAML_ASSERTION_NS)) {
    const notOnOrAfter = timestamp(conditions.getAttribute('NotOnOrAfter'));
    if (notOnOrAfter !== undefined) expiries.push(notOnOrAfter);
  }
  return { assertionId, validUntilMs: Math.max(...expiries) };
}
