import { z } from 'zod';

/**
 * One SAML 2.0 identity provider (`auth.providers.<name>` with `kind: saml`). keywarden is the
 * service provider: its entity id and ACS URL derive from `server.publicUrl` unless set here.
 */

const httpUrl = z.url({ protocol: /^https?$/ });

/** A PEM certificate, or the bare base64 body found in IdP metadata and admin consoles. */
const certificate = z
  .string()
  .trim()
  .refine(
    (value) => /-----BEGIN CERTIFICATE-----/.test(value) || /^[A-Za-z0-9+/=\s]{100,}$/.test(value),
    'expected a PEM certificate or its base64 body',
  );

const privateKeyPem = z
  .string()
  .trim()
  .refine((value) => /-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(value), 'expected a PEM private key');

/** Attribute names tried in order; the first present wins (groups: every listed name is merged). */
const attributeNames = z.array(z.string().min(1)).min(1);

export const samlAttributeNamesSchema = z.strictObject({
  email: attributeNames.default([
    'email',
    'mail',
    'urn:oid:0.9.2342.19200300.100.1.3',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  ]),
  displayName: attributeNames.default([
    'displayName',
    'urn:oid:2.16.840.1.113730.3.1.241',
    'http://schemas.microsoft.com/identity/claims/displayname',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
  ]),
  groups: attributeNames.default([
    'groups',
    'memberOf',
    'urn:oid:1.3.6.1.4.1.5923.1.5.1.1',
    'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups',
    'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
    'http://schemas.xmlsoap.org/claims/Group',
  ]),
});

const SAML_NAMEID_PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

export const samlProviderSchema = z.strictObject({
  kind: z.literal('saml'),
  /** Shown on the sign-in choice; defaults to the provider name. */
  displayName: z.string().min(1).optional(),
  /** The IdP's entity id: assertions must carry it as Issuer. */
  idpEntityId: z.string().min(1),
  /** SingleSignOnService location for the HTTP-Redirect binding. */
  ssoUrl: httpUrl,
  /** SingleLogoutService location (HTTP-Redirect); without it logout stays local. */
  sloUrl: httpUrl.optional(),
  /**
   * Trusted IdP signing certificates. Several may be listed so a rotation needs no downtime.
   * Signatures are only ever checked against these (or the metadata file's), never a
   * certificate carried in the message.
   */
  idpCertificates: z.array(certificate).min(1).optional(),
  /** IdP metadata XML to read signing certificates from instead; re-read when the file changes. */
  idpMetadataFile: z.string().min(1).optional(),
  /** Defaults to `<publicUrl>/auth/saml/<name>/metadata`. */
  spEntityId: z.string().min(1).optional(),
  /** Requested NameID format; null leaves the choice to the IdP. Persistent ids make stable subjects. */
  nameIdFormat: z.string().min(1).nullable().default(SAML_NAMEID_PERSISTENT),
  /** Require a signature on the assertion itself (recommended; most IdPs sign it). */
  wantAssertionsSigned: z.boolean().default(true),
  /** Require a signature on the whole Response as well. */
  wantResponseSigned: z.boolean().default(false),
  signatureAlgorithm: z.enum(['sha256', 'sha512']).default('sha256'),
  /**
   * SP signing key pair: when set, AuthnRequests and LogoutRequests are signed and the
   * certificate is published in the SP metadata.
   * Secret: KEYWARDEN_AUTH__PROVIDERS__<NAME>__SP_PRIVATE_KEY(_FILE).
   */
  spPrivateKey: privateKeyPem.optional(),
  spCertificate: certificate.optional(),
  /** Secret: KEYWARDEN_AUTH__PROVIDERS__<NAME>__DECRYPTION_PRIVATE_KEY(_FILE); enables encrypted assertions. */
  decryptionPrivateKey: privateKeyPem.optional(),
  decryptionCertificate: certificate.optional(),
  /**
   * Accept IdP-initiated (unsolicited) responses. Off: every response must answer our
   * AuthnRequest, from the browser that sent it. An unsolicited response answers no request, so
   * nothing binds it to a browser (login CSRF): that is why this is off by default.
   */
  allowUnsolicited: z.boolean().default(false),
  attributes: samlAttributeNamesSchema.prefault({}),
  acceptedClockSkewMs: z.number().int().min(0).max(300_000).default(60_000),
  /** How long an AuthnRequest id stays answerable. */
  requestTtlMs: z.number().int().positive().max(3_600_000).default(600_000),
  /** Largest urlencoded body the ACS and SLO endpoints accept. */
  maxMessageBytes: z
    .number()
    .int()
    .min(16 * 1024)
    .max(4 * 1024 * 1024)
    .default(256 * 1024),
});

export type SamlProviderConfig = z.infer<typeof samlProviderSchema>;

/** Secret fields of a SAML provider, relative to `auth.providers`. */
export const samlSecretPaths: readonly string[] = [
  'auth.providers.*.spPrivateKey',
  'auth.providers.*.decryptionPrivateKey',
];

/** Cross-field rules for one SAML provider; `path` is where the provider sits in the config. */
export function checkSamlProvider(
  provider: SamlProviderConfig,
  path: readonly (string | number)[],
  ctx: z.RefinementCtx,
  options: { production: boolean },
): void {
  const issue = (field: string, message: string) =>
    ctx.addIssue({ code: 'custom', path: [...path, field], message });
  if (options.production) {
    for (const field of ['ssoUrl', 'sloUrl'] as const) {
      const url = provider[field];
      if (url && new URL(url).protocol !== 'https:') issue(field, 'must be https in production');
    }
  }
  if (!provider.idpCertificates && !provider.idpMetadataFile) {
    issue('idpCertificates', 'set idpCertificates or idpMetadataFile: signatures need a trusted certificate');
  }
  if (provider.idpCertificates && provider.idpMetadataFile) {
    issue('idpMetadataFile', 'set either idpCertificates or idpMetadataFile, not both');
  }
  if (!provider.wantAssertionsSigned && !provider.wantResponseSigned) {
    issue('wantAssertionsSigned', 'at least one of wantAssertionsSigned and wantResponseSigned must be true');
  }
  if (Boolean(provider.spPrivateKey) !== Boolean(provider.spCertificate)) {
    issue('spCertificate', 'spPrivateKey and spCertificate go together');
  }
  if (Boolean(provider.decryptionPrivateKey) !== Boolean(provider.decryptionCertificate)) {
    issue('decryptionCertificate', 'decryptionPrivateKey and decryptionCertificate go together');
  }
}
