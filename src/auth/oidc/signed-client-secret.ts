import { type CryptoKey, importPKCS8, SignJWT } from 'jose';

export interface SignedClientSecretSettings {
  /** The JWT's `iss` (Apple: the developer team id). */
  readonly teamId: string;
  /** The signing key's id, in the JWT header's `kid`. */
  readonly keyId: string;
  /** PKCS#8 PEM of an EC P-256 key. */
  readonly privateKey: string;
  /** The JWT's `sub`. */
  readonly clientId: string;
  /** The JWT's `aud` (Apple: https://appleid.apple.com). */
  readonly audience: string;
  readonly lifetimeSeconds: number;
}

/**
 * A client secret that is a JWT signed with the developer's key, as Sign in with Apple requires:
 * ES256, `kid` = key id; `iss` = team id, `sub` = client id, `aud`, `iat` and `exp` at most six
 * months later. Made on first use and kept until 90 % of its lifetime has passed, then remade, so
 * a secret near its end is never sent (a long-running process never holds an expired one).
 * The clock is injectable for tests of that renewal.
 */
export class SignedClientSecret {
  readonly #settings: SignedClientSecretSettings;
  readonly #now: () => number;
  #key: Promise<CryptoKey> | undefined;
  #current: { jwt: string; renewAt: number } | undefined;

  constructor(settings: SignedClientSecretSettings, now: () => number = Date.now) {
    this.#settings = settings;
    this.#now = now;
  }

  /** The secret to send now: the cached one while it is fresh enough, else a new one. */
  async current(): Promise<string> {
    const now = this.#now();
    if (this.#current && now < this.#current.renewAt) return this.#current.jwt;
    const { teamId, keyId, clientId, audience, lifetimeSeconds, privateKey } = this.#settings;
    this.#key ??= importPKCS8(privateKey, 'ES256');
    const issuedAt = Math.floor(now / 1000);
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: keyId })
      .setIssuer(teamId)
      .setSubject(clientId)
      .setAudience(audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + lifetimeSeconds)
      .sign(await this.#key);
    this.#current = { jwt, renewAt: now + lifetimeSeconds * 900 };
    return jwt;
  }
}
