// Counters behind GET /stats. Invariant (tested): every upgrade request ends as exactly one
// of accepted, rejected, refused (HTTP 4xx/5xx before any auth decision) or aborted (the
// client vanished mid-handshake), or is still pending.

export interface TargetStats {
  uptimeSec: number;
  /** Accepted sessions currently open. */
  open: number;
  /** Upgrades currently being decided (verification or injected delay in flight). */
  pending: number;
  upgrades: number;
  accepted: number;
  /** How accepted sessions were attributed. */
  acceptedBy: Record<'token' | 'poc_fallback' | 'bypass_missing' | 'bypass_invalid', number>;
  rejected: number;
  /** Rejections by close reason (or the reason behind the HTTP status in http style). */
  rejectedByReason: Record<string, number>;
  /** Invalid tokens by the target's failure kind (docs/target.md). */
  invalidByKind: Record<string, number>;
  rejectedByStyle: { close: number; http: number };
  /** Upgrades refused before an auth decision, by HTTP status (400 bad session id, 404, 503 shutdown...). */
  refused: Record<string, number>;
  aborted: number;
  /** HTTP parser errors answered or dropped (414, 431, 408, 400), by status or 'dropped'. */
  clientErrors: Record<string, number>;
  /** WebSocket protocol errors on accepted sessions, by ws error code (e.g. WS_ERR_INVALID_UTF8 -> 1007). */
  protocolErrors: Record<string, number>;
  /** Accepted sessions closed, by the close code the target saw (1006 when the socket just ended). */
  closedByCode: Record<string, number>;
  faults: { misattributed: number; pocFallback: number; dropped: number; expiredClosed: number; capacityRefused: number; delayed: number };
  messages: { received: number; sent: number; audioBytes: number; transcripts: number; errors: number };
  memory: { records: number; rssBytes: number; heapUsedBytes: number };
}

export function emptyStats(): Omit<TargetStats, 'uptimeSec' | 'open' | 'pending' | 'memory'> {
  return {
    upgrades: 0,
    accepted: 0,
    acceptedBy: { token: 0, poc_fallback: 0, bypass_missing: 0, bypass_invalid: 0 },
    rejected: 0,
    rejectedByReason: {},
    invalidByKind: {},
    rejectedByStyle: { close: 0, http: 0 },
    refused: {},
    aborted: 0,
    clientErrors: {},
    protocolErrors: {},
    closedByCode: {},
    faults: { misattributed: 0, pocFallback: 0, dropped: 0, expiredClosed: 0, capacityRefused: 0, delayed: 0 },
    messages: { received: 0, sent: 0, audioBytes: 0, transcripts: 0, errors: 0 },
  };
}

export function bump(rec: Record<string, number>, key: string | number, by = 1): void {
  const k = String(key);
  rec[k] = (rec[k] ?? 0) + by;
}
