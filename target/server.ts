// The reference voicelive target: Node http + ws (noServer) + jose. Auth is decided in the
// HTTP server's `upgrade` handler: a refusal either writes an HTTP status and destroys the
// socket (reject-style http) or completes the upgrade only to close it at once with the exact
// code and reason (reject-style close). Only sessions that pass reach the `connection` handler.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { UserError } from '../tools/common/cli.ts';
import { kindMatches } from './auth/classify.ts';
import { keysFromFile, keysFromJwks, keysFromUrl, type VerificationKeys } from './auth/keys.ts';
import { createVerifier, type UserIdentity, type Verifier, type VerifyResult } from './auth/verify.ts';
import { CLOSE, REJECTIONS, type RejectCode } from './errors.ts';
import { NO_FAULTS, describeFaults, type Faults } from './faults.ts';
import { handshakeProblem } from './handshake.ts';
import { overflowIsRequestLine, writeRawStatus } from './http-responses.ts';
import { createLogger, type Logger } from './log.ts';
import { MemoryStore } from './memory-store.ts';
import { DEFAULTS, POC_USER, readPoolHeader, usersFromPool, type SessionInfo, type TargetOptions } from './options.ts';
import { MEMORY_PREFIX, VOICE_PREFIX, isValidSessionId, sessionSegment, splitTarget } from './session-id.ts';
import { bump, emptyStats, type TargetStats } from './stats.ts';
import { VoiceSession, type VoiceConfig } from './voice-session.ts';

export type { TargetOptions, SessionInfo } from './options.ts';
export type { TargetStats } from './stats.ts';

export interface RunningTarget {
  url: string;
  wsUrl: string;
  port: number;
  stats(): TargetStats;
  close(): Promise<void>;
  /** One line describing the settings (for the CLI's ready line). */
  describe: string;
}

interface Decision {
  user: UserIdentity;
  auth: SessionInfo['auth'];
  exp: number | null;
  /** An attribution fault applied to this decision (counted once the session is open). */
  fault?: 'misattributed' | 'pocFallback';
}

