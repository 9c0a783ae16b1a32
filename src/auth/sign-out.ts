import type { Request } from 'express';
import type { AuditLog } from '../observability/audit.ts';
import type { LoginProviders } from './providers.ts';
import { endSession, type SessionRecord } from './session/session.ts';

/**
 * Ends the browser session of `record` (server record deleted, cookie cleared), records the
 * logout, and answers where the browser may go to end the IdP session too (RP- or SP-initiated
 * logout), if that IdP offers it. Shared by the API (`POST /auth/logout`) and the portal.
 */
export async function signOut(
  req: Request,
  record: SessionRecord,
  deps: { providers: LoginProviders; audit: AuditLog; channel?: string },
): Promise<string | undefined> {
  // Built before the record is gone: the IdP's logout request names the session it ends.
  const logoutUrl = await deps.providers.get(record.provider)?.logoutUrl?.(record);
  await endSession(req);
  deps.audit.record('logout', {
    outcome: 'success',
    requestId: req.scope.requestId,
    sourceIp: req.ip,
    provider: record.provider,
    subject: record.principal.subject,
    ...(deps.channel ? { channel: deps.channel } : {}),
  });
  return logoutUrl;
}
