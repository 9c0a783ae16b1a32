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
  email: attributeNames
    .default([
      'email',
      'mail',
      'urn:oid:0.9.2342.19200300.100.1.3',
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
    ])
    .describe('Attribute names tried in order for the email address; the first present wins.'),
  displayName: attributeNames
    .default([
      'displayName',
      'urn:oid:2.16.840.1.113730.3.1.241',
      'http://schemas.microsoft.com/identity/claims/displayname',
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
    ])
    .describe('Attribute names tried in order for the `name` claim; the first present wins.'),
  groups: attributeNames
    .default([
      'groups',
      'memberOf',
      'urn:oid:1.3.6.1.4.1.5923.1.5.1.1',
      'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups',
      'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
      'http://schemas.xmlsoap.org/claims/Group',
    ])
    .describe('Attribute names merged into the `groups` claim (every listed one that is present).'),
});

const SAML_NAMEID_PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

export const samlProviderSchema = z
  .strictObject({
    kind: z.literal('saml').describe('A SAML 2.0 IdP; keywarden is the service provider.'),
    displayName: z
      .string()
      .min(1)
      .optional()
      .describe('Shown on sign-in choices (the portal); defaults to the provider name.'),
    idpEntityId: z
      .string()
      .min(1)
      .describe("The IdP's entity id: assertions and logout messages must carry it as Issuer."),
    ssoUrl: httpUrl.describe(
      "The IdP's SingleSignOnService location for the HTTP-Redirect binding (https in production).",
    ),
    sloUrl: httpUrl
      .optional()
      .describe("The IdP's SingleLogoutService location (HTTP-Redirect); without it logout stays local."),
    /** Several may be listed so that a rotation needs no downtime. */
    idpCertificates: z
      .array(certificate)
      .min(1)
      .optional()
      .describe(
        "The IdP's signing certificates (PEM, or the bare base64 body); list several while rotating. Signatures are only ever checked against these, never a certificate carried in the message. Set this or `idpMetadataFile`.",
      ),
    idpMetadataFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        "A file with the IdP's metadata XML to read the signing certificates from instead; re-read when it changes.",
      ),
    spEntityId: z.string().min(1).optional().meta({
      description: "keywarden's entity id (set it to keep an id already registered at the IdP).",
      defaultText: '`<publicUrl>/auth/saml/<name>/metadata`',
    }),
    nameIdFormat: z
      .string()
      .min(1)
      .nullable()
      .default(SAML_NAMEID_PERSISTENT)
      .describe(
        'The NameID format asked for in AuthnRequests and published in the metadata; `null` leaves the choice to the IdP. Persistent ids make stable subjects (the NameID is the subject).',
      ),
    wantAssertionsSigned: z
      .boolean()
      .default(true)
      .describe('Require a signature on the assertion itself (recommended; most IdPs sign it).'),
    wantResponseSigned: z
      .boolean()
      .default(false)
      .describe('Require a signature on the whole Response too. At least one of the two must be true.'),
    signatureAlgorithm: z
      .enum(['sha256', 'sha512'])
      .default('sha256')
      .describe("The algorithm of keywarden's own signatures."),
    spPrivateKey: privateKeyPem
      .optional()
      .describe('With `spCertificate`: signs AuthnRequests and LogoutRequests (PEM).'),
    spCertificate: certificate.optional().describe('Goes with `spPrivateKey`; published in the SP metadata.'),
    decryptionPrivateKey: privateKeyPem
      .optional()
      .describe('With `decryptionCertificate`: lets the IdP encrypt assertions (PEM).'),
    decryptionCertificate: certificate
      .optional()
      .describe('Goes with `decryptionPrivateKey`; published in the SP metadata.'),
    /** An unsolicited response answers no request, so nothing binds it to a browser (login CSRF). */
    allowUnsolicited: z
      .boolean()
      .default(false)
      .describe(
        'Accept IdP-initiated responses. Off, every response must answer an AuthnRequest this deployment sent, from the browser that sent it; an unsolicited one cannot be bound to a browser, so turn this on only for an IdP portal that needs it.',
      ),
    attributes: samlAttributeNamesSchema.prefault({}),
    acceptedClockSkewMs: z
      .number()
      .int()
      .min(0)
      .max(300_000)
      .default(60_000)
      .describe('Tolerance on NotBefore/NotOnOrAfter.'),
    requestTtlMs: z
      .number()
      .int()
      .positive()
      .max(3_600_000)
      .default(600_000)
      .describe('How long an AuthnRequest stays answerable; also the freshness window of LogoutRequests.'),
    maxMessageBytes: z
      .number()
      .int()
      .min(16 * 1024)
      .max(4 * 1024 * 1024)
      .default(256 * 1024)
      .describe('The largest body the ACS and SLO endpoints accept (413 beyond).'),
  })
  .describe(
    'A SAML 2.0 identity provider (ADFS, Entra ID, Okta, PingFederate, Shibboleth…); keywarden is the service provider. See [saml.md](saml.md).',
  );

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
