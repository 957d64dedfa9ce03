// Raw HTTP answers written on a socket that never became a WebSocket (refused upgrades,
// parser errors). The socket is ended and then destroyed; nothing from the request is echoed.

import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

export function writeRawStatus(socket: Duplex, status: number, headers: Record<string, string> = {}): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const text = STATUS_CODES[status] ?? 'Error';
  const body = `${text}\n`;
  const lines = [`HTTP/1.1 ${status} ${text}`, 'Connection: close', 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
  // A client that never reads must not pin the socket.
  setTimeout(() => socket.destroy(), 2000).unref();
}

const METHOD_RE = /^[A-Z]{3,10} /;

/**
 * Whether a header overflow is the request line's fault (414) rather than the headers' (431):
 * the packet starts with a request line that is not finished, or takes more than half of the
 * limit. Node reports only the packet that overflowed, so this is a documented heuristic.
 */
export function overflowIsRequestLine(raw: Buffer | undefined, limit: number): boolean {
  if (!raw || raw.length === 0) return false;
  const head = raw.subarray(0, Math.min(raw.length, limit + 16)).toString('latin1');
  if (!METHOD_RE.test(head)) return !head.includes('\r\n');
  const eol = head.indexOf('\r\n');
  return eol < 0 || eol > limit / 2;
}
