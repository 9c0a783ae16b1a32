import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IdentityRecord, LocalAwsState, VendedCredentials } from './state.ts';

/** The file's shape; Sets and Maps become arrays. */
interface IdentityFileContent {
  version: 1;
  identities: Array<Omit<IdentityRecord, 'developerUserIds'> & { developerUserIds: string[] }>;
  developerUsers: Array<[string, string]>;
  credentials: VendedCredentials[];
  /** Inline role policies written through IAM (role ARN → [policy name, document]); absent in older files. */
  rolePolicies?: Array<[string, Array<[string, string]>]>;
}

/**
 * Keeps the local Cognito identities, their developer logins, the unexpired vended
 * credentials and the roles' inline policies (an admin's revocation) in
 * `<dir>/identities.json`, so that after a restart a user gets the same identity id (and so
 * the same S3 prefix), credentials handed out before the restart keep working until they
 * expire, and revoked ones stay revoked. Written whole, to a temporary file renamed over the old one; a
 * save asked for while one runs is folded into one more save after it.
 */
export class IdentityFile {
  readonly #file: string;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(dir: string) {
    this.#file = path.join(dir, 'identities.json');
  }

  /** Loads what a previous run saved into `state` (nothing when there is no file yet). */
  async load(state: LocalAwsState): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const content = JSON.parse(text) as IdentityFileContent;
    if (content.version !== 1) throw new Error(`${this.#file}: unknown version ${String(content.version)}`);
    for (const identity of content.identities) {
      state.identities.set(identity.id, {
        ...identity,
        developerUserIds: new Set(identity.developerUserIds),
      });
    }
    for (const [userId, identityId] of content.developerUsers) state.developerUsers.set(userId, identityId);
    for (const credentials of content.credentials) {
      if (credentials.expiration > state.now()) state.vended.set(credentials.accessKeyId, credentials);
    }
    for (const [roleArn, policies] of content.rolePolicies ?? []) {
      state.roleInlinePolicies.set(roleArn, new Map(policies));
    }
  }

  /** Saves the state soon; resolves when a save that includes the current state is written. */
  save(state: LocalAwsState): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#write(state);
        } while (this.#again);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  async #write(state: LocalAwsState): Promise<void> {
    const now = state.now();
    const content: IdentityFileContent = {
      version: 1,
      identities: [...state.identities.values()].map((identity) => ({
        ...identity,
        developerUserIds: [...identity.developerUserIds],
      })),
      developerUsers: [...state.developerUsers.entries()],
      credentials: [...state.vended.values()].filter((credentials) => credentials.expiration > now),
      rolePolicies: [...state.roleInlinePolicies].map(([roleArn, policies]) => [roleArn, [...policies]]),
    };
    await mkdir(path.dirname(this.#file), { recursive: true, mode: 0o700 });
    const partial = `${this.#file}.${randomBytes(6).toString('hex')}.partial`;
    // Local credentials only work against this local AWS, but they are still kept from other users.
    await writeFile(partial, JSON.stringify(content), { mode: 0o600 });
    await rename(partial, this.#file);
  }
}
