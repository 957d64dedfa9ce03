// Whether an upgrade request is a well-formed WebSocket opening handshake (RFC 6455 §4.2.1),
// judged BEFORE any auth decision: a request that is not a handshake gets an HTTP error and
// never costs a verification or leaves an auth log line. Pure: reads only the parsed request.

import type { IncomingMessage } from 'node:http';
import type { RejectCode } from './errors.ts';

/** 16 random bytes, base64: 22 characters and '=='. Node joins a repeated header with ', ', so two keys fail too. */
const KEY_RE = /^[A-Za-z0-9+/]{22}==$/;

/** RFC 7230 token characters. */
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `Sec-WebSocket-Protocol`: a comma-separated list of distinct tokens (what ws would refuse later). */
function validProtocolList(value: string): boolean {
  const seen = new Set<string>();
  for (const raw of value.split(',')) {
    const p = raw.trim();
    if (!TOKEN_RE.test(p) || seen.has(p)) return false;
    seen.add(p);
  }
  return true;
}

export function handshakeProblem(req: Pick<IncomingMessage, 'method' | 'httpVersionMajor' | 'httpVersionMinor' | 'headers'>): RejectCode | null {
  if (req.method !== 'GET') return 'METHOD_NOT_ALLOWED';
  if (req.httpVersionMajor < 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor < 1)) return 'BAD_UPGRADE';
  const upgrade = req.headers.upgrade;
  if (typeof upgrade !== 'string' || upgrade.trim().toLowerCase() !== 'websocket') return 'BAD_UPGRADE';
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !KEY_RE.test(key.trim())) return 'BAD_UPGRADE';
  const protocols = req.headers['sec-websocket-protocol'];
  if (protocols !== undefined && !validProtocolList(protocols)) return 'BAD_UPGRADE';
  const version = req.headers['sec-websocket-version'];
  if (version === undefined || version.trim() !== '13') return 'UNSUPPORTED_VERSION';
  return null;
}
