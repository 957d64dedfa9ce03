// The session record the real backend keeps in its memory service (Zep): who a session
// belongs to. Get-or-create: the first owner of a session id keeps it. Bounded: the oldest
// closed records are evicted beyond `maxRecords`.

import type { UserIdentity } from './auth/verify.ts';

export interface SessionRecord {
  session_id: string;
  user_id: string;
  metadata: { email: string; display_name: string };
  created_at: string;
  open: boolean;
}

export class MemoryStore {
  private readonly records = new Map<string, SessionRecord>();
  /** Open sessions per record; only sessions of the record's owner count. */
  private readonly openSessions = new Map<string, number>();
  /** Records without an open session, in the order they became so (eviction order). */
  private readonly idle = new Set<string>();
  constructor(private readonly maxRecords: number) {}

  /** Creates the record, or returns the existing one (possibly another user's). */
  open(sessionId: string, user: UserIdentity, now: number): SessionRecord {
    const existing = this.records.get(sessionId);
    if (existing) {
      if (existing.user_id === user.id) {
        this.openSessions.set(sessionId, (this.openSessions.get(sessionId) ?? 0) + 1);
        this.idle.delete(sessionId);
        existing.open = true;
      }
      return existing;
    }
    const rec: SessionRecord = {
      session_id: sessionId,
      user_id: user.id,
      metadata: { email: user.email, display_name: user.display_name },
      created_at: new Date(now).toISOString(),
      open: true,
    };
    this.records.set(sessionId, rec);
    this.openSessions.set(sessionId, 1);
    this.evict();
    return rec;
  }

  /** A session of `userId` on this id ended; another user's socket never releases the record. */
  closed(sessionId: string, userId: string): void {
    const r = this.records.get(sessionId);
    if (!r || r.user_id !== userId) return;
    const left = (this.openSessions.get(sessionId) ?? 1) - 1;
    if (left > 0) {
      this.openSessions.set(sessionId, left);
      return;
    }
    this.openSessions.delete(sessionId);
    r.open = false;
    this.idle.add(sessionId);
  }

  get(sessionId: string): SessionRecord | undefined {
    return this.records.get(sessionId);
  }

  get size(): number {
    return this.records.size;
  }

  /** Oldest idle records first; open ones are never looked at. */
  private evict(): void {
    for (const id of this.idle) {
      if (this.records.size <= this.maxRecords) break;
      this.idle.delete(id);
      this.records.delete(id);
    }
  }
}
