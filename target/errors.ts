// How the target refuses things: one stable code per kind of refusal, each mapped to exactly
// one close code / reason (after accept) and one HTTP status (before accept). This table is
// documented in docs/target.md; tests assert against it.

export type RejectCode =
  | 'AUTH_REQUIRED'
  | 'INVALID_TOKEN'
  | 'CAPACITY'
  | 'BAD_SESSION_ID'
  | 'BAD_UPGRADE'
  | 'METHOD_NOT_ALLOWED'
  | 'UNSUPPORTED_VERSION'
  | 'NOT_FOUND'
  | 'URI_TOO_LONG'
  | 'HEADERS_TOO_LARGE'
  | 'BAD_REQUEST'
  | 'REQUEST_TIMEOUT';

export interface Rejection {
  /** WebSocket close code when the target accepts and then closes (reject-style close). */
  closeCode: number | null;
  /** Exact close reason (reject-style close). */
  reason: string;
  /** HTTP status when the upgrade is refused (reject-style http, or before any WebSocket exists). */
  httpStatus: number;
}

export const REJECTIONS: Readonly<Record<RejectCode, Rejection>> = {
  AUTH_REQUIRED: { closeCode: 1008, reason: 'Authentication required', httpStatus: 403 },
  INVALID_TOKEN: { closeCode: 1008, reason: 'Invalid token', httpStatus: 403 },
  CAPACITY: { closeCode: 1013, reason: 'Try Again Later', httpStatus: 503 },
  BAD_SESSION_ID: { closeCode: null, reason: 'Invalid session id', httpStatus: 400 },
  BAD_UPGRADE: { closeCode: null, reason: 'Bad WebSocket handshake', httpStatus: 400 },
  METHOD_NOT_ALLOWED: { closeCode: null, reason: 'Method Not Allowed', httpStatus: 405 },
  UNSUPPORTED_VERSION: { closeCode: null, reason: 'Upgrade Required', httpStatus: 426 },
  NOT_FOUND: { closeCode: null, reason: 'Not Found', httpStatus: 404 },
  URI_TOO_LONG: { closeCode: null, reason: 'URI Too Long', httpStatus: 414 },
  HEADERS_TOO_LARGE: { closeCode: null, reason: 'Request Header Fields Too Large', httpStatus: 431 },
  BAD_REQUEST: { closeCode: null, reason: 'Bad Request', httpStatus: 400 },
  REQUEST_TIMEOUT: { closeCode: null, reason: 'Request Timeout', httpStatus: 408 },
};

/** Close codes the target uses on accepted sessions (not rejections). */
export const CLOSE = {
  shutdown: { code: 1001, reason: 'Server shutting down' },
  dropped: { code: 1011, reason: 'Internal error (injected drop)' },
  pingTimeout: { code: 1011, reason: 'keepalive ping timeout' },
  tokenExpired: { code: 1008, reason: 'Token expired' },
} as const;
