import { readFile, stat } from 'node:fs/promises';
import type { IdpCertCallback } from '@node-saml/node-saml';
import { parseDomFromString, XMLDSIG_NS, xpath } from './saml-xml.ts';

const SAML_METADATA_NS = 'urn:oasis:names:tc:SAML:2.0:metadata';

/** A certificate as PEM, whether given as PEM or as the bare base64 body metadata carries. */
export function toPem(certificate: string): string {
  if (certificate.includes('-----BEGIN CERTIFICATE-----')) return certificate.trim();
  const body = certificate.replace(/\s+/g, '');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----`;
}

/**
 * Signing certificates of the IdP `entityId` from its SAML metadata: every KeyDescriptor of
 * its IDPSSODescriptor whose use is `signing` or unspecified. Metadata signatures are not
 * checked: the file is trusted configuration, like a certificate in YAML.
 */
async function signingCertificatesFromMetadata(xml: string, entityId: string): Promise<string[]> {
  const document = await parseDomFromString(xml);
  const entities = xpath
    .selectElements(
      document,
      `//*[local-name()='EntityDescriptor' and namespace-uri()='${SAML_METADATA_NS}']`,
    )
    .filter((entity) => entity.getAttribute('entityID') === entityId);
  const certificates: string[] = [];
  for (const entity of entities) {
    const descriptors = xpath.selectElements(
      entity,
      `./*[local-name()='IDPSSODescriptor']/*[local-name()='KeyDescriptor' and namespace-uri()='${SAML_METADATA_NS}']`,
    );
    for (const descriptor of descriptors) {
      const use = descriptor.getAttribute('use');
      if (use && use !== 'signing') continue;
      for (const cert of xpath.selectElements(
        descriptor,
        `.//*[local-name()='X509Certificate' and namespace-uri()='${XMLDSIG_NS}']`,
      )) {
        const text = cert.textContent?.trim();
        if (text) certificates.push(toPem(text));
      }
    }
  }
  return certificates;
}

/**
 * node-saml's `idpCert` for a provider: the configured list as is, or a callback reading the
 * metadata file, re-read whenever its modification time changes (a rotated ConfigMap).
 */
export function idpCertificateSource(options: {
  certificates?: readonly string[];
  metadataFile?: string;
  entityId: string;
}): string[] | IdpCertCallback {
  if (options.certificates) return options.certificates.map(toPem);
  const file = options.metadataFile;
  if (!file) throw new Error('a SAML provider needs idpCertificates or idpMetadataFile');
  let cached: { mtimeMs: number; certificates: string[] } | undefined;
  const load = async (): Promise<string[]> => {
    const { mtimeMs } = await stat(file);
    if (cached?.mtimeMs !== mtimeMs) {
      const certificates = await signingCertificatesFromMetadata(
        await readFile(file, 'utf8'),
        options.entityId,
      );
      if (certificates.length === 0)
        throw new Error(`no signing certificate for ${options.entityId} in ${file}`);
      cached = { mtimeMs, certificates };
    }
    return cached.certificates;
  };
  return (callback) => {
    load().then(
      (certificates) => callback(null, certificates),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  };
}
