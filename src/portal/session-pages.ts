import type { ListedCliToken } from '../auth/device/cli-tokens.ts';
import type { ListedSession } from '../auth/session/user-sessions.ts';
import { type Html, html } from '../http/html.ts';
import { csrfField, page, type SignedInUser } from './portal-layout.ts';
import type { SiteInfo } from './portal-pages.ts';

/** A time as the portal shows it: minutes, UTC, in a machine-readable `<time>`. */
export function utcTimeElement(epochMs: number): Html {
  const iso = new Date(epochMs).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

/**
 * "Your sessions": every browser session and CLI sign-in of the signed-in user, on any
 * instance, each with a button that ends it. The current browser is marked; ending it signs out.
 */
export function sessionsPage(
  info: SiteInfo,
  user: SignedInUser,
  listing: {
    sessions: readonly ListedSession[];
    currentSessionId: string | undefined;
    cliTokens: readonly ListedCliToken[];
    notice?: string | undefined;
  },
): Html {
  const { sessions, cliTokens } = listing;
  return page({
    site: info.site,
    product: info.product,
    title: 'Your sessions',
    user,
    body: html`<h1>Your sessions</h1>
${listing.notice ? html`<p class="notice" role="status">${listing.notice}</p>` : ''}
<p>Where you are signed in to ${info.product}. If you do not recognise one, end it, and tell your administrator.
Credentials already issued stay valid until they expire.</p>
<h2 id="browsers">Browsers</h2>
<table aria-labelledby="browsers">
<thead><tr><th scope="col">Browser</th><th scope="col">From</th><th scope="col">Signed in</th><th scope="col">Last seen</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>
${sessions.map(
  (session) => html`<tr>
<td>${session.userAgent ?? 'Unknown browser'}${
    session.id === listing.currentSessionId ? html` <strong>(this browser)</strong>` : ''
  }<br><span class="muted">via ${session.provider}</span></td>
<td>${session.sourceIp ?? 'unknown'}</td>
<td>${utcTimeElement(session.createdAt)}</td>
<td>${utcTimeElement(session.lastSeenAt)}</td>
<td><form method="post" action="/portal/sessions">
${csrfField(user.csrfToken)}
<input type="hidden" name="session" value="${session.id}">
<button type="submit" class="secondary">${session.id === listing.currentSessionId ? 'Sign out here' : 'End'}<span class="visually-hidden"> the session from ${session.sourceIp ?? 'an unknown address'}</span></button>
</form></td>
</tr>`,
)}</tbody>
</table>
${
  info.cliEnabled
    ? html`<h2 id="cli">Command-line sign-ins</h2>
${
  cliTokens.length === 0
    ? html`<p>None. <code>${info.cliCommand} login</code> signs the CLI in.</p>`
    : html`<table aria-labelledby="cli">
<thead><tr><th scope="col">Client</th><th scope="col">From</th><th scope="col">Signed in</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>
${cliTokens.map(
  ({ id, record }) => html`<tr>
<td>${record.userAgent ?? record.clientId}</td>
<td>${record.requestedFrom ?? 'unknown'}</td>
<td>${utcTimeElement(record.issuedAt)}</td>
<td>${utcTimeElement(record.expiresAt)}</td>
<td><form method="post" action="/portal/sessions">
${csrfField(user.csrfToken)}
<input type="hidden" name="cliToken" value="${id}">
<button type="submit" class="secondary">Sign out<span class="visually-hidden"> the CLI signed in from ${record.requestedFrom ?? 'an unknown address'}</span></button>
</form></td>
</tr>`,
)}</tbody>
</table>`
}`
    : ''
}
<p><a href="/portal">Back to your roles</a></p>`,
  });
}
