import { createHash } from 'node:crypto';

/**
 * The portal's only script and stylesheet, served from the portal router itself (the CSP
 * allows scripts and styles from 'self' only, nothing inline). They live in code rather
 * than as files so that the compiled image (dist/ only) carries them.
 *
 * The script is progressive enhancement: every page works without it. It reveals the copy
 * buttons (hidden by default, as they cannot work without script) and turns the absolute
 * expiry time into a live countdown.
 */
const SCRIPT = `'use strict';
(function () {
  function copyText(button, text) {
    var done = function () {
      var label = button.textContent;
      button.textContent = 'Copied';
      button.setAttribute('data-copied', 'true');
      setTimeout(function () {
        button.textContent = label;
        button.removeAttribute('data-copied');
      }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    }
  }

  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      copyText(button, source.textContent);
    });
  });

  function pad(n) {
    return n < 10 ? '0' + n : String(n);
  }

  var timers = document.querySelectorAll('[data-expires-at]');
  if (timers.length === 0) return;
  function tick() {
    timers.forEach(function (element) {
      var left = Math.floor((Date.parse(element.getAttribute('data-expires-at')) - Date.now()) / 1000);
      if (!(left > 0)) {
        element.textContent = 'expired';
        element.setAttribute('data-expired', 'true');
        return;
      }
      var hours = Math.floor(left / 3600);
      var minutes = Math.floor((left % 3600) / 60);
      var seconds = left % 60;
      element.textContent = (hours > 0 ? hours + ':' + pad(minutes) : String(minutes)) + ':' + pad(seconds) + ' left';
    });
  }
  tick();
  setInterval(tick, 1000);
})();
`;

const STYLES = `:root { color-scheme: light dark; --accent: #0b5cad; --muted: #5b6470; --border: #c8ced6; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0; }
header, main, footer { max-width: 60rem; margin: 0 auto; padding: 1rem 1.25rem; }
header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; justify-content: space-between;
  border-bottom: 1px solid var(--border); }
header p { margin: 0; }
.brand a { display: inline-flex; flex-wrap: wrap; align-items: center; gap: 0.25rem 0.6rem; text-decoration: none; color: inherit; }
.brand img { width: 1.75rem; height: 1.75rem; object-fit: contain; }
.brand .product { font-weight: 600; }
.brand .site { color: var(--muted); }
h1 { font-size: 1.6rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 0.75rem; }
h3 { font-size: 1.05rem; margin: 0 0 0.25rem; }
.muted { color: var(--muted); }
.roles { list-style: none; padding: 0; display: grid; gap: 0.75rem; }
.role { border: 1px solid var(--border); border-radius: 6px; padding: 0.75rem 1rem; }
.role form { display: inline-flex; gap: 0.5rem; align-items: center; margin: 0.5rem 0.5rem 0 0; }
.providers { list-style: none; padding: 0; display: grid; gap: 0.5rem; max-width: 24rem; }
.providers a { display: block; padding: 0.6rem 1rem; border: 1px solid var(--border); border-radius: 6px; }
a { color: var(--accent); }
button, .button { font: inherit; padding: 0.4rem 0.9rem; border-radius: 6px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: transparent; color: var(--accent); }
button:focus-visible, a:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible {
  outline: 3px solid #f0a500; outline-offset: 2px; }
label { margin-right: 0.25rem; }
input, select { font: inherit; padding: 0.3rem 0.5rem; }
input[name="user_code"] { text-transform: uppercase; letter-spacing: 0.15em; font-family: ui-monospace, monospace; }
.block { position: relative; margin: 0.5rem 0 1.5rem; }
.block button { position: absolute; top: 0.4rem; right: 0.4rem; padding: 0.2rem 0.6rem; font-size: 0.85rem; }
pre { padding: 0.75rem 1rem; border: 1px solid var(--border); border-radius: 6px;
  font: 0.85rem/1.45 ui-monospace, 'SFMono-Regular', Menlo, monospace;
  /* A session token is one word of some 1,000 characters: wrap it anywhere rather than scroll
     sideways. Wrapping is only visual: copying still gives one line per value. */
  white-space: pre-wrap; overflow-wrap: anywhere; }
.block pre { padding-right: 4.5rem; }
.code { font: 2rem/1.2 ui-monospace, monospace; letter-spacing: 0.2em; }
.notice { border-left: 4px solid var(--accent); padding: 0.5rem 1rem; }
.warning { border-left: 4px solid #b00020; padding: 0.5rem 1rem; }
header nav { display: flex; gap: 1rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem; }
th, td { text-align: left; padding: 0.4rem 0.5rem; border-bottom: 1px solid var(--border); vertical-align: top; }
td form { margin: 0; }
.inline-form { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin: 0.5rem 0 1rem; }
.danger { border-color: #b00020; background: #b00020; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
[data-expired] { color: #b00020; font-weight: bold; }
@media (prefers-reduced-motion: reduce) { * { transition: none !important; } }
`;

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

export interface PortalAsset {
  readonly path: string;
  readonly contentType: string;
  readonly body: string;
  readonly etag: string;
}

export const PORTAL_SCRIPT: PortalAsset = {
  path: '/portal/assets/portal.js',
  contentType: 'text/javascript; charset=utf-8',
  body: SCRIPT,
  etag: `"${digest(SCRIPT)}"`,
};

export const PORTAL_STYLES: PortalAsset = {
  path: '/portal/assets/portal.css',
  contentType: 'text/css; charset=utf-8',
  body: STYLES,
  etag: `"${digest(STYLES)}"`,
};
