import { SamlStatusError } from '@node-saml/node-saml';
import { UnauthorizedError } from '../../http/errors.ts';

/**
 * Why a SAML message was refused. Only the audit log sees the reason; the client gets one
 * generic problem, so a probe learns nothing about which check it tripped.
 */
export type SamlRejectionReason =
  | 'malformed'
  | 'weak_algorithm'
  | 'destination_mismatch'
  | 'issuer_mismatch'
  | 'multiple_assertions'
  | 'signature_invalid'
  | 'decryption_failed'
  | 'in_response_to_missing'
  | 'in_response_to_unknown'
  | 'audience_mismatch'
  | 'expired'
  | 'not_yet_valid'
  | 'recipient_mismatch'
  | 'subject_missing'
  | 'replay'
  /** The IdP answered with a non-Success status and no assertion (the user cancelled, say). */
  | 'idp_error_status'
  /**
   * A non-Success top-level status next to an assertion, however well signed: SAML core 3.2.2.2
   * makes every status but Success a failure, and node-saml reads the status only when there
   * is no assertion.
   */
  | 'failed_status_with_assertion'
  /** A solicited response posted by a browser without the login's binding cookie (login CSRF). */
  | 'browser_binding_mismatch';

const SAML_REJECTED_CODE = 'saml_rejected';

export class SamlRejection extends UnauthorizedError {
  readonly reason: SamlRejectionReason;

  constructor(reason: SamlRejectionReason, options: { cause?: unknown } = {}) {
    super('The sign-in could not be completed. Please start again.', SAML_REJECTED_CODE, options);
    this.reason = reason;
  }
}

/**
 * node-saml reports every failure as a plain Error; its messages are the only handle on
 * which check failed. Unknown messages fall back to `signature_invalid`, the safe reading.
 */
const NODE_SAML_MESSAGES: ReadonlyArray<[RegExp, SamlRejectionReason]> = [
  [/^InResponseTo is missing/, 'in_response_to_missing'],
  [/InResponseTo (is not valid|does not match)/i, 'in_response_to_unknown'],
  [/multiple assertions|more than one element/i, 'multiple_assertions'],
  [/decrypt|EncryptedAssertion content/i, 'decryption_failed'],
  [/not yet valid/, 'not_yet_valid'],
  [/expired|No valid subject confirmation/, 'expired'],
  [/audience/i, 'audience_mismatch'],
  [/Missing SAML assertion|Not a valid XML|Unknown SAML/, 'malformed'],
  [/Issuer/i, 'issuer_mismatch'],
];

export function rejectionFromNodeSaml(error: unknown): SamlRejection {
  if (error instanceof SamlRejection) return error;
  if (error instanceof SamlStatusError) return new SamlRejection('idp_error_status', { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  const match = NODE_SAML_MESSAGES.find(([pattern]) => pattern.test(message));
  return new SamlRejection(match ? match[1] : 'signature_invalid', { cause: error });
}
