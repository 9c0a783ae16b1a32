import type { DeviceRecord } from '../auth/device/device-authorizations.ts';
import { type Html, html } from '../http/html.ts';
import { csrfField, page, type SignedInUser } from './portal-layout.ts';
import type { SiteInfo } from './portal-pages.ts';

/** Asks for the code the CLI printed (pre-filled when the CLI's link carried it). */
export function deviceEntryPage(
  info: SiteInfo,
  user: SignedInUser,
  options: { error?: string; value?: string } = {},
): Html {
  return page({
    site: info.site,
    product: info.product,
    title: 'Approve a device sign-in',
    user,
    body: html`<h1>Approve a device sign-in</h1>
<p>Enter the code shown by <code>${info.cliCommand} login</code> in your terminal.</p>
${options.error ? html`<p class="warning" id="code-error">${options.error}</p>` : ''}
<form method="get" action="/portal/device">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" autocomplete="off" autocapitalize="characters" spellcheck="false"
  required maxlength="16" value="${options.value ?? ''}" autofocus${
    options.error ? html` aria-invalid="true" aria-describedby="code-error"` : ''
  }>
<button type="submit">Continue</button>
</form>`,
  });
}

/**
 * The confirmation step: what is being approved, from where and when, so a user who did not
 * start this (a phishing attempt: someone else's code) can tell and deny it.
 */
export function deviceConfirmPage(info: SiteInfo, user: SignedInUser, record: DeviceRecord): Html {
  const minutesLeft = Math.max(1, Math.round((record.expiresAt - Date.now()) / 60_000));
  return page({
    site: info.site,
    product: info.product,
    title: 'Approve a device sign-in',
    user,
    body: html`<h1>Approve a device sign-in</h1>
<p>A command-line client asks to act as <strong>${user.name}</strong> and take AWS credentials for your roles.</p>
<p class="code" aria-label="Code">${record.userCode}</p>
<dl>
<dt>Requested</dt><dd><time datetime="${new Date(record.createdAt).toISOString()}">${new Date(record.createdAt).toISOString().replace('T', ' ').slice(0, 19)} UTC</time>${
      record.requestedFrom ? html` from ${record.requestedFrom}` : ''
    }</dd>
${record.userAgent ? html`<dt>Client</dt><dd>${record.userAgent}</dd>` : ''}
<dt>Code expires</dt><dd>in about ${minutesLeft} minute${minutesLeft === 1 ? '' : 's'}</dd>
</dl>
<p class="warning">Approve only if you ran <code>${info.cliCommand} login</code> yourself just now and your terminal
shows this same code. Never approve a code someone sent you.</p>
<form method="post" action="/portal/device">
${csrfField(user.csrfToken)}
<input type="hidden" name="user_code" value="${record.userCode}">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`,
  });
}

export function deviceDonePage(info: SiteInfo, user: SignedInUser, approved: boolean): Html {
  return page({
    site: info.site,
    product: info.product,
    title: approved ? 'Device approved' : 'Device denied',
    user,
    body: approved
      ? html`<h1>Device approved</h1>
<p>You can close this page and return to your terminal.</p>`
      : html`<h1>Device denied</h1>
<p>The request was refused; the client gets nothing. You can close this page.</p>`,
  });
}
