import type { Config } from '../config/schema.ts';

/** Longer values are refused rather than parsed: a return path has no reason to be huge. */
const MAX_LENGTH = 2_048;

// Control characters (CR/LF header injection, TAB that browsers strip inside URLs) and the
// backslash, which browsers read as `/` so that `/\evil.example` means `//evil.example`.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const UNSAFE_CHARACTERS = /[\u0000-\u001F\u007F\\]/;

/** Only used to resolve a path and see whether it stays on this origin. */
const PROBE_ORIGIN = 'https://keywarden.invalid';

/**
 * Where the browser may be sent after sign-in (OIDC `returnTo`, SAML RelayState): a path on
 * this origin (`/x`, not `//x`, not `/\x`, no scheme) or a URL on a configured SPA origin
 * (`cors.origins`). Anything else — including values that merely look odd — gives the
 * configured landing page, so no input can turn keywarden into an open redirector.
 */
export function safeReturnTo(
  value: unknown,
  config: {
    readonly auth: { readonly landingPath: string };
    readonly cors: { readonly origins: readonly string[] };
  },
): string {
  const fallback = config.auth.landingPath;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return fallback;
  if (UNSAFE_CHARACTERS.test(value)) return fallback;

  if (value.startsWith('/')) {
    if (value.startsWith('//')) return fallback;
    let resolved: URL;
    try {
      resolved = new URL(value, PROBE_ORIGIN);
    } catch {
      return fallback;
    }
    // Belt and braces: whatever the URL parser makes of it must still be on this origin.
    if (resolved.origin !== PROBE_ORIGIN) return fallback;
    // Dot segments collapse (`/.//evil.example` → `//evil.example`): the normalised path is what
    // goes into Location, and a browser reads a leading `//` as another host.
    if (resolved.pathname.startsWith('//')) return fallback;
    return `${resolved.pathname}${resolved.search}${resolved.hash}`;
  }

  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fallback;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return fallback;
  if (url.username || url.password) return fallback;
  return config.cors.origins.includes(url.origin) ? url.href : fallback;
}

export type ReturnToConfig = Pick<Config, 'auth' | 'cors'>;
