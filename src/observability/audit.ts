import type { Logger } from 'pino';

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
  | 'cli_token.revoked';

export interface AuditFields {
  outcome: 'success' | 'failure' | 'denied';
  requestId?: string;
  sourceIp?: string;
  provider?: string;
  subject?: string;
  identityId?: string;
  role?: string;
  scope?: string;
  expiresAt?: string;
  reason?: string;
  [extra: string]: unknown;
}

export interface AuditLog {
  record(event: AuditEventName, fields: AuditFields): void;
}

/**
 * Audit events go to the same JSON stream as other logs, marked `audit: true` so a log
 * pipeline can route them to long-term storage. The logger's redaction still applies.
 */
export function createAuditLog(logger: Logger): AuditLog {
  const audit = logger.child({ audit: true });
  return {
    record(event, fields) {
      const level = fields.outcome === 'success' ? 'info' : 'warn';
      audit[level]({ event, ...fields }, `audit ${event}`);
    },
  };
}
