// Which pool user and which of its tokens an attempt uses. Pure (no k6 import): the
// scenarios call it with the SharedArray from lib/tokens.ts, the Node tests with arrays.
//
// A token is "usable for a session" when it is valid now (nbf ≤ now) and stays valid until
// the planned end of the session plus a margin (exp - margin ≥ now + hold). Tokens of a user
// are sorted by nbf; the freshest usable one wins, so a soak rotates to the next validity
// window before exp - margin. When no token of any user covers the whole session but one is
// still valid for the margin, it is used and the session is reported as outliving its token.

export interface TokenWindow {
  token: string;
  nbf: number;
  exp: number;
  /** When present, the token is not used before it either (servers may refuse a future iat). */
  iat?: number;
}

export interface UserTokens {
  oid: string;
  tokens: readonly TokenWindow[];
}

export interface Pick {
  userIndex: number;
  tokenIndex: number;
  /** True when the token expires (minus margin) before the planned session end. */
  outlives: boolean;
}

/** The index of the best token of one user, or -1; `full` = covers the whole session. */
export function pickWindow(tokens: readonly TokenWindow[], nowSec: number, holdSec: number, marginSec: number): { index: number; full: boolean } {
  let partial = -1;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i] as TokenWindow;
    if (t.nbf > nowSec || (t.iat ?? t.nbf) > nowSec) continue;
    if (t.exp - marginSec >= nowSec + holdSec) return { index: i, full: true };
    if (partial < 0 && t.exp - marginSec > nowSec) partial = i;
  }
  return { index: partial, full: false };
}

/**
 * Picks a user starting at `start` (e.g. iterationInTest) and moving on through at most
 * `maxProbe` users, preferring one whose token covers the whole session. Returns null when
 * no probed user has a token valid for at least the margin.
 */
export function pickUser(
  count: number,
  userAt: (i: number) => UserTokens,
  start: number,
  nowSec: number,
  holdSec: number,
  marginSec: number,
  maxProbe = 64,
): Pick | null {
  if (count <= 0) return null;
  let fallback: Pick | null = null;
  const probes = Math.min(count, maxProbe);
  for (let k = 0; k < probes; k++) {
    const userIndex = (((start + k) % count) + count) % count;
    const w = pickWindow(userAt(userIndex).tokens, nowSec, holdSec, marginSec);
    if (w.index < 0) continue;
    if (w.full) return { userIndex, tokenIndex: w.index, outlives: false };
    if (!fallback) fallback = { userIndex, tokenIndex: w.index, outlives: true };
  }
  return fallback;
}
