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
  constructor(private readonly maxRecords: number) {}

  /** Creates the record, or returns the existing one (possibly another user's). */
  open(sessionId: string, user: UserIdentity, now: number): SessionRecord {
    const existing = this.records.get(sessionId);
    if (existing) {
      if (existing.user_id === user.id) existing.open = true;
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
    this.evict();
    return rec;
  }

  closed(sessionId: string): void {
    const r = this.records.get(sessionId);
    if (r) r.open = false;
  }

  get(sessionId: string): SessionRecord | undefined {
    return this.records.get(sessionId);
  }

  get size(): number {
    return this.records.size;
  }

  private evict(): void {
    if (this.records.size <= this.maxRecords) return;
    for (const [id, r] of this.records) {
      if (this.records.size <= this.maxRecords) break;
      if (!r.open) this.records.delete(id);
    }
  }
}
