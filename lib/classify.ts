// What an attempt ended as (contract §3), from what the wire showed. Pure: the voicelive
// client collects a WireObservation, this file decides; test/lib/classify.test.ts holds
// the table. Nothing here sees a token.

import type { RejectStyle } from './config.ts';

export type AuthCase = 'valid' | 'no_token' | 'invalid';
export type Outcome = 'accepted' | 'rejected_close' | 'rejected_http' | 'error';

export interface WireObservation {
  /** The upgrade succeeded (the `open` event fired). */
  opened: boolean;
  /** Close code of the close event, when k6 knew one. */
  closeCode?: number;
  closeReason?: string;
  /** The server closed (or refused) before the client meant to end the socket. */
  serverClosed: boolean;
  /** The server sent at least one message after the upgrade (the session was served). */
  served?: boolean;
  /**
   * A server event carried a user id (at the attribution path): the server built a user
   * context for this socket. For a no_token/invalid attempt that is a bypass, whatever
   * close follows.
   */
  servedUser?: boolean;
  /** Text of the first `error` event, if any (never shown to people: may be long). */
  errorText?: string;
  /**
   * The client closed (1000) but the server never answered the close handshake within the
   * client's wait: the socket lingers (k6 has no close timeout of its own).
   */
  closeUnanswered?: boolean;
  /**
   * HTTP status of the status probe after a refused upgrade: a number (0 = no response),
   * or undefined when no probe ran (probe disabled, or the upgrade was not refused).
   */
  probeStatus?: number;
}

export interface Expectation {
  authCase: AuthCase;
  variant: string;
  /** Expected close reason of a refusal ('Invalid token' / 'Authentication required'). */
  reason: string;
  closeCode: number;
  /** Statuses that count as a correct refusal of the upgrade. */
  httpStatuses: readonly number[];
  style: RejectStyle;
}

export interface Verdict {
  outcome: Outcome;
  /** voice_rejected: 1008 close or an accepted refusal status. */
  rejected: boolean;
  /** Rejected (or refused) with the wrong code, status, reason or style for its case. */
  mismatch: boolean;
  /** A no_token/invalid attempt that the server accepted. */
  bypass: boolean;
  /** A refusal whose HTTP status is unknown (probe off): counted, never verified. */
  unverified: boolean;
  /** A valid session the server closed before the client ended it. */
  unexpectedClose: boolean;
  /** Low-cardinality description for tags and log lines, e.g. `http_503`, `close_1008`. */
  detail: string;
}

/** The refusal a case expects, in the configured style (never both when one is required). */
export function expectedRefusal(e: Expectation, style: RejectStyle): string {
  const close = `close ${e.closeCode} "${e.reason}"`;
  const status = `HTTP ${e.httpStatuses.join('/')}`;
  if (style === 'close') return `${close} (style close)`;
  if (style === 'http') return `${status} (style http)`;
  return `${close} or ${status}`;
}

const BAD_HANDSHAKE = 'websocket: bad handshake';

/** Close codes that mean the server (not the client's credentials) is in trouble. */
function isErrorCloseCode(code: number | undefined): boolean {
  return code === undefined || code === 1005 || code === 1006 || code === 1011 || code === 1012 || code === 1013 || code === 1014 || code === 1015;
}

function expectedFor(c: AuthCase): { reason: string } {
  return { reason: c === 'no_token' ? 'Authentication required' : 'Invalid token' };
}

/** Defaults for a class when the catalogue gives none (no_token has no catalogue entry). */
export function defaultExpectation(authCase: AuthCase, variant: string, style: RejectStyle): Expectation {
  return {
    authCase,
    variant,
    reason: expectedFor(authCase).reason,
    closeCode: 1008,
    httpStatuses: variant === 'oversized' ? [401, 403, 414, 431] : [401, 403],
    style,
  };
}

