// Go-flavoured error texts for Node socket errors, so scripts see the strings k6 (Go's net
// package, gorilla/websocket, k6's lib/netext/httpext/error_codes.go) would give them.
// Exact OS texts vary even in k6; tests assert prefixes, as the behaviour notes advise.

export interface NodeNetError extends Error {
  code?: string;
  syscall?: string;
  address?: string;
  port?: number;
}

function hostPort(host: string, port: number | string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** k6 throws Go errors: sobek wraps them in an Error whose name is "GoError". */
export function goError(message: string): Error {
  const e = new Error(message);
  e.name = 'GoError';
  return e;
}

export interface ConnInfo {
  /** Host and port the client dialled (the URL's). */
  host: string;
  port: number;
  /** Local/remote addresses once connected, for read/write error texts. */
  local?: string;
  remote?: string;
}

/** The text Go's dialer/reader would produce for this Node error. */
export function goNetErrorText(err: NodeNetError, conn: ConnInfo, phase: 'dial' | 'read' | 'write'): string {
  const code = err.code ?? '';
  const dialAddr = hostPort(err.address ?? conn.host, err.port ?? conn.port);
  const rw = conn.local && conn.remote ? `${conn.local}->${conn.remote}` : dialAddr;
  switch (code) {
    case 'ECONNREFUSED':
      return `dial tcp ${dialAddr}: connect: connection refused`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${conn.host}: no such host`;
    case 'ETIMEDOUT':
      return phase === 'dial' ? `dial tcp ${dialAddr}: i/o timeout` : `${phase} tcp ${rw}: i/o timeout`;
    case 'EHOSTUNREACH':
      return `dial tcp ${dialAddr}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${dialAddr}: connect: network is unreachable`;
    case 'EADDRNOTAVAIL':
      return `dial tcp ${dialAddr}: connect: cannot assign requested address`;
    case 'EMFILE':
      return `dial tcp ${dialAddr}: socket: too many open files`;
    case 'ECONNRESET':
      return `${phase === 'dial' ? 'read' : phase} tcp ${rw}: ${phase === 'write' ? 'write' : 'read'}: connection reset by peer`;
    case 'EPIPE':
      return `write tcp ${rw}: write: broken pipe`;
    default:
      return err.message;
  }
}

/**
 * Go's *url.Error text for a failed client.Do, which k6 logs as `Request Failed`:
 * `Get "http://host/path?query": dial tcp …: connect: connection refused`.
 */
export function goUrlErrorText(method: string, url: string, err: NodeNetError, conn: ConnInfo, phase: 'dial' | 'read' | 'write'): string {
  const op = method.charAt(0).toUpperCase() + method.slice(1).toLowerCase();
  const cause = err.code === 'K6_TIMEOUT' ? 'context deadline exceeded' : err.message === 'socket hang up' ? 'EOF' : goNetErrorText(err, conn, phase);
  return `${op} ${JSON.stringify(url)}: ${cause}`;
}

/** k6's error_code/error pair for a failed HTTP request (lib/netext/httpext/error_codes.go). */
export function k6HttpErrorCode(err: NodeNetError, phase: 'dial' | 'read' | 'write'): { code: number; message: string } {
  switch (err.code) {
    case 'ECONNREFUSED':
      return { code: 1212, message: 'dial: connection refused' };
    case 'ENOTFOUND':
      return { code: 1101, message: 'lookup: no such host' };
    case 'ECONNRESET':
      return { code: 1220, message: `${phase === 'dial' ? 'read' : phase}: connection reset by peer` };
    case 'EPIPE':
      return { code: 1201, message: 'write: broken pipe' };
    case 'ETIMEDOUT':
      return phase === 'dial' ? { code: 1211, message: 'dial: i/o timeout' } : { code: 1050, message: 'request timeout' };
    default:
      return { code: 1000, message: err.message };
  }
}
