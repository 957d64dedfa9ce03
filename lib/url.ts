// URLs of the system under test. The token travels URL-encoded in ?token=; the `name` tag
// templates below are what k6 records instead of the real URL (k6 copies a manual `name`
// into the `url` tag too), so no token ever becomes a tag value. Pure: no k6 import.

export const VOICE_PATH = '/api/v1/voice/voicelive/';

/**
 * How the token goes into the URL: a string → `?token=<encoded>`; '' → `?token=` (the
 * `empty` variant); null → no token parameter at all (the `missing` variant).
 */
export function voiceUrl(base: string, sessionId: string, token: string | null): string {
  const path = `${base.replace(/\/+$/, '')}${VOICE_PATH}${encodeURIComponent(sessionId)}`;
  return token === null ? path : `${path}?token=${encodeURIComponent(token)}`;
}

/** The fixed `name` tag of every voice socket: the template, never the URL. */
export function voiceNameTag(base: string): string {
  return `${base.replace(/\/+$/, '')}${VOICE_PATH}{session_id}`;
}

/** ws:// → http://, wss:// → https:// (for the status probe and the memory endpoint). */
export function httpForm(wsUrl: string): string {
  if (wsUrl.startsWith('wss://')) return `https://${wsUrl.slice(6)}`;
  if (wsUrl.startsWith('ws://')) return `http://${wsUrl.slice(5)}`;
  return wsUrl;
}

/** The memory endpoint of a session; `path` holds `{session_id}`. */
export function memoryUrl(base: string, path: string, sessionId: string): string {
  return `${httpForm(base.replace(/\/+$/, ''))}${path.replace('{session_id}', encodeURIComponent(sessionId))}`;
}

export function memoryNameTag(base: string, path: string): string {
  return `${httpForm(base.replace(/\/+$/, ''))}${path}`;
}
