import type { Logger } from 'pino';
import { recordLogger } from './logger.ts';

/** Security events worth a record of their own: who, what, from where, with what outcome. */
export type AuditEventName =
  | 'login.succeeded'
  | 'login.failed'
  | 'logout'
  | 'session.revoked'
  | 'csrf.rejected'
  | 'rate_limit.exceeded'
  | 'token.rejected'
  | 'guest.created'
  | 'identity.linked'
  | 'credentials.issued'
  | 'credentials.denied'
  | 'presign.issued'
  | 'presign.denied'
  | 'saml.replay_rejected'
  | 'portal.console_signin'
  | 'device.approved'
  | 'device.denied'
  | 'cli_token.issued'
  | 'cli_token.revoked'
  | 'admin.denied'
  | 'admin.lookup'
  | 'admin.user_revoked'
  | 'admin.user_unsuspended'
  | 'admin.session_revoked'
  | 'admin.identity_unlinked'
  | 'admin.identities_merged'
  | 'admin.identity_deleted';

/**
 * Every field an audit event may carry. The list is closed and every value is a plain scalar
 * (an id, a name, a count, an outcome), so an audit record holds no secret by construction:
 * no object can smuggle a token in, and audit records skip the logger's redaction pass (see
 * `recordLogger`). test/audit-records.test.ts keeps it that way.
 */
export interface AuditFields {
  outcome: 'success' | 'failure' | 'denied';
  requestId?: string | undefined;
  sourceIp?: string | undefined;
  provider?: string | undefined;
  subject?: string | undefined;
  identityId?: string | undefined;
  role?: string | undefined;
  scope?: string | undefined;
  expiresAt?: string | undefined;
  reason?: string | undefined;
  /** How a vend was answered: hit, miss, shared or stale. */
  cache?: string | undefined;
  /** Where an action was taken (`portal`, `api`) and why (a portal vend's purpose). */
  channel?: string | undefined;
  purpose?: string | undefined;
  /** A guest identity involved (guest sign-in, linking). */
  guestIdentityId?: string | undefined;
  /** Guest creation: `session` or `token`. */
  mode?: string | undefined;
  /** Identity linking: whether Cognito merged the guest identity into an existing one. */
  merged?: boolean | undefined;
  /** Presigning: operation, bucket and the full object key (never a URL or signature). */
  operation?: string | undefined;
  bucket?: string | undefined;
  key?: string | undefined;
  /** The CLI's OAuth client and where its device request came from. */
  clientId?: string | undefined;
  requestedFrom?: string | undefined;
  /** How many sessions, grants or tokens an action ended. */
  sessions?: number | undefined;
  grants?: number | undefined;
  count?: number | undefined;
  /**
   * Administration: the admin who acted (`provider:subject`) on which user (`provider:subject`),
   * with what was ended or changed. `provider` and `subject` name the admin too, as in every
   * other event they name the caller.
   */
  actor?: string | undefined;
  target?: string | undefined;
  /** The other user of a merge (`provider:subject`), whose identity survives. */
  mergedInto?: string | undefined;
  tokens?: number | undefined;
  cachedCredentials?: number | undefined;
  identities?: number | undefined;
  /** A suspension's end (ISO 8601), or `lifted`. */
  suspendedUntil?: string | undefined;
  /** Revocation of credentials already issued: on how many roles the deny policy was written, or failed. */
  rolesRevoked?: number | undefined;
  rolesFailed?: number | undefined;
}

export interface AuditLog {
  record(event: AuditEventName, fields: AuditFields): void;
}

/**
 * Audit events go to the same JSON stream as other logs, marked `audit: true` so a log
 * pipeline can route them to long-term storage. Their fields are secret-free by construction
 * (`AuditFields`), so they are written without the redaction pass.
 */
export function createAuditLog(logger: Logger): AuditLog {
  const audit = recordLogger(logger).child({ audit: true });
  return {
    record(event, fields) {
      const level = fields.outcome === 'success' ? 'info' : 'warn';
      audit[level]({ event, ...fields }, `audit ${event}`);
    },
  };
}
