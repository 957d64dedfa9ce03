// Builds a pool from real tokens a user already has: one JWT per line, or JSON (an array of
// strings or of objects with token/access_token, or {"tokens": [...]}). Pure: text in,
// pool out; errors name the line or entry, never its content.
import { decodeJwt, type JWTPayload } from 'jose';
import { POOL_FORMAT, POOL_VERSION, type PoolUser, type TokenPoolFile } from '../../lib/token-pool-format.ts';
import { UserError } from '../common/cli.ts';

export interface ImportedToken {
  token: string;
  payload: JWTPayload;
  /** "line 3" or "entry 3" */
  where: string;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function decodeOne(raw: string, where: string, file: string): ImportedToken {
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  let payload: JWTPayload;
  try {
    if (!JWT_SHAPE.test(token)) throw new Error('shape');
    payload = decodeJwt(token);
  } catch {
    throw new UserError(`${file} ${where}: not a JWT (expected header.payload.signature); fix or remove that ${where.split(' ')[0]}`);
  }
  if (typeof payload.oid !== 'string' || payload.oid === '') throw new UserError(`${file} ${where}: the token has no oid claim (an access token for the API is needed, not an ID token); fix or remove that ${where.split(' ')[0]}`);
  if (typeof payload.exp !== 'number') throw new UserError(`${file} ${where}: the token has no exp claim; fix or remove that ${where.split(' ')[0]}`);
  return { token, payload, where };
}

function entryToken(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    for (const k of ['token', 'access_token', 'accessToken', 'secret']) if (typeof o[k] === 'string') return o[k] as string;
  }
  return undefined;
}

/** Splits an import file into decoded tokens. */
export function parseImportText(text: string, file: string): ImportedToken[] {
  const trimmed = text.trim();
  const out: ImportedToken[] = [];
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      throw new UserError(`${file} starts like JSON but is not valid JSON; use one JWT per line or a JSON array of tokens`);
    }
    let entries: unknown[];
    if (Array.isArray(json)) entries = json;
    else if (Array.isArray((json as Record<string, unknown>).tokens)) entries = (json as { tokens: unknown[] }).tokens;
    else entries = Object.values(json as Record<string, unknown>);
    entries.forEach((e, i) => {
      const t = entryToken(e);
      if (t === undefined) throw new UserError(`${file} entry ${i + 1}: expected a token string or an object with "token"/"access_token"; fix or remove that entry`);
      out.push(decodeOne(t, `entry ${i + 1}`, file));
    });
  } else {
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '' || line.trim().startsWith('#')) return;
      out.push(decodeOne(line, `line ${i + 1}`, file));
    });
  }
  if (out.length === 0) throw new UserError(`${file} holds no tokens; put one JWT per line`);
  return out;
}

function audOf(p: JWTPayload): string {
  return Array.isArray(p.aud) ? (p.aud.length === 1 ? p.aud[0]! : '') : (p.aud ?? '');
}

function common(values: string[]): string {
  return values.every((v) => v === values[0]) ? (values[0] ?? '') : '';
}

/** Groups tokens by oid (one user per oid, tokens sorted by nbf), in first-seen order. */
export function poolFromImported(tokens: ImportedToken[], now: number): TokenPoolFile {
  const byOid = new Map<string, PoolUser>();
  for (const { token, payload: p } of tokens) {
    let user = byOid.get(p.oid as string);
    if (!user) {
      const email = [p.email, p.preferred_username, p.upn].find((v): v is string => typeof v === 'string') ?? '';
      user = { oid: p.oid as string, sub: typeof p.sub === 'string' ? p.sub : '', name: typeof p.name === 'string' ? p.name : '', email, tokens: [] };
      byOid.set(user.oid, user);
    }
    user.tokens.push({ token, nbf: p.nbf ?? p.iat ?? 0, exp: p.exp!, ...(p.iat !== undefined ? { iat: p.iat } : {}) });
  }
  for (const u of byOid.values()) u.tokens.sort((a, b) => a.nbf - b.nbf);
  return {
    format: POOL_FORMAT,
    version: POOL_VERSION,
    createdAt: new Date(now * 1000).toISOString(),
    source: 'imported',
    issuer: common(tokens.map((t) => (typeof t.payload.iss === 'string' ? t.payload.iss : ''))),
    audience: common(tokens.map((t) => audOf(t.payload))),
    tenantId: common(tokens.map((t) => (typeof t.payload.tid === 'string' ? t.payload.tid : ''))),
    users: [...byOid.values()],
  };
}

/** One warning line (no token in it) when some tokens expire before now + minValidSeconds. */
export function expiryWarning(tokens: ImportedToken[], now: number, minValidSeconds: number): string | undefined {
  const short = tokens.filter((t) => t.payload.exp! < now + minValidSeconds);
  if (short.length === 0) return undefined;
  const expired = short.filter((t) => t.payload.exp! <= now).length;
  const first = short.reduce((a, b) => (b.payload.exp! < a.payload.exp! ? b : a));
  return `warning: ${short.length} of ${tokens.length} imported tokens expire within ${minValidSeconds} s`
    + `${expired > 0 ? ` (${expired} already expired)` : ''}; the earliest (${first.where}) at ${new Date(first.payload.exp! * 1000).toISOString()}: refresh them before a long run`;
}
