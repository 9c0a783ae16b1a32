import { z } from 'zod';
import type { StateStore } from '../../store/types.ts';
import { secretDigest } from '../secret-token.ts';

/**
 * The user's name as an IdP gives it only once (Sign in with Apple posts it in the `user` form
 * field of the first authorization, never again; the ID token has no name claim). It is kept per
 * provider and subject in the shared store, so every later sign-in — on any instance — still
 * has a `name` claim.
 *
 * The field is not signed: whoever posts the callback could write any name in it. It is only
 * read on a callback that passed every check (state, browser binding, code exchange), so it can
 * only name the account that just signed in, like any self-chosen display name; it is never used
 * for the email address (the ID token's is).
 */

const MAX_PART_LENGTH = 100;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
const CONTROL_CHARACTERS = /[\u0000-\u001F\u007F]/g;

const namePart = z
  .string()
  .transform((value) => value.replace(CONTROL_CHARACTERS, '').trim().slice(0, MAX_PART_LENGTH))
  .optional();

/** Apple's documented shape: `{"name": {"firstName": "…", "lastName": "…"}, "email": "…"}`. */
const postedUser = z.object({
  name: z.object({ firstName: namePart, middleName: namePart, lastName: namePart }).optional(),
});

/** A kept name outlives quiet periods: it is renewed at every sign-in and dropped after a year without one. */
const RETENTION_MS = 366 * 24 * 3_600_000;

/** The display name in a posted `user` field, or undefined when there is none or it is not that shape. */
export function nameFromPostedUser(field: string | undefined): string | undefined {
  if (field === undefined || field.length === 0 || field.length > 4_096) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(field);
  } catch {
    return undefined;
  }
  const result = postedUser.safeParse(parsed);
  if (!result.success || !result.data.name) return undefined;
  const { firstName, middleName, lastName } = result.data.name;
  const name = [firstName, middleName, lastName]
    .filter((part) => part !== undefined && part.length > 0)
    .join(' ');
  return name.length > 0 ? name : undefined;
}

export class FirstSignInProfiles {
  readonly #store: StateStore;

  constructor(store: StateStore) {
    this.#store = store;
  }

  #key(provider: string, subject: string): string {
    return `profile:${secretDigest(`${provider}:${subject}`)}`;
  }

  async remember(provider: string, subject: string, name: string): Promise<void> {
    await this.#store.set(this.#key(provider, subject), JSON.stringify({ name }), { ttlMs: RETENTION_MS });
  }

  /** The kept name, its retention renewed. */
  async recall(provider: string, subject: string): Promise<string | undefined> {
    const key = this.#key(provider, subject);
    const raw = await this.#store.get(key);
    if (raw === null) return undefined;
    const name = (JSON.parse(raw) as { name?: unknown }).name;
    if (typeof name !== 'string') return undefined;
    await this.#store.set(key, raw, { ttlMs: RETENTION_MS });
    return name;
  }

  /** Erases the kept name (an erasure request). Answers whether there was one. */
  async forget(provider: string, subject: string): Promise<boolean> {
    return (await this.#store.delete(this.#key(provider, subject))) > 0;
  }
}
