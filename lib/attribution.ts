// Is a session attributed to the user whose token opened it? Pure: the voicelive client
// feeds it the user ids the server showed (events or the memory record). Contract §4: a
// POC-fallback user, another user, or a session that showed no user id at all is never a
// success; the last is "unverified", counted apart.

// 'forbidden' (http mode): the memory endpoint refused the session's record to the very token
// that opened it (HTTP 403), i.e. the backend itself says the session is someone else's.
// 'wrong_session': the right user, but a server event named another session id than the one
// the client opened: the server bound the socket to some other session.
export type AttributionVerdict = 'ok' | 'wrong_user' | 'poc_fallback' | 'forbidden' | 'wrong_session' | 'unverified';

/** Reads a dotted path (`user.id`, `items.0.user_id`) from parsed JSON; undefined if absent. */
export function readPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Verdict for one observed user id (a string or number in the server's JSON). */
export function judgeUserId(observed: unknown, expectedOid: string, pocUserIds: readonly string[]): AttributionVerdict {
  if (observed === undefined || observed === null || observed === '') return 'unverified';
  const s = String(observed);
  if (s === expectedOid) return 'ok';
  if (pocUserIds.includes(s)) return 'poc_fallback';
  return 'wrong_user';
}

/**
 * Accumulates the verdict of one session over every event that carried a user id: the
 * first wrong one sticks (a later correct one does not clear it).
 */
export class AttributionTracker {
  private verdict: AttributionVerdict = 'unverified';
  constructor(
    private readonly expectedOid: string,
    private readonly path: string,
    private readonly pocUserIds: readonly string[],
    /** Dotted path of the session id in events and the expected id; '' path = not checked. */
    private readonly session: { path: string; expected: string } = { path: '', expected: '' },
  ) {}

  /** Feeds one text message; non-JSON or id-less messages change nothing. */
  observeText(text: string): void {
    if (this.verdict !== 'ok' && this.verdict !== 'unverified') return;
    const first = text.charCodeAt(0);
    if (first !== 123 /* { */) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return;
    }
    this.observeValue(readPath(parsed, this.path));
    this.observeSession(parsed);
  }

  /** A record or event that names a session other than ours sticks as 'wrong_session'. */
  observeSession(parsed: unknown): void {
    if (this.session.path === '' || (this.verdict !== 'ok' && this.verdict !== 'unverified')) return;
    const sid = readPath(parsed, this.session.path);
    if (sid === undefined || sid === null || sid === '') return;
    if (String(sid) !== this.session.expected) this.verdict = 'wrong_session';
  }

  /** The memory endpoint answered 403 to the session's own token. */
  observeForbidden(): void {
    if (this.verdict === 'ok' || this.verdict === 'unverified') this.verdict = 'forbidden';
  }

  observeValue(value: unknown): void {
    if (this.verdict !== 'ok' && this.verdict !== 'unverified') return;
    const j = judgeUserId(value, this.expectedOid, this.pocUserIds);
    if (j !== 'unverified') this.verdict = j;
  }

  result(): AttributionVerdict {
    return this.verdict;
  }
}

/** Deterministic sampling for the http mode: same iteration → same decision on every run. */
export function sampled(iterationInTest: number, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  const x = (iterationInTest * 0.6180339887498949) % 1; // golden-ratio sequence: evenly spread
  return x < rate;
}
