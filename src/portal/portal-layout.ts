import { type Html, html } from '../http/html.ts';
import { FAVICON_PATH, LOGO_PATH } from '../http/routes/brand-assets.ts';
import { CSRF_FIELD } from './csrf-token.ts';
import { PORTAL_SCRIPT, PORTAL_STYLES } from './portal-assets.ts';

/** Who is signed in, for the page header (name, links and the sign-out form). */
export interface SignedInUser {
  readonly name: string;
  readonly csrfToken: string;
  /** Shows the link to the admin page. */
  readonly isAdmin?: boolean;
}

export interface PageOptions {
  /** The portal's title (`portal.title`). */
  readonly site: string;
  /** The product's name next to the logo (`portal.productName`). */
  readonly product: string;
  /** This page's title (the document title and, by default, its h1). */
  readonly title: string;
  readonly user?: SignedInUser | undefined;
  readonly body: Html;
}

/** A hidden field with the session's synchronizer token, for every POST form. */
export function csrfField(token: string): Html {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;
}

/**
 * The frame of every portal page: language, viewport, the one stylesheet and the one
 * deferred script (no inline code: the CSP forbids it), the site header with the logo, the
 * product's name and the sign-out form, and `main` with the page's content.
 */
export function page(options: PageOptions): Html {
  const { user } = options;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · ${options.site}</title>
<link rel="icon" href="${FAVICON_PATH}">
<link rel="stylesheet" href="${PORTAL_STYLES.path}">
<script src="${PORTAL_SCRIPT.path}" defer></script>
</head>
<body>
<header>
<p class="brand"><a href="/portal"><img src="${LOGO_PATH}" alt="" width="28" height="28"><span class="product">${options.product}</span>
<span class="site">${options.site}</span></a></p>
${
  user
    ? html`<nav aria-label="Account"><a href="/portal/sessions">Your sessions</a>${
        user.isAdmin ? html` <a href="/portal/admin">Administration</a>` : ''
      }</nav>
<form method="post" action="/portal/logout">
<span>Signed in as <strong>${user.name}</strong></span>
${csrfField(user.csrfToken)}
<button type="submit" class="secondary">Sign out</button>
</form>`
    : ''
}
</header>
<main id="main">
${options.body}
</main>
</body>
</html>
`;
}

/** A code block with a copy button the script reveals (it cannot work without script). */
export function copyBlock(id: string, label: string, text: string): Html {
  return html`<div class="block">
<pre id="${id}" aria-label="${label}" tabindex="0">${text}</pre>
<button type="button" data-copy="${id}" aria-label="Copy ${label}" hidden>Copy</button>
</div>`;
}
