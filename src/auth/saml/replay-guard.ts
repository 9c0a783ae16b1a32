import type { StateStore } from '../../store/types.ts';
import { SamlRejection } from './rejection.ts';

/**
 * Each accepted assertion (and the response that carried it) is remembered in the shared
 * store until it could no longer be accepted anyway, so a copy is refused by every instance.
 * `SET NX` makes the check and the marking one atomic step: of two instances racing on the
 * same response, exactly one wins.
 */
export class SamlReplayGuard {
  readonly #store: StateStore;
  readonly #prefix: string;
  readonly #skewMs: number;

  constructor(store: StateStore, providerName: string, acceptedClockSkewMs: number) {
    this.#store = store;
    this.#prefix = `saml:seen:${providerName}:`;
    this.#skewMs = acceptedClockSkewMs;
  }

  /**
   * An early, read-only look before signature validation, so a replay is reported as one
   * rather than as whatever check it trips first. Reading ids from an unverified message is
   * safe here: it can only lead to a rejection.
   */
  async assertUnseen(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      if ((await this.#store.get(this.#prefix + id)) !== null) throw new SamlRejection('replay');
    }
  }

  /** Marks the ids as used until `validUntilMs` (+ clock skew); throws when one already was. */
  async remember(ids: readonly string[], validUntilMs: number): Promise<void> {
    const ttlMs = Math.max(1_000, validUntilMs - Date.now() + this.#skewMs);
    for (const id of ids) {
      const first = await this.#store.set(this.#prefix + id, '1', { ttlMs, onlyIfAbsent: true });
      if (!first) throw new SamlRejection('replay');
    }
  }
}
