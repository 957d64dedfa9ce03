// Session ids as the target accepts them: 1 to 64 URL-safe characters (RFC 3986 unreserved:
// letters, digits, '-', '.', '_', '~'). Checked on the raw path segment before anything else,
// so no percent-decoding, no traversal, nothing exotic ever reaches a log line or the store.

export const SESSION_ID_MAX = 64;
const SESSION_ID_RE = /^[A-Za-z0-9._~-]{1,64}$/;

export function isValidSessionId(id: string): boolean {
  return SESSION_ID_RE.test(id) && id !== '.' && id !== '..';
}

export const VOICE_PREFIX = '/api/v1/voice/voicelive/';
export const MEMORY_PREFIX = '/api/v1/memory/sessions/';

/**
 * Splits a request target into path and query without URL parsing surprises.
 * Returns the raw (still encoded) path and the query string (without '?').
 */
export function splitTarget(target: string): { path: string; query: string } {
  const q = target.indexOf('?');
  return q < 0 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

/** The session id segment after `prefix`, or null when the path is not under it. */
export function sessionSegment(path: string, prefix: string): string | null {
  if (!path.startsWith(prefix)) return null;
  let rest = path.slice(prefix.length);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  return rest;
}
