import type { Server } from 'node:http';
import type { Express } from 'express';
import request, { type Test } from 'supertest';

/**
 * A tiny browser for supertest: a cookie jar that keeps what keywarden sets — including
 * `Secure` `__Host-` cookies, which superagent's own agent refuses to send over plain HTTP —
 * and sends it back on every request. Requests carry `X-Forwarded-Proto: https`, so an app
 * built with `server.trustProxyHops: 1` believes it is behind a TLS proxy and sets Secure
 * cookies, as in production.
 *
 *   const browser = new BrowserSession(app);
 *   await browser.get('/auth/login/a?returnTo=/x');        // a supertest Test: chain .set(), .expect()
 *   browser.cookie('__Host-keywarden');                      // the raw (signed) cookie value
 *   browser.sessionId();                                     // the session id inside it
 *   browser.setCookies['__Host-keywarden'];                  // the last Set-Cookie line for that name
 *   browser.withApp(secondInstance).get('/auth/session');    // same jar, another app instance
 *
 * The jar ignores Domain/Path matching (every cookie goes to every request): tests talk to
 * one origin. Cookies are dropped when a response expires them.
 */
export type Target = Express | Server | string;

export class BrowserSession {
  readonly target: Target;
  /** name → value, as the browser would send them. */
  readonly jar: Map<string, string>;
  /** name → the complete last Set-Cookie header line received for it (attributes included). */
  readonly setCookies: Record<string, string>;
  /** The IdP's own cookies (login state at the IdP), kept apart from keywarden's. */
  readonly idpJar: Map<string, string>;
  readonly forwardedProto: string | undefined;
  /** Sent as User-Agent on every request to keywarden, when set. */
  readonly userAgent: string | undefined;

  constructor(
    target: Target,
    options: {
      forwardedProto?: string | undefined;
      userAgent?: string | undefined;
      shared?: Pick<BrowserSession, 'jar' | 'setCookies' | 'idpJar'>;
    } = {},
  ) {
    this.target = target;
    this.forwardedProto = 'forwardedProto' in options ? options.forwardedProto : 'https';
    this.userAgent = options.userAgent;
    this.jar = options.shared?.jar ?? new Map();
    this.setCookies = options.shared?.setCookies ?? {};
    this.idpJar = options.shared?.idpJar ?? new Map();
  }

  /** The same browser (same cookies) talking to another app instance. */
  withApp(target: Target): BrowserSession {
    return new BrowserSession(target, {
      forwardedProto: this.forwardedProto,
      userAgent: this.userAgent,
      shared: this,
    });
  }

  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  setCookie(name: string, value: string): void {
    this.jar.set(name, value);
  }

  clearCookies(): void {
    this.jar.clear();
  }

  /** The session id inside an express-session cookie (`s:<id>.<signature>`). */
  sessionId(name = '__Host-keywarden'): string | undefined {
    const raw = this.jar.get(name);
    if (!raw) return undefined;
    const value = decodeURIComponent(raw);
    if (!value.startsWith('s:')) return undefined;
    return value.slice(2, value.lastIndexOf('.'));
  }

  cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  get(path: string): Test {
    return this.#prepare(request(this.target).get(path));
  }

  post(path: string): Test {
    return this.#prepare(request(this.target).post(path));
  }

  delete(path: string): Test {
    return this.#prepare(request(this.target).delete(path));
  }

  /** Records Set-Cookie headers of any response (a plain fetch to the IdP, say). */
  store(setCookie: string | string[] | undefined, jar: Map<string, string> = this.jar): void {
    const lines = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
    for (const line of lines) {
      const [pair = '', ...attributes] = line.split(';');
      const separator = pair.indexOf('=');
      if (separator <= 0) continue;
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      if (jar === this.jar) this.setCookies[name] = line;
      const expired = attributes.some((attribute) => {
        const [key = '', attributeValue = ''] = attribute.split('=').map((part) => part.trim());
        if (key.toLowerCase() === 'max-age') return Number(attributeValue) <= 0;
        if (key.toLowerCase() === 'expires') return new Date(attributeValue).getTime() <= Date.now();
        return false;
      });
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  #prepare(test: Test): Test {
    if (this.forwardedProto) test.set('X-Forwarded-Proto', this.forwardedProto);
    if (this.userAgent) test.set('User-Agent', this.userAgent);
    const cookies = this.cookieHeader();
    if (cookies) test.set('Cookie', cookies);
    test.on('response', (response: { headers: Record<string, string | string[] | undefined> }) => {
      this.store(response.headers['set-cookie']);
    });
    return test;
  }
}
