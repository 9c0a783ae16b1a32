import type { CredentialBroker } from '../broker/credential-broker.ts';
import type { CallerCredentialSource } from './types.ts';

/**
 * Signing credentials from the credential broker: the same cached, scoped credentials
 * /credentials would hand this caller (default role, the bucket's scope), so a presigned URL
 * never grants more than the caller could do with its own credentials.
 */
export function brokerCredentialSource(
  broker: Pick<CredentialBroker, 'getCredentials'>,
): CallerCredentialSource {
  return (request) =>
    broker.getCredentials({
      principal: request.principal,
      // A guest's identity comes from its session or guest token; a user's from the broker.
      ...(request.identityId && request.principal.kind === 'guest' ? { identityId: request.identityId } : {}),
      ...(request.guestIdentityId && request.principal.kind === 'user'
        ? { guestIdentityId: request.guestIdentityId }
        : {}),
      ...(request.scope ? { scope: request.scope } : {}),
      ...(request.requestId ? { requestId: request.requestId } : {}),
      ...(request.sourceIp ? { sourceIp: request.sourceIp } : {}),
    });
}
