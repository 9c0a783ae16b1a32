/**
 * The XML parser, XPath helpers and decryption node-saml itself uses. keywarden's own checks
 * (algorithm allowlist, Destination, Recipient, wrapping) read messages through exactly these,
 * so they see the same tree the signature validator sees: a second parser could disagree about
 * a crafted document, which is how several SAML bypasses worked. node-saml has no `exports`
 * map, so this path is reachable; it is pinned with the dependency (≥ 5.1).
 */
export { decryptXml, parseDomFromString, xpath } from '@node-saml/node-saml/lib/xml.js';

export const SAML_PROTOCOL_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const SAML_ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
