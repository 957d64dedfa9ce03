// The target's settings: one object, defaults here, resolved against the token folder
// (pool.json header for issuer/audience/known users, jwks.json for keys).

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../tools/common/cli.ts';
import type { TokenPoolFile } from '../lib/token-pool-format.ts';
import type { UserIdentity } from './auth/verify.ts';
import type { Faults } from './faults.ts';
import type { LogFormat, LogSink } from './log.ts';

export type RejectStyle = 'close' | 'http';

export interface SessionInfo {
  sessionId: string;
  userId: string;
  /** How the session came to be attributed. */
  auth: 'token' | 'poc_fallback' | 'bypass_missing' | 'bypass_invalid';
}

export interface TargetOptions {
  host?: string;
  port?: number;
  /** Token folder: pool.json (issuer, audience, users) and jwks.json. Default `.tokens`. */
  tokensDir?: string;
  /** JWKS: a file path, an http(s) URL, or the JWKS object itself. Default `<tokensDir>/jwks.json`. */
  jwks?: string | { keys: unknown[] };
  issuer?: string;
  audience?: string;
  /** Allowed JWS algorithms. Default: those the JWKS keys declare (asymmetric only), else RS256. */
  algorithms?: string[];
  /** Clock skew tolerated on exp/nbf, seconds. Default 30. */
  clockToleranceSec?: number;
  /** Default true. False: requests without a valid token become the POC user. */
  authRequired?: boolean;
  /** Default 'close'. */
  rejectStyle?: RejectStyle;
  faults?: Faults;
  /** Users the misattribute fault can pick from. Default: the users of pool.json. */
  knownUsers?: UserIdentity[];
  logFormat?: LogFormat;
  /** Where log lines go. Default: stdout. */
  log?: LogSink;
  /** Server WebSocket ping interval in ms; 0 = off (default). */
  pingIntervalMs?: number;
  /** Largest WebSocket message accepted; bigger ones close with 1009. Default 1 MiB. */
  maxMessageBytes?: number;
  /** Request line + headers limit; beyond it 414/431. Default 16384. */
  maxHeaderBytes?: number;
  /** Tokens longer than this are invalid (`oversized`) without parsing. Default 8192. */
  maxTokenChars?: number;
  /** Time a client has to send its request headers; then 408. Default 10000. */
  headersTimeoutMs?: number;
  sampleRate?: number;
  utteranceMs?: number;
  transcriptDelayMs?: number;
  /** Session records kept for the memory endpoint (oldest closed ones evicted). Default 200000. */
  maxSessionRecords?: number;
  /** Clock in epoch ms (tests freeze it). Default Date.now. */
  now?: () => number;
  /** Random source in [0,1) for fault rates. Default Math.random. */
  random?: () => number;
  /** Called in the `connection` handler for every accepted session (tests guard on it). */
  onSession?: (info: SessionInfo) => void;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  tokensDir: '.tokens',
  algorithms: [] as string[],
  clockToleranceSec: 30,
  authRequired: true,
  rejectStyle: 'close' as RejectStyle,
  pingIntervalMs: 0,
  maxMessageBytes: 1024 * 1024,
  maxHeaderBytes: 16384,
  maxTokenChars: 8192,
  headersTimeoutMs: 10_000,
  sampleRate: 24_000,
  utteranceMs: 1000,
  transcriptDelayMs: 250,
  maxSessionRecords: 200_000,
};

export const POC_USER: UserIdentity = {
  id: 'poc-user',
  email: 'poc-user@example.invalid',
  display_name: 'POC User',
};

/** Reads pool.json's header when present; null when the file does not exist. */
export async function readPoolHeader(dir: string): Promise<TokenPoolFile | null> {
  const path = join(dir, 'pool.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as TokenPoolFile;
  } catch {
    throw new UserError(`${path} is not valid JSON; run "npm run tokens" again`);
  }
}

export function usersFromPool(pool: TokenPoolFile | null): UserIdentity[] {
  if (!pool || !Array.isArray(pool.users)) return [];
  return pool.users.map((u) => ({ id: u.oid, email: u.email, display_name: u.name }));
}
