// The backend's three log lines (and a few of the target's own), as one JSON object per
// line or in the seed's plain `LEVEL: message` form. A log line is built only from validated
// session ids, user ids (control characters escaped) and fixed words: never a token, a query
// string or a header.

export type LogFormat = 'json' | 'plain' | 'none';
export type LogSink = (line: string) => void;

export interface LogRecord {
  level: 'INFO' | 'WARNING' | 'ERROR';
  /** Stable machine name of the event. */
  event: string;
  msg: string;
  [field: string]: string | number | boolean | undefined;
}

export interface Logger {
  write(rec: LogRecord): void;
  authenticated(sessionId: string, userId: string, extra?: Record<string, string>): void;
  noToken(sessionId: string): void;
  invalidToken(sessionId: string, kind: string): void;
}

/**
 * Control characters escaped JSON-style (a user id comes from a token's claims: a newline in it
 * must not forge or split a plain line; JSON lines are escaped by JSON.stringify already).
 */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

export function createLogger(format: LogFormat, sink: LogSink, now: () => number): Logger {
  const write = (rec: LogRecord): void => {
    if (format === 'none') return;
    if (format === 'plain') sink(`${rec.level}: ${escapeControl(rec.msg)}`);
    else sink(JSON.stringify({ time: new Date(now()).toISOString(), ...rec }));
  };
  return {
    write,
    authenticated(sessionId, userId, extra) {
      write({ level: 'INFO', event: 'authenticated', msg: `VoiceLive WebSocket: Authenticated user ${userId} for session ${sessionId}`, session_id: sessionId, user_id: userId, ...extra });
    },
    noToken(sessionId) {
      write({ level: 'WARNING', event: 'no_token', msg: `VoiceLive WebSocket: Authentication required but no token provided for session ${sessionId}`, session_id: sessionId });
    },
    invalidToken(sessionId, kind) {
      write({ level: 'WARNING', event: 'invalid_token', msg: `VoiceLive WebSocket: Token validation failed for session ${sessionId}: Invalid token`, session_id: sessionId, failure: kind });
    },
  };
}
