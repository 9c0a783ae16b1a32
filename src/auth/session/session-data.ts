/**
 * What a browser session record holds. Modules that keep something in the session add their
 * own fields by declaration merging:
 *
 *   declare module '../session/session-data.ts' {
 *     interface SessionData { oidcLogins?: Record<string, PendingLogin> }
 *   }
 *
 * Everything here is serialised as JSON into the state store under `sess:<id>`; none of it is
 * ever sent to the browser, which holds only the signed session id.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in other modules.
export interface SessionData {}
