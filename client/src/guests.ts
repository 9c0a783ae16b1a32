import type { GuestIdentity } from './api-types.ts';
import { KeywardenError } from './errors.ts';
import type { KeywardenApi } from './keywarden-api.ts';

/**
 * The caller as a guest. With `guest` storage configured: the stored guest's identity, or a
 * new token guest kept in that storage. Without (a browser app): a guest kept in the browser
 * session, as the cookie-and-`X-CSRF` caller. A signed-in caller has no guest identity (409).
 */
export async function createGuest(api: KeywardenApi): Promise<GuestIdentity> {
  return api.call<GuestIdentity>({ method: 'POST', path: '/identities/guest', body: {} });
}

/**
 * The sign-in upgrade for bearer apps: once `getToken` answers the signed-in user's token,
 * links the stored guest identity (and the data under its prefix) to that login, and forgets
 * the guest token, which keywarden has used up. Answers the identity id the user has from now
 * on: the guest's, or the user's existing one when Cognito merged the guest into it.
 * `null` when there is no stored guest token (nothing to upgrade). Browser sessions need no
 * such call: keywarden links the session's guest at the first credential request after sign-in.
 */
export async function upgradeGuest(api: KeywardenApi): Promise<{ identityId: string } | null> {
  const storage = api.guestStorage;
  if (!storage) throw new Error('upgradeGuest() needs the `guest` option (where the guest token is kept)');
  if (!(await storage.get())) return null;
  if (!(await api.bearerToken())) {
    throw new KeywardenError(401, 'unauthenticated', 'upgradeGuest() needs getToken() to answer a token');
  }
  const { identityId } = await api.call<GuestIdentity>({
    method: 'POST',
    path: '/identities/guest',
    body: {},
    as: 'upgrade',
  });
  await storage.remove();
  return { identityId };
}