function v(outcome: Outcome, detail: string, flags: Partial<Omit<Verdict, 'outcome' | 'detail'>> = {}): Verdict {
  return { outcome, detail, rejected: false, mismatch: false, bypass: false, unverified: false, unexpectedClose: false, ...flags };
}

export function classify(w: WireObservation, e: Expectation): Verdict {
  const valid = e.authCase === 'valid';

  // A close frame with a code means the upgrade did complete, even when k6 delivered the
  // close before (or instead of) `open`.
  if (!w.opened && w.closeCode === undefined) {
    // The upgrade never completed.
    const refused = w.errorText === BAD_HANDSHAKE;
    if (!refused) return v('error', 'connect_failed');
    if (w.probeStatus === undefined) {
      // Refused with a status k6 does not show; without the probe we cannot tell 403 from 503.
      return v('rejected_http', 'http_unknown', { rejected: true, unverified: true });
    }
    const s = w.probeStatus;
    if (s === 0) return v('error', 'http_no_response');
    if (s === 429 || s >= 500 || s === 101) return v('error', `http_${s}`);
    if (valid) {
      // Any deliberate refusal of a valid token is a false rejection.
      return v('rejected_http', `http_${s}`, { rejected: true });
    }
    if (e.httpStatuses.includes(s)) {
      // 414/431 come from the HTTP layer's size limits, before any WebSocket code runs:
      // acceptable for an oversized token whatever the expected style.
      const sizeLimit = s === 414 || s === 431;
      return v('rejected_http', `http_${s}`, { rejected: true, mismatch: e.style === 'close' && !sizeLimit });
    }
    if (s === 401 || s === 403) {
      return v('rejected_http', `http_${s}`, { rejected: true, mismatch: true });
    }
    return v('rejected_http', `http_${s}`, { mismatch: true });
  }

  // The upgrade succeeded.
  if (!valid && w.servedUser) {
    // The server sent this socket an event naming a user: it was let in, even if a close
    // (1008 or any other) came afterwards.
    return v('accepted', 'served_user', { bypass: true });
  }
  // A bad token whose close carried the server's 1008 was refused by the server, also when
  // that 1008 crossed the client's own close at the end of the wait: a late refusal, not a
  // bypass, as long as the server sent the socket nothing before (a socket that was served
  // messages until the client gave up stays a bypass).
  const lateRefusal = !valid && w.closeCode === 1008 && !w.served;
  if (!w.serverClosed && !lateRefusal) {
    // Held until the client ended it: accepted (a bad token: let in).
    if (!valid) return v('accepted', 'held', { bypass: true });
    // A valid session whose close the server never answered: it was served, but the socket
    // is left hanging on both sides; a server fault (timeout), not a clean end.
    return w.closeUnanswered ? v('error', 'close_unanswered') : v('accepted', 'held');
  }
  const code = w.closeCode;
  const detail = code === undefined ? 'close_none' : `close_${code}`;
  if (code === 1008) {
    if (valid) {
      // Served first (e.g. closed when the token expired mid-session): not a refusal of the
      // token at the door, but the server ending a live session early.
      if (w.served) return v('accepted', detail, { unexpectedClose: true });
      return v('rejected_close', detail, { rejected: true });
    }
    const reasonOk = (w.closeReason ?? '') === e.reason;
    return v('rejected_close', reasonOk ? detail : `${detail}_reason`, { rejected: true, mismatch: !reasonOk || e.style === 'http' });
  }
  if (isErrorCloseCode(code)) {
    return v('error', detail, { unexpectedClose: valid });
  }
  if (valid) {
    // 1000/1001 or an application code from the server before the client finished.
    return code === 1000 || code === 1001 ? v('accepted', detail, { unexpectedClose: true }) : v('error', detail, { unexpectedClose: true });
  }
  // A bad token closed with something other than 1008: refused, but with the wrong code.
  return v('rejected_close', detail, { mismatch: true });
}
