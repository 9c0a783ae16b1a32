import { UserIndex, type UserRef } from '../../identity/user-index.ts';
import type { StateStore } from '../../store/types.ts';
import { publicHandle } from '../secret-token.ts';
import type { SessionRecord } from './session.ts';
import { SESSION_KEY_PREFIX, storedSessionTimes } from './session-middleware.ts';

/**
 * One user's browser sessions, read through their user index from any instance: for the
 * user's own "Your sessions" page and for the admin's lookup. A session is named by a public
 * handle, never by its id (the id is what the signed cookie carries).
 */
export interface ListedSession {
  readonly id: string;
  readonly provider: string;
  /** When the user signed in (epoch ms). */
  readonly createdAt: number;
  /** The session's last renewal: its last use, to within min(60 s, idle timeout / 10). */
  readonly lastSeenAt: number;
  /** When it ends unless used again (idle) or at the latest (absolute), whichever is first. */
  readonly expiresAt: number;
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

/** The public handle of a session id, as `ListedSession.id` shows it. */
export function sessionHandle(sessionId: string): string {
  return publicHandle(sessionId);
}

/** A user's live sessions, most recently used first; index members whose record is gone are pruned. */
export async function listUserSessions(store: StateStore, user: UserRef): Promise<ListedSession[]> {
  const index = new UserIndex(store);
  const ids = await index.members(user, 'sessions');
  const raws = await Promise.all(ids.map((id) => store.get(SESSION_KEY_PREFIX + id)));
  const listed: ListedSession[] = [];
  const gone: string[] = [];
  ids.forEach((id, at) => {
    const raw = raws[at];
    const record = raw ? readRecord(raw) : undefined;
    const times = raw ? storedSessionTimes(raw) : undefined;
    if (!raw || !record || !times) {
      gone.push(id);
      return;
    }
    listed.push({
      id: sessionHandle(id),
      provider: record.provider,
      createdAt: record.authTime,
      lastSeenAt: times.renewedAt,
      expiresAt: Math.min(times.expiresAt, record.absoluteExpiresAt),
      ...(record.sourceIp ? { sourceIp: record.sourceIp } : {}),
      ...(record.userAgent ? { userAgent: record.userAgent } : {}),
    });
  });
  if (gone.length > 0) await index.remove(user, 'sessions', gone).catch(() => undefined);
  return listed.sort((a, b) => b.lastSeenAt - a.lastSeenAt);
}

/** Ends one of a user's sessions by its listed id, on every instance; answers whether it was live. */
export async function endUserSession(store: StateStore, user: UserRef, id: string): Promise<boolean> {
  const index = new UserIndex(store);
  const sessionId = (await index.members(user, 'sessions')).find(
    (candidate) => sessionHandle(candidate) === id,
  );
  if (sessionId === undefined) return false;
  const deleted = await store.delete(SESSION_KEY_PREFIX + sessionId);
  await index.remove(user, 'sessions', [sessionId]);
  return deleted > 0;
}

function readRecord(raw: string): SessionRecord | undefined {
  try {
    const auth = (JSON.parse(raw) as { auth?: SessionRecord }).auth;
    return auth?.principal && typeof auth.authTime === 'number' ? auth : undefined;
  } catch {
    return undefined;
  }
}
