import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { CliError } from './cli-error.ts';

/** The CLI token `keywarden login` keeps for one keywarden host. */
export interface StoredToken {
  readonly url: string;
  readonly accessToken: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

function tokenDirectory(): string {
  const configHome = process.env.XDG_CONFIG_HOME || path.join(homedir(), '.config');
  return path.join(configHome, 'keywarden');
}

/** One file per keywarden host (and port): `~/.config/keywarden/keywarden.example.com.json`. */
export function tokenFilePath(base: URL): string {
  const name = base.host.toLowerCase().replace(/[^a-z0-9.-]/g, '_');
  return path.join(tokenDirectory(), `${name}.json`);
}

const ownerOnly = (mode: number) => (mode & 0o077) === 0;

/**
 * Reads the token file, refusing one that others could read or replace: a group- or
 * world-accessible file, a file owned by someone else, a symlink, or a folder others may
 * write to. Answers undefined when there is no file.
 */
export function readToken(base: URL): StoredToken | undefined {
  const file = tokenFilePath(base);
  const uid = process.getuid?.();
  let dirMode: number;
  try {
    dirMode = statSync(path.dirname(file)).mode;
  } catch {
    return undefined;
  }
  if ((dirMode & 0o022) !== 0) {
    throw new CliError(`refusing to use ${path.dirname(file)}: others may write to it (chmod 700 it)`);
  }
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new CliError(`refusing to use ${file}: not a regular file`);
    if (process.platform !== 'win32') {
      if (!ownerOnly(stat.mode)) {
        throw new CliError(
          `refusing to use ${file}: it is readable by others (mode ${(stat.mode & 0o777).toString(8)}); delete it and sign in again`,
        );
      }
      if (uid !== undefined && stat.uid !== uid)
        throw new CliError(`refusing to use ${file}: owned by another user`);
    }
    const parsed = JSON.parse(readFileSync(fd, 'utf8')) as Partial<StoredToken>;
    if (typeof parsed.accessToken !== 'string' || typeof parsed.expiresAt !== 'number') return undefined;
    return { url: String(parsed.url), accessToken: parsed.accessToken, expiresAt: parsed.expiresAt };
  } catch (error) {
    if (error instanceof CliError) throw error;
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Writes the token file owner-only (folder 0700, file 0600), atomically (temp file + rename). */
export function writeToken(base: URL, token: StoredToken): string {
  const file = tokenFilePath(base);
  const directory = path.dirname(file);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    writeSync(fd, `${JSON.stringify(token, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  return file;
}

export function deleteToken(base: URL): void {
  rmSync(tokenFilePath(base), { force: true });
}
