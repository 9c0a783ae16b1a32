import { type Html, html } from '../http/html.ts';
import { csrfField, page, type SignedInUser } from '../portal/portal-layout.ts';
import type { SiteInfo } from '../portal/portal-pages.ts';
import { utcTimeElement } from '../portal/session-pages.ts';
import type { UserLookup } from './admin-service.ts';

const at = (iso: string) => utcTimeElement(Date.parse(iso));

function actionForm(
  user: SignedInUser,
  target: string,
  action: string,
  body: Html,
  button: Html | string,
  danger = false,
): Html {
  return html`<form method="post" action="/portal/admin" class="inline-form">
${csrfField(user.csrfToken)}
<input type="hidden" name="user" value="${target}">
<input type="hidden" name="action" value="${action}">
${body}
<button type="submit"${danger ? html` class="danger"` : ''}>${button}</button>
</form>`;
}

function findForm(value: string): Html {
  return html`<form method="get" action="/portal/admin" class="inline-form" role="search">
<label for="find-user">User</label>
<input id="find-user" name="user" required maxlength="1100" placeholder="provider:subject" value="${value}" spellcheck="false">
<button type="submit">Look up</button>
</form>`;
}

/**
 * The admin page: find a user (`provider:subject`), see what they hold on every instance, and
 * act: revoke and suspend, lift a suspension, end one session, unlink, merge, erase. Plain
 * forms with the portal's CSRF token; nothing runs without a button.
 */
export function adminPage(
  info: SiteInfo,
  user: SignedInUser,
  options: {
    query?: string;
    lookup?: UserLookup | undefined;
    notice?: string | undefined;
    error?: string | undefined;
  },
): Html {
  const { lookup } = options;
  return page({
    site: info.site,
    product: info.product,
    title: lookup ? `Administration: ${lookup.user}` : 'Administration',
    user,
    body: html`<h1>Administration</h1>
${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
${options.error ? html`<p class="warning" role="alert">${options.error}</p>` : ''}
${findForm(options.query ?? lookup?.user ?? '')}
${lookup ? lookupSection(user, lookup) : html`<p class="muted">Name a user as their login provider and subject, for example <code>corp:alice</code>.</p>`}`,
  });
}

function lookupSection(user: SignedInUser, lookup: UserLookup): Html {
  const target = lookup.user;
  const suspension = lookup.suspension;
  return html`<h2 id="status">${target}</h2>
${
  suspension?.suspended
    ? html`<p class="warning">Suspended ${suspension.until ? html`until ${at(suspension.until)}` : 'until lifted'}; credentials issued before ${at(suspension.revokedBefore)} are revoked.${
        suspension.reason ? html` Reason: ${suspension.reason}` : ''
      }</p>`
    : suspension
      ? html`<p class="notice">Not suspended (lifted or ended); credentials issued before ${at(suspension.revokedBefore)} stay revoked.</p>`
      : html`<p>Not suspended.</p>`
}
<dl>
<dt>Identity ids</dt><dd>${lookup.identityIds.length > 0 ? lookup.identityIds.join(', ') : 'none known'}</dd>
${
  lookup.cognito === undefined
    ? ''
    : html`<dt>Cognito</dt><dd>${lookup.cognito ? html`${lookup.cognito.identityId} (logins: ${lookup.cognito.logins.join(', ')})` : 'knows no identity for this login'}</dd>`
}
<dt>Linked guest identities</dt><dd>${lookup.guestIdentities.length > 0 ? lookup.guestIdentities.join(', ') : 'none'}</dd>
</dl>
<h3 id="sessions">Browser sessions</h3>
${
  lookup.sessions.length === 0
    ? html`<p>None.</p>`
    : html`<table aria-labelledby="sessions">
<thead><tr><th scope="col">Browser</th><th scope="col">From</th><th scope="col">Signed in</th><th scope="col">Last seen</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>${lookup.sessions.map(
        (session) => html`<tr>
<td>${session.userAgent ?? 'unknown'}<br><span class="muted">via ${session.provider}</span></td>
<td>${session.sourceIp ?? 'unknown'}</td>
<td>${at(session.createdAt)}</td>
<td>${at(session.lastSeenAt)}</td>
<td>${actionForm(user, target, 'end-session', html`<input type="hidden" name="session" value="${session.id}">`, 'End')}</td>
</tr>`,
      )}</tbody>
</table>`
}
<h3 id="cli-tokens">CLI sign-ins</h3>
${
  lookup.cliTokens.length === 0
    ? html`<p>None.</p>`
    : html`<table aria-labelledby="cli-tokens">
<thead><tr><th scope="col">Client</th><th scope="col">From</th><th scope="col">Issued</th><th scope="col">Expires</th></tr></thead>
<tbody>${lookup.cliTokens.map(
        (token) =>
          html`<tr><td>${token.userAgent ?? token.clientId}</td><td>${token.requestedFrom ?? 'unknown'}</td><td>${at(token.issuedAt)}</td><td>${at(token.expiresAt)}</td></tr>`,
      )}</tbody>
</table>`
}
${lookup.deviceGrants.length > 0 ? html`<p>${lookup.deviceGrants.length} device sign-in(s) approved and not yet redeemed.</p>` : ''}
<h3 id="cached">Cached credentials</h3>
${
  lookup.cachedCredentials.length === 0
    ? html`<p>None.</p>`
    : html`<table aria-labelledby="cached">
<thead><tr><th scope="col">Role</th><th scope="col">Scope</th><th scope="col">Expires</th></tr></thead>
<tbody>${lookup.cachedCredentials.map(
        (entry) =>
          html`<tr><td>${entry.role}</td><td>${entry.scope ?? '—'}</td><td>${at(entry.expiresAt)}</td></tr>`,
      )}</tbody>
</table>`
}
<h2 id="actions">Act</h2>
<h3>Cut off now</h3>
<p>Ends every session, CLI sign-in and device grant, purges cached credentials, refuses new sign-ins and
credentials, and makes the AWS credentials already issued useless.</p>
${actionForm(
  user,
  target,
  'revoke',
  html`<label for="until">Suspended until (UTC, empty: until lifted)</label>
<input id="until" name="until" type="datetime-local">
<label for="reason">Reason</label>
<input id="reason" name="reason" maxlength="200">`,
  'Revoke and suspend',
  true,
)}
${suspension?.suspended ? actionForm(user, target, 'unsuspend', html``, 'Lift the suspension') : ''}
<h3>Identity</h3>
${actionForm(user, target, 'unlink', html``, 'Unlink this login from its identity')}
${actionForm(
  user,
  target,
  'merge',
  html`<label for="into">Merge into user</label>
<input id="into" name="into" required maxlength="1100" placeholder="provider:subject" spellcheck="false">`,
  'Merge identities',
)}
${actionForm(
  user,
  target,
  'delete-identity',
  html`<label><input type="checkbox" name="confirm" value="yes" required> Erase this user's identity and everything kept for it</label>`,
  'Delete identity',
  true,
)}`;
}
