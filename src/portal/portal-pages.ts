import type { AllowedRole } from '../broker/role-mapping.ts';
import type { AwsCredentials } from '../cache/credential-cache.ts';
import { type Html, html } from '../http/html.ts';
import {
  credentialProcessProfile,
  credentialsFileProfile,
  powerShellVariables,
  profileName,
  shellExports,
} from './credential-snippets.ts';
import { copyBlock, csrfField, page, type SignedInUser } from './portal-layout.ts';
import type { AccountGroup } from './role-groups.ts';

/** What every page needs to know about the site. */
export interface SiteInfo {
  readonly site: string;
  /** The product's name (`portal.productName`), wherever a page names the service. */
  readonly product: string;
  /** keywarden's public URL, for the CLI instructions. */
  readonly publicUrl: string;
  /** The CLI command as installed (`portal.cliCommand`). */
  readonly cliCommand: string;
  /** Whether device sign-in (and so the CLI) is available. */
  readonly cliEnabled: boolean;
  /**
   * Development with the local AWS: its endpoint, which the credential snippets name, since
   * the credentials it vends work there only.
   */
  readonly localAwsEndpoint?: string;
}

export interface ProviderLink {
  readonly name: string;
  readonly displayName: string;
}

function durationLabel(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? '1 hour' : `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}

function utcTime(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The sign-in chooser: one link per configured provider, each coming back to `returnTo`. */
export function signInPage(
  info: SiteInfo,
  providers: readonly ProviderLink[],
  options: { returnTo: string; title?: string; lead?: string },
): Html {
  const title = options.title ?? 'Sign in';
  return page({
    site: info.site,
    product: info.product,
    title,
    body: html`<h1>${title}</h1>
<p>${options.lead ?? 'Sign in with your organisation account to see the AWS roles you may use.'}</p>
${
  providers.length === 0
    ? html`<p class="warning">No sign-in provider is configured. Ask your administrator.</p>`
    : html`<ul class="providers">
${providers.map(
  (provider) =>
    html`<li><a href="/auth/login/${encodeURIComponent(provider.name)}?returnTo=${encodeURIComponent(options.returnTo)}">Sign in with ${provider.displayName}</a></li>
`,
)}</ul>`
}`,
  });
}

function roleCard(
  info: SiteInfo,
  role: AllowedRole,
  csrfToken: string,
  durations: readonly number[],
  defaultDuration: number,
): Html {
  const id = `role-${profileName(role.name)}`;
  const snippet = credentialProcessProfile({
    command: info.cliCommand,
    url: info.publicUrl,
    role: role.name,
    ...(info.localAwsEndpoint ? { endpointUrl: info.localAwsEndpoint } : {}),
  });
  return html`<li class="role" id="${id}">
<h3>${role.displayName}</h3>
<p class="muted">${role.name} · <code>${role.arn}</code></p>
<form method="post" action="/portal/credentials">
${csrfField(csrfToken)}
<input type="hidden" name="role" value="${role.name}">
${
  durations.length > 1
    ? html`<label for="${id}-duration">Valid for</label>
<select id="${id}-duration" name="durationSeconds">
${durations.map(
  (seconds) =>
    html`<option value="${seconds}"${seconds === defaultDuration ? html` selected` : ''}>${durationLabel(seconds)}</option>`,
)}
</select>`
    : ''
}
<button type="submit">Get credentials<span class="visually-hidden"> for ${role.displayName}</span></button>
</form>
<form method="post" action="/portal/console">
${csrfField(csrfToken)}
<input type="hidden" name="role" value="${role.name}">
<button type="submit" class="secondary">Open console<span class="visually-hidden"> as ${role.displayName}</span></button>
</form>
${
  info.cliEnabled
    ? html`<details>
<summary>Use with the aws CLI (<code>aws --profile ${profileName(role.name)}</code>)</summary>
<p>Add this profile to <code>~/.aws/config</code>:</p>
${copyBlock(`${id}-config`, `~/.aws/config profile for ${role.displayName}`, snippet)}
</details>`
    : ''
}
</li>`;
}

/** The signed-in home page: the roles this user may take, by account; or why there are none. */
export function rolesPage(
  info: SiteInfo,
  user: SignedInUser,
  groups: readonly AccountGroup[],
  options: {
    durationsFor: (role: AllowedRole) => readonly number[];
    defaultDuration: (role: AllowedRole) => number;
    /** Whether the user has CLI sign-ins to end (the sign-out-everywhere button is shown only then). */
    cliSignedIn: boolean;
  },
): Html {
  if (groups.length === 0) {
    return page({
      site: info.site,
      product: info.product,
      title: 'No AWS roles',
      user,
      body: html`<h1>No AWS roles</h1>
<p class="notice">You are signed in as <strong>${user.name}</strong>, but none of your groups grants an AWS role here,
so there are no credentials to take.</p>
<p>If you need access, ask your administrator to add you to a group that has a role. Sign out and in again after
your groups change.</p>`,
    });
  }
  return page({
    site: info.site,
    product: info.product,
    title: 'Your AWS roles',
    user,
    body: html`<h1>Your AWS roles</h1>
<p>Take short-lived credentials for your shell, or open the AWS console as one of these roles.</p>
${groups.map(
  (group) => html`<section aria-labelledby="acct-${group.accountId ?? profileName(group.heading)}">
<h2 id="acct-${group.accountId ?? profileName(group.heading)}">${group.heading}${
    group.accountId && !group.heading.includes(group.accountId)
      ? html` <span class="muted">(${group.accountId})</span>`
      : ''
  }</h2>
<ul class="roles">
${group.roles.map((role) => roleCard(info, role, user.csrfToken, options.durationsFor(role), options.defaultDuration(role)))}
</ul>
</section>
`,
)}
${
  info.cliEnabled
    ? html`<section aria-labelledby="cli">
<h2 id="cli">Command line</h2>
<p>Sign the ${info.product} CLI in once; it then fetches fresh credentials whenever the AWS CLI or an SDK
needs them (through the <code>credential_process</code> profiles above):</p>
${copyBlock('cli-login', 'CLI sign-in command', `${info.cliCommand} login --url ${info.publicUrl}`)}
${
  options.cliSignedIn
    ? html`<form method="post" action="/portal/cli/sign-out">
${csrfField(user.csrfToken)}
<button type="submit" class="secondary">Sign the CLI out on all your devices</button>
</form>`
    : ''
}
</section>`
    : ''
}`,
  });
}

/** Freshly issued credentials, in three shapes plus the profile for the long run. */
export function credentialsPage(
  info: SiteInfo,
  user: SignedInUser,
  role: AllowedRole,
  credentials: AwsCredentials,
): Html {
  const expires = credentials.expiration;
  const endpointUrl = info.localAwsEndpoint;
  const target = endpointUrl ? { endpointUrl } : {};
  return page({
    site: info.site,
    product: info.product,
    title: `Credentials for ${role.displayName}`,
    user,
    body: html`<h1>Credentials for ${role.displayName}</h1>
<p>Role <code>${role.arn}</code>. Valid until <time datetime="${expires.toISOString()}">${utcTime(expires)}</time>
(<span data-expires-at="${expires.toISOString()}" role="timer" aria-live="off">${durationLabel(
      Math.max(0, Math.round((expires.getTime() - Date.now()) / 60_000)) * 60,
    )} left</span>).</p>
<p class="warning">These credentials act as you. Do not share them or commit them anywhere.</p>
${
  endpointUrl
    ? html`<p class="warning">Development: these are credentials for ${info.product}'s local AWS at <code>${endpointUrl}</code>,
not for AWS. The snippets below point the AWS SDKs and CLI there (<code>AWS_ENDPOINT_URL</code>); S3 clients must use
path-style addressing.</p>`
    : ''
}
<h2>macOS and Linux (bash, zsh)</h2>
${copyBlock('exports', 'shell export lines', shellExports(credentials, target))}
<h2>AWS credentials file (<code>~/.aws/credentials</code>)</h2>
${copyBlock('profile', 'credentials file profile', credentialsFileProfile(role.name, credentials))}
${
  endpointUrl
    ? html`<p>The credentials file holds keys only: add <code>endpoint_url = ${endpointUrl}</code> to the profile of the
same name in <code>~/.aws/config</code>, or set <code>AWS_ENDPOINT_URL</code>.</p>`
    : ''
}
<h2>Windows PowerShell</h2>
${copyBlock('powershell', 'PowerShell variables', powerShellVariables(credentials, target))}
${
  info.cliEnabled
    ? html`<h2>Always fresh: a <code>~/.aws/config</code> profile</h2>
<p>Instead of pasting credentials every hour, let the AWS CLI ask ${info.product} (after <code>${info.cliCommand} login --url ${info.publicUrl}</code>):</p>
${copyBlock(
  'config',
  '~/.aws/config profile',
  credentialProcessProfile({ command: info.cliCommand, url: info.publicUrl, role: role.name, ...target }),
)}`
    : ''
}
<p><a href="/portal">Back to your roles</a></p>`,
  });
}

export function cliSignedOutPage(info: SiteInfo, user: SignedInUser, count: number): Html {
  return page({
    site: info.site,
    product: info.product,
    title: 'CLI signed out',
    user,
    body: html`<h1>CLI signed out</h1>
<p>${count === 1 ? 'One CLI sign-in was' : `${count} CLI sign-ins were`} revoked. Run
<code>${info.cliCommand} login</code> again where you need it. Credentials already issued stay valid until they expire.</p>
<p><a href="/portal">Back to your roles</a></p>`,
  });
}

export function signedOutPage(info: SiteInfo, idpLogoutUrl: string | undefined): Html {
  return page({
    site: info.site,
    product: info.product,
    title: 'Signed out',
    body: html`<h1>Signed out</h1>
<p>Your ${info.product} session has ended. Credentials already issued stay valid until they expire.</p>
${idpLogoutUrl ? html`<p><a href="${idpLogoutUrl}">Also sign out of your organisation account</a></p>` : ''}
<p><a href="/portal">Sign in again</a></p>`,
  });
}

export function errorPage(
  info: SiteInfo,
  options: {
    status: number;
    title: string;
    message: string;
    user?: SignedInUser | undefined;
    signIn?: boolean;
  },
): Html {
  return page({
    site: info.site,
    product: info.product,
    title: options.title,
    user: options.user,
    body: html`<h1>${options.title}</h1>
<p>${options.message}</p>
<p><a href="/portal">${options.signIn ? 'Sign in' : 'Back to your roles'}</a></p>`,
  });
}