const noop = (): void => {};
/** How long a socket the target closes may wait for the client's close reply (ws would wait 30 s). */
const REJECT_LINGER_MS = 1000;
/** Answers queued for a client beyond this stop the target reading from it until they drain. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

async function resolveKeys(o: TargetOptions, dir: string, algorithms: string[]): Promise<VerificationKeys> {
  const j = o.jwks ?? join(dir, 'jwks.json');
  if (typeof j === 'object') return keysFromJwks(j, algorithms, 'JWKS');
  if (/^https?:\/\//i.test(j)) return keysFromUrl(j, algorithms);
  return keysFromFile(j, algorithms);
}

export async function startTarget(opts: TargetOptions = {}): Promise<RunningTarget> {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & TargetOptions;
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const faults: Faults = o.faults ?? NO_FAULTS;
  const dir = o.tokensDir;
  const pool = o.issuer !== undefined && o.audience !== undefined && o.knownUsers !== undefined ? null : await readPoolHeader(dir);
  const issuer = o.issuer ?? pool?.issuer;
  const audience = o.audience ?? pool?.audience;
  if (!issuer || !audience) {
    throw new UserError(`no issuer/audience: ${join(dir, 'pool.json')} is missing or has none; run "npm run tokens" or pass --issuer and --audience`);
  }
  const keys = await resolveKeys(o, dir, o.algorithms);
  const verify: Verifier = createVerifier({
    keys,
    issuer,
    audience,
    algorithms: keys.algorithms,
    clockToleranceSec: o.clockToleranceSec,
    maxTokenChars: o.maxTokenChars,
    now,
  });
  const knownUsers = o.knownUsers ?? usersFromPool(pool);
  const log: Logger = createLogger(o.logFormat ?? 'json', o.log ?? ((l) => process.stdout.write(`${l}\n`)), now);
  const store = new MemoryStore(o.maxSessionRecords);
  const voiceCfg: VoiceConfig = {
    sampleRate: o.sampleRate,
    utteranceMs: o.utteranceMs,
    transcriptDelayMs: o.transcriptDelayMs,
    maxPendingTranscripts: 16,
    maxBufferedBytes: MAX_BUFFERED_BYTES,
  };

  const started = now();
  const counts = emptyStats();
  let pending = 0;
  let stopping = false;
  /** Accepted sessions (for capacity, pings, shutdown). */
  const sessions = new Map<WebSocket, { session: VoiceSession; info: SessionInfo; alive: boolean; dying: boolean; timers: NodeJS.Timeout[] }>();
  /** Upgrade sockets whose decision is still being made (shutdown destroys the stragglers). */
  const inflight = new Set<Duplex>();
  /** Wakes the injected handshake delays at once (shutdown). */
  const wakers = new Set<() => void>();
  /** Sockets accepted only to be closed (reject-style close, capacity). */
  const rejecting = new Set<WebSocket>();

  const stats = (): TargetStats => {
    const mem = process.memoryUsage();
    return {
      uptimeSec: Math.round((now() - started) / 1000),
      open: sessions.size,
      pending,
      ...structuredClone(counts),
      memory: { records: store.size, rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
    };
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxMessageBytes, clientTracking: false, perMessageDeflate: false });
  wss.on('wsClientError', (_err, socket) => {
    // A malformed upgrade (bad Sec-WebSocket-Key/Version) seen while completing a handshake.
    bump(counts.refused, 400);
    writeRawStatus(socket, 400);
  });

  // ---- the connection handler: only sessions that passed auth ever get here ----
  wss.on('connection', (ws: WebSocket, _req: IncomingMessage, d: Decision, sessionId: string) => {
    ws.on('error', (err: Error & { code?: string }) => bump(counts.protocolErrors, err.code ?? 'unknown'));
    const info: SessionInfo = { sessionId, userId: d.user.id, auth: d.auth };
    counts.accepted++;
    counts.acceptedBy[d.auth]++;
    if (d.fault) counts.faults[d.fault]++;
    const session = new VoiceSession(ws, sessionId, d.user, voiceCfg, counts.messages);
    const entry = { session, info, alive: true, dying: false, timers: [] as NodeJS.Timeout[] };
    sessions.set(ws, entry);
    store.open(sessionId, d.user, now());
    log.authenticated(sessionId, d.user.id, d.auth === 'token' ? undefined : { auth: d.auth });
    ws.on('pong', () => {
      entry.alive = true;
    });
    ws.on('close', (code) => {
      sessions.delete(ws);
      session.stop();
      for (const t of entry.timers) clearTimeout(t);
      store.closed(sessionId, d.user.id);
      bump(counts.closedByCode, code);
    });
    if (faults.drop && random() < faults.drop.rate) {
      const after = faults.drop.afterMs * (0.5 + random());
      entry.timers.push(
        setTimeout(() => {
          counts.faults.dropped++;
          ws.close(CLOSE.dropped.code, CLOSE.dropped.reason);
        }, after),
      );
    }
    if (faults.expireClose && d.exp !== null) {
      // Re-checked when the timer fires: Node caps a timer at ~24.8 days, and the target's
      // clock (injectable) may have moved; only a passed exp closes the session.
      const expMs = d.exp * 1000;
      const wait = (): number => Math.min(Math.max(0, expMs - now()), 2 ** 31 - 1);
      const check = (): void => {
        if (now() < expMs) {
          entry.timers.push(setTimeout(check, wait()));
          return;
        }
        counts.faults.expiredClosed++;
        ws.close(CLOSE.tokenExpired.code, CLOSE.tokenExpired.reason);
      };
      entry.timers.push(setTimeout(check, wait()));
    }
    try {
      o.onSession?.(info);
    } finally {
      session.start();
    }
  });

  function refuse(socket: Duplex, code: RejectCode, extra: Record<string, string> = {}): void {
    bump(counts.refused, REJECTIONS[code].httpStatus);
    writeRawStatus(socket, REJECTIONS[code].httpStatus, extra);
  }

  function reject(req: IncomingMessage, socket: Duplex, head: Buffer, code: 'AUTH_REQUIRED' | 'INVALID_TOKEN' | 'CAPACITY'): void {
    const r = REJECTIONS[code];
    if (o.rejectStyle === 'http') {
      counts.rejected++;
      counts.rejectedByStyle.http++;
      bump(counts.rejectedByReason, r.reason);
      writeRawStatus(socket, r.httpStatus, code === 'CAPACITY' ? { 'Retry-After': '1' } : {});
      return;
    }
    // Accept, then close at once: the client sees open, then the close frame with the reason.
    wss.handleUpgrade(req, socket, head, (ws) => {
      counts.rejected++;
      counts.rejectedByStyle.close++;
      bump(counts.rejectedByReason, r.reason);
      ws.on('error', noop);
      rejecting.add(ws);
      // A client that never answers the close frame is cut off after REJECT_LINGER_MS
      // (ws would wait 30 s), so floods of bad clients cannot pile up sockets.
      const linger = setTimeout(() => ws.terminate(), REJECT_LINGER_MS);
      linger.unref();
      ws.on('close', () => {
        clearTimeout(linger);
        rejecting.delete(ws);
      });
      ws.close(r.closeCode ?? 1008, r.reason);
    });
  }

  function pickOtherUser(self: UserIdentity): UserIdentity {
    const others = knownUsers.filter((u) => u.id !== self.id);
    if (others.length === 0) return { id: `other-${self.id}`, email: 'other-user@example.invalid', display_name: 'Other User' };
    return others[Math.floor(random() * others.length)] ?? others[0]!;
  }

  async function decide(sessionId: string, tokens: readonly string[]): Promise<Decision | 'AUTH_REQUIRED' | 'INVALID_TOKEN'> {
    const token = tokens.length === 1 ? tokens[0]! : null;
    if (tokens.length === 0 || token === '') {
      if (o.authRequired && !faults.acceptMissing) {
        log.noToken(sessionId);
        return 'AUTH_REQUIRED';
      }
      return { user: POC_USER, auth: o.authRequired ? 'bypass_missing' : 'poc_fallback', exp: null };
    }
    // A repeated `token` parameter is ambiguous (servers and proxies disagree on which one
    // counts): refused as invalid, whatever the values.
    const v: VerifyResult = token === null ? { ok: false, kind: 'repeated_token', unverified: null, exp: null } : await verify(token);
    if (v.ok) {
      if (faults.pocFallback > 0 && random() < faults.pocFallback) {
        return { user: POC_USER, auth: 'token', exp: v.exp, fault: 'pocFallback' };
      }
      if (faults.misattribute > 0 && random() < faults.misattribute) {
        return { user: pickOtherUser(v.user), auth: 'token', exp: v.exp, fault: 'misattributed' };
      }
      return { user: v.user, auth: 'token', exp: v.exp };
    }
    bump(counts.invalidByKind, v.kind);
    log.invalidToken(sessionId, v.kind);
    if (kindMatches(v.kind, faults.acceptInvalid)) return { user: v.unverified ?? POC_USER, auth: 'bypass_invalid', exp: v.exp };
    if (!o.authRequired) return { user: POC_USER, auth: 'poc_fallback', exp: null };
    return 'INVALID_TOKEN';
  }

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', noop);
    counts.upgrades++;
    const { path, query } = splitTarget(req.url ?? '/');
    const sessionId = sessionSegment(path, VOICE_PREFIX);
    if (sessionId === null) return refuse(socket, 'NOT_FOUND');
    if (!isValidSessionId(sessionId)) return refuse(socket, 'BAD_SESSION_ID');
    const problem = handshakeProblem(req);
    if (problem === 'METHOD_NOT_ALLOWED') return refuse(socket, problem, { Allow: 'GET' });
    if (problem === 'UNSUPPORTED_VERSION') return refuse(socket, problem, { 'Sec-WebSocket-Version': '13' });
    if (problem !== null) return refuse(socket, problem);
    if (stopping) return refuse(socket, 'CAPACITY', { 'Retry-After': '1' });
    pending++;
    inflight.add(socket);
    let d: Awaited<ReturnType<typeof decide>> | null = null;
    try {
      if (faults.handshakeDelay) {
        counts.faults.delayed++;
        const ms = faults.handshakeDelay.ms + random() * faults.handshakeDelay.jitterMs;
        await new Promise<void>((r) => {
          const wake = (): void => {
            clearTimeout(timer);
            wakers.delete(wake);
            r();
          };
          const timer = setTimeout(wake, ms);
          wakers.add(wake);
        });
      }
      if (!stopping) d = await decide(sessionId, new URLSearchParams(query).getAll('token'));
    } finally {
      pending--;
      inflight.delete(socket);
    }
    if (socket.destroyed || !socket.readable) {
      counts.aborted++;
      socket.destroy();
      return;
    }
    // Shutdown began while this one was being decided: no new session, no rejection dance.
    if (stopping || d === null) return refuse(socket, 'CAPACITY', { 'Retry-After': '1' });
    if (d === 'AUTH_REQUIRED' || d === 'INVALID_TOKEN') return reject(req, socket, head, d);
    if (faults.capacity !== null && sessions.size >= faults.capacity) {
      counts.faults.capacityRefused++;
      log.write({ level: 'WARNING', event: 'capacity', msg: `VoiceLive WebSocket: over capacity (${faults.capacity} open), refusing session ${sessionId}`, session_id: sessionId });
      return reject(req, socket, head, 'CAPACITY');
    }
    const decision = d;
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req, decision, sessionId));
  }

  // ---- plain HTTP: health, stats, memory ----
  function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
    res.end(text);
  }

  async function memoryEndpoint(req: IncomingMessage, res: ServerResponse, sessionId: string): Promise<void> {
    if (!isValidSessionId(sessionId)) return json(res, 400, { error: 'invalid_session_id' });
    const auth = req.headers.authorization;
    const m = typeof auth === 'string' ? /^Bearer ([^\s]+)$/i.exec(auth.trim()) : null;
    const challenge = { 'WWW-Authenticate': 'Bearer' };
    if (!m?.[1]) return json(res, 401, { error: 'authentication_required' }, challenge);
    const v = await verify(m[1]);
    if (!v.ok) return json(res, 401, { error: 'invalid_token' }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    const rec = store.get(sessionId);
    if (!rec) return json(res, 404, { error: 'session_not_found' });
    if (rec.user_id !== v.user.id) return json(res, 403, { error: 'forbidden' });
    return json(res, 200, { session_id: rec.session_id, user_id: rec.user_id, metadata: rec.metadata });
  }

  const server = createServer(
    {
      maxHeaderSize: o.maxHeaderBytes,
      headersTimeout: o.headersTimeoutMs,
      requestTimeout: Math.max(o.headersTimeoutMs, 30_000),
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(o.headersTimeoutMs / 2))),
    },
    (req, res) => {
      const { path } = splitTarget(req.url ?? '/');
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method_not_allowed' }, { Allow: 'GET' });
      if (path === '/healthz') return json(res, 200, { status: stopping ? 'stopping' : 'ok' });
      if (path === '/stats') return json(res, 200, stats());
      const memId = sessionSegment(path, MEMORY_PREFIX);
      if (memId !== null) {
        memoryEndpoint(req, res, memId).catch(() => {
          if (!res.headersSent) json(res, 500, { error: 'internal' });
        });
        return;
      }
      if (sessionSegment(path, VOICE_PREFIX) !== null) return json(res, 426, { error: 'upgrade_required' }, { Upgrade: 'websocket' });
      return json(res, 404, { error: 'not_found' });
    },
  );
  server.on('upgrade', (req, socket, head) => {
    onUpgrade(req, socket, head).catch(() => {
      bump(counts.refused, 500);
      writeRawStatus(socket, 500);
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    socket.on('error', noop);
    if (err.code === 'ECONNRESET' || !socket.writable) {
      bump(counts.clientErrors, 'dropped');
      socket.destroy();
      return;
    }
    let status = 400;
    if (err.code === 'HPE_HEADER_OVERFLOW') status = overflowIsRequestLine(err.rawPacket, o.maxHeaderBytes) ? 414 : 431;
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') status = 408;
    bump(counts.clientErrors, status);
    writeRawStatus(socket, status);
  });

  let pingTimer: NodeJS.Timeout | null = null;
  if (o.pingIntervalMs > 0) {
    pingTimer = setInterval(() => {
      for (const [ws, e] of sessions) {
        if (!e.alive) {
          // A peer that does not pong is likely gone: close, and cut it off if it does not
          // answer the close either (instead of ws's 30 s wait).
          if (!e.dying) {
            e.dying = true;
            ws.close(CLOSE.pingTimeout.code, CLOSE.pingTimeout.reason);
            e.timers.push(setTimeout(() => ws.terminate(), REJECT_LINGER_MS));
          }
          continue;
        }
        e.alive = false;
        ws.ping();
      }
    }, o.pingIntervalMs);
    pingTimer.unref();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(typeof err.code === 'string' ? new UserError(`cannot listen on ${o.host}:${o.port}: ${err.code}`) : err),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  server.on('error', noop);
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      stopping = true;
      if (pingTimer) clearInterval(pingTimer);
      for (const wake of [...wakers]) wake();
      const all = [...sessions.keys(), ...rejecting];
      const done = Promise.all(all.map((ws) => (ws.readyState === 3 ? null : new Promise<void>((r) => ws.once('close', () => r())))));
      for (const ws of sessions.keys()) ws.close(CLOSE.shutdown.code, CLOSE.shutdown.reason);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
      for (const ws of [...sessions.keys(), ...rejecting]) ws.terminate();
      // Handshakes still waiting for a verification (e.g. a slow JWKS URL) are cut off.
      for (const socket of inflight) socket.destroy();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    })();
    return closing;
  };

  const describe = [
    `auth ${o.authRequired ? 'required' : 'optional (POC fallback)'}`,
    `reject style ${o.rejectStyle}`,
    `keys ${keys.describe}`,
    `faults: ${describeFaults(faults).join(' ') || 'none'}`,
  ].join(', ');

  return {
    url: `http://${hostForUrl}:${port}`,
    wsUrl: `ws://${hostForUrl}:${port}`,
    port,
    stats,
    close,
    describe,
  };
}
