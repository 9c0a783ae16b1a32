import type { Request } from 'express';
import type { Principal } from '../../auth/principal.ts';
import { currentSession } from '../../auth/session/session.ts';
import type { IssuedCredentials } from '../../broker/credential-broker.ts';
import type { AuditFields, AuditLog } from '../../observability/audit.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { KeywardenError } from '../errors.ts';

/**
 * Who asks for credentials or presigned URLs, as the credential broker knows them. Shared by
 * /credentials, /presign and the portal so that every way of vending treats a caller alike.
 */
export interface VendingCaller {
  readonly principal: Principal;
  /** A guest's identity id (from its session or guest token); a user's comes from the broker. */
  readonly identityId?: string;
  /** A signed-in session's earlier guest identity, which the broker links on first use. */
  readonly guestIdentityId?: string;
  readonly requestId: string;
  readonly sourceIp?: string;
}

/** The caller of an authenticated request (the routes run after `requireAuth`). */
export function vendingCallerOf(req: Request): VendingCaller {
  const principal = req.scope.principal!;
  const session = req.scope.authMethod === 'session' ? currentSession(req) : undefined;
  const guestIdentityId = principal.kind === 'user' ? session?.guestIdentityId : undefined;
  return {
    principal,
    ...(req.scope.identityId && principal.kind === 'guest' ? { identityId: req.scope.identityId } : {}),
    ...(guestIdentityId ? { guestIdentityId } : {}),
    requestId: req.scope.requestId,
    ...(req.scope.sourceIp ? { sourceIp: req.scope.sourceIp } : {}),
  };
}

/** Remembers the identity the broker resolved, on the request and on a browser session. */
export function noteIdentity(req: Request, identityId: string): void {
  req.scope.identityId = identityId;
  const session = req.scope.authMethod === 'session' ? currentSession(req) : undefined;
  if (session && session.identityId !== identityId) session.identityId = identityId;
}

/** The metric label of a refused or failed vend. */
export type VendFailureLabel = 'denied' | 'invalid' | 'unavailable' | 'error';

export function vendFailureLabel(problem: KeywardenError): VendFailureLabel {
  if (problem.status === 403) return 'denied';
  if (problem.status >= 400 && problem.status < 500) return 'invalid';
  if (problem.status === 503) return 'unavailable';
  return 'error';
}

/** The audit outcome of a refused or failed vend: the caller's fault, or ours. */
export function deniedAuditOutcome(problem: KeywardenError): 'denied' | 'failure' {
  return problem.status < 500 ? 'denied' : 'failure';
}

export type CallerAuditFields = Pick<
  AuditFields,
  'requestId' | 'sourceIp' | 'provider' | 'subject' | 'identityId'
>;

/**
 * The fields every vend's audit record starts with. `withKnownIdentity` adds the identity id
 * already known before the vend (the API routes record it; the portal's records never have).
 */
export function callerAuditFields(
  req: Request,
  options: { withKnownIdentity: boolean } = { withKnownIdentity: true },
): CallerAuditFields {
  const principal = req.scope.principal!;
  return {
    requestId: req.scope.requestId,
    sourceIp: req.scope.sourceIp,
    provider: principal.provider,
    subject: principal.subject,
    ...(options.withKnownIdentity && req.scope.identityId ? { identityId: req.scope.identityId } : {}),
  };
}

/** `callerAuditFields` plus whatever a channel adds (the portal: channel and purpose). */
export type VendAuditBase = CallerAuditFields & Pick<AuditFields, 'channel' | 'purpose'>;

/**
 * The metric and audit record of one credential vend, for /credentials and the portal alike.
 */
export function credentialVendRecords(deps: { audit: AuditLog; metrics: Metrics }): {
  issued(base: VendAuditBase, issued: IssuedCredentials): void;
  denied(base: VendAuditBase, problem: KeywardenError): void;
} {
  const { audit, metrics } = deps;
  return {
    issued(base, issued) {
      metrics.credentialVends.inc({ outcome: 'issued' });
      audit.record('credentials.issued', {
        ...base,
        outcome: 'success',
        identityId: issued.identityId,
        role: issued.role,
        ...(issued.scope ? { scope: issued.scope } : {}),
        expiresAt: issued.credentials.expiration.toISOString(),
        cache: issued.cache,
      });
    },
    denied(base, problem) {
      metrics.credentialVends.inc({ outcome: vendFailureLabel(problem) });
      audit.record('credentials.denied', {
        ...base,
        outcome: deniedAuditOutcome(problem),
        reason: problem.code,
      });
    },
  };
}
