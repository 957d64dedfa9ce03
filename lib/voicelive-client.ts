// One voicelive attempt inside k6: open the socket, time the handshake, select the agent,
// stream audio at real-time pace, check attribution, close with 1000, classify (lib/classify)
// and record the metrics (lib/metrics). Everything waits on events and timers, never on
// sleep(), so the VU's event loop keeps delivering messages.
//
// Secrets: the URL carries the token. It is only ever passed to `new WebSocket` and to the
// status probe; the sockets and requests carry a fixed `name` tag (k6 copies it into `url`),
// and nothing here logs ws.url, event.origin, an event object, or raw error text.

import http, { type Params } from 'k6/http';
import { b64encode } from 'k6/encoding';
import { WebSocket } from 'k6/websockets';
import { AttributionTracker, readPath, sampled, type AttributionVerdict } from './attribution.ts';
import { classify, expectedRefusal, type AuthCase, type Expectation, type Verdict, type WireObservation } from './classify.ts';
import type { VoiceConfig } from './config.ts';
import * as m from './metrics.ts';
import { httpForm, memoryNameTag, memoryUrl, voiceNameTag, voiceUrl } from './url.ts';

export interface AttemptPlan {
  cfg: VoiceConfig;
  authCase: AuthCase;
  variant: string;
  sessionId: string;
  /** null = no token parameter; '' = `?token=`. */
  token: string | null;
  expectation: Expectation;
  /** valid: how long to hold the session open (ms). */
  holdMs: number;
  /** valid: the token's oid. */
  expectedOid?: string;
  iterationInTest: number;
  /** Extra low-cardinality tags (soak `phase`, capacity `stage`). */
  extraTags?: Record<string, string>;
}

export interface AttemptResult {
  verdict: Verdict;
  attribution: AttributionVerdict | 'off' | 'not_sampled' | 'n/a';
  handshakeMs: number;
}

interface CloseEventLike {
  code?: number;
  reason?: string;
}
interface ErrorEventLike {
  error?: unknown;
}
interface MessageEventLike {
  data?: unknown;
}

// ---- per-VU helpers -------------------------------------------------------------------


const logCounts: Record<string, number> = {};

/** A warning line, at most cfg.logLimit per kind per VU. Callers pass token-free text only. */
function warnLimited(cfg: VoiceConfig, kind: string, line: string): void {
  const n = (logCounts[kind] ?? 0) + 1;
  logCounts[kind] = n;
  if (n <= cfg.logLimit) console.warn(`voicelive: ${line}`);
}

/** A server-chosen string made safe to print: short, printable, never token-like. */
function safeText(s: string | undefined, token: string | null): string {
  if (s === undefined) return '';
  let t = s.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
  if ((token && token.length >= 8 && s.includes(token.slice(0, 16))) || /eyJ[A-Za-z0-9_-]{4,}/.test(s)) t = '[redacted: looked like a token]';
  return t;
}

const audioCache: Record<string, string | ArrayBuffer> = {};

/** One PCM16 mono frame of a quiet 440 Hz tone, built once per VU and format. */
function audioFrame(cfg: VoiceConfig): string | ArrayBuffer {
  const key = `${cfg.audio}:${cfg.audioRate}:${cfg.audioFrameMs}`;
  const hit = audioCache[key];
  if (hit !== undefined) return hit;
  const samples = Math.max(1, Math.round((cfg.audioRate * cfg.audioFrameMs) / 1000));
  const pcm = new Int16Array(samples);
  for (let i = 0; i < samples; i++) pcm[i] = Math.round(Math.sin((2 * Math.PI * 440 * i) / cfg.audioRate) * 3000);
  const frame: string | ArrayBuffer =
    cfg.audio === 'json' ? JSON.stringify({ type: 'input_audio_buffer.append', audio: b64encode(pcm.buffer as ArrayBuffer, 'std') }) : (pcm.buffer as ArrayBuffer);
  audioCache[key] = frame;
  return frame;
}

function randomKey(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return b64encode(b.buffer as ArrayBuffer, 'std');
}

/**
 * Repeats a refused upgrade as a plain HTTP request to learn its status, which
 * k6/websockets does not show to scripts. 0 = no response (timeout, reset).
 */
async function probeStatus(url: string, nameTag: string, tags: Record<string, string>): Promise<number> {
  try {
    const res = await http.asyncRequest('GET', httpForm(url), null, {
      headers: { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomKey() },
      tags: { ...tags, name: nameTag, probe: 'status' },
      timeout: '5s',
      redirects: 0,
      // A failed request must throw (caught below), never be logged: k6 logs failed
      // requests as `Request Failed error="Get \"<url>\": …"`, and this URL holds the token.
      throw: true,
    } as Params);
    return typeof res.status === 'number' ? res.status : 0;
  } catch {
    return 0;
  }
}

const FORBIDDEN = Symbol('forbidden');

/**
 * How long the client waits for the server to answer its close frame. k6 itself never gives
 * up (the socket stays CLOSING until the scenario ends), so without this an unanswered close
 * would leave the attempt unrecorded.
 */
export const CLOSE_WAIT_MS = 5000;

/** http attribution mode: reads the memory record with the session's own token. */
async function memoryRecord(p: AttemptPlan, tags: Record<string, string>): Promise<{ userId: unknown; record: unknown } | typeof FORBIDDEN | undefined> {
  const { cfg } = p;
  try {
    const res = await http.asyncRequest('GET', memoryUrl(cfg.target, cfg.memoryPath, p.sessionId), null, {
      headers: { Authorization: `Bearer ${p.token ?? ''}` },
      tags: { ...tags, name: memoryNameTag(cfg.target, cfg.memoryPath), probe: 'attribution' },
      timeout: '5s',
      redirects: 0,
      throw: true,
    } as Params);
    if (res.status === 403) return FORBIDDEN;
    if (res.status !== 200 || typeof res.body !== 'string') return undefined;
    const record: unknown = JSON.parse(res.body);
    return { userId: readPath(record, cfg.memoryUserPath), record };
  } catch {
    return undefined;
  }
}

// ---- the attempt ----------------------------------------------------------------------

export async function runAttempt(p: AttemptPlan): Promise<AttemptResult> {
  const { cfg } = p;
  const valid = p.authCase === 'valid';
  const tags: Record<string, string> = { auth_case: p.authCase, variant: p.variant, ...(p.extraTags ?? {}) };
  const nameTag = voiceNameTag(cfg.target);
  const url = voiceUrl(cfg.target, p.sessionId, p.token);
  const tracker = valid && p.expectedOid !== undefined ? new AttributionTracker(p.expectedOid, cfg.attributionPath, cfg.pocUserIds, { path: cfg.sessionIdPath, expected: p.sessionId }) : null;
  const useEvents = cfg.attribution === 'event';
  const useHttp = cfg.attribution === 'http' && valid && sampled(p.iterationInTest, cfg.attributionSample);
  let memoryCheck: Promise<void> | null = null;

  const t0 = Date.now();
  let openAt = 0;
  let endAt = 0;
  let firstMessage = true;
  let servedUser = false;
  let agentSentAt = 0;
  let agentAnswered = false;
  let clientClosing = false;
  let closeUnanswered = false;
  let errorText: string | undefined;
  let closeCode: number | undefined;
  let closeReason: string | undefined;
  const timers: number[] = [];
  const intervals: number[] = [];

  await new Promise<void>((resolve) => {
    const ws = new WebSocket(url, null, { tags: { ...tags, name: nameTag } });
    ws.binaryType = 'arraybuffer';

    const clientClose = (): void => {
      if (clientClosing) return;
      clientClosing = true;
      try {
        ws.close(1000);
      } catch {
        // already closing
      }
      // Record the attempt even if the server never answers the close (the close event
      // clears this timer; a later close event only counts the socket as closed).
      timers.push(
        setTimeout(() => {
          closeUnanswered = true;
          for (const t of intervals) clearInterval(t);
          resolve();
        }, CLOSE_WAIT_MS),
      );
    };

    ws.addEventListener('open', () => {
      openAt = Date.now();
      m.sessionsOpened.add(1, tags);
      if (!valid) {
        // A bad token was upgraded: give the server its chance to close with 1008.
        timers.push(setTimeout(clientClose, cfg.rejectWaitMs));
        return;
      }
      if (cfg.agentId !== '') {
        try {
          ws.send(JSON.stringify({ type: 'agent', agent_id: cfg.agentId }));
          agentSentAt = Date.now();
        } catch {
          // closed under us; the close handler classifies
        }
      }
      if (cfg.audio !== 'off') {
        const frame = audioFrame(cfg);
        const start = Date.now();
        let sent = 0;
        intervals.push(
          setInterval(() => {
            const due = Math.floor((Date.now() - start) / cfg.audioFrameMs);
            let burst = 0;
            while (sent < due && burst < 5 && ws.readyState === 1) {
              try {
                ws.send(frame);
              } catch {
                return;
              }
              sent++;
              burst++;
            }
            if (sent < due) sent = due; // fell behind by more than a burst: skip, keep real time
          }, cfg.audioFrameMs),
        );
      }
      if (useHttp) {
        timers.push(
          setTimeout(() => {
            memoryCheck = memoryRecord(p, tags).then((m) => {
              if (m === FORBIDDEN) tracker?.observeForbidden();
              else if (m !== undefined) {
                tracker?.observeValue(m.userId);
                tracker?.observeSession(m.record);
              }
            });
          }, Math.min(1000, Math.max(0, p.holdMs / 2))),
        );
      }
      timers.push(setTimeout(clientClose, p.holdMs));
    });

    ws.addEventListener('message', (ev: unknown) => {
      const now = Date.now();
      if (firstMessage) {
        firstMessage = false;
        if (openAt > 0) m.firstEventDuration.add(now - openAt, tags);
      }
      const data = (ev as MessageEventLike).data;
      if (typeof data !== 'string') return;
      if (!valid) {
        // A bad token's socket: does the server treat it as some user's session?
        if (!servedUser && data.charCodeAt(0) === 123 /* { */) {
          try {
            const id = readPath(JSON.parse(data), cfg.attributionPath);
            if (id !== undefined && id !== null && id !== '') servedUser = true;
          } catch {
            // not JSON: no user context shown
          }
        }
        return;
      }
      if (tracker && useEvents) tracker.observeText(data);
      if (agentSentAt > 0 && !agentAnswered && data.includes(cfg.agentAckType)) {
        try {
          const t = readPath(JSON.parse(data), 'type');
          if (t === cfg.agentAckType) {
            agentAnswered = true;
            m.agentResponseDuration.add(now - agentSentAt, tags);
          }
        } catch {
          // not JSON
        }
      }
    });

    ws.addEventListener('error', (ev: unknown) => {
      if (errorText === undefined) {
        const e = (ev as ErrorEventLike).error;
        errorText = typeof e === 'string' ? e : String(e ?? '');
      }
    });

    ws.addEventListener('close', (ev: unknown) => {
      endAt = Date.now();
      const c = ev as CloseEventLike;
      closeCode = typeof c.code === 'number' && c.code !== 0 ? c.code : undefined;
      closeReason = typeof c.reason === 'string' ? c.reason : '';
      for (const t of timers) clearTimeout(t);
      for (const t of intervals) clearInterval(t);
      if (openAt > 0) m.sessionsClosed.add(1, tags);
      resolve();
    });
  });

  const opened = openAt > 0;
  let probe: number | undefined;
  if (!opened && errorText === 'websocket: bad handshake' && cfg.probeStatus) {
    probe = await probeStatus(url, nameTag, tags);
  }
  if (memoryCheck) await memoryCheck;

  const wire: WireObservation = { opened, closeCode, closeReason, serverClosed: !clientClosing, closeUnanswered, served: !firstMessage, servedUser, errorText, probeStatus: probe };
  const verdict = classify(wire, p.expectation);
  // Start to open; for a refusal, start to the moment the refusal was observed.
  const handshakeMs = (verdict.outcome === 'rejected_close' || !opened ? endAt : openAt) - t0;
  const otags = { ...tags, outcome: verdict.outcome };

  m.handshakeDuration.add(handshakeMs, otags);
  m.rejected.add(verdict.rejected, otags);
  m.attemptErrors.add(verdict.outcome === 'error', otags);
  if (verdict.mismatch) m.rejectionMismatch.add(1, otags);
  if (verdict.bypass) m.authBypass.add(1, otags);
  if (verdict.unverified) m.rejectionUnverified.add(1, otags);
  if (verdict.unexpectedClose) m.unexpectedClose.add(1, { ...otags, close_code: closeCode === undefined ? 'none' : String(closeCode) });

  const who = `${p.authCase === p.variant ? p.authCase : `${p.authCase}/${p.variant}`} session ${p.sessionId}`;
  if (verdict.bypass) {
    const how = servedUser ? `served as a user (a server event carried a user id at "${cfg.attributionPath}")` : `accepted by the server (still open after ${cfg.rejectWaitMs} ms)`;
    warnLimited(cfg, 'bypass', `BYPASS: ${who} was ${how}`);
  }
  if (verdict.mismatch) {
    const got = closeCode !== undefined ? `close ${closeCode} "${safeText(closeReason, p.token)}"` : `HTTP ${probe ?? 'unknown'}`;
    warnLimited(cfg, 'mismatch', `MISMATCH: ${who} was refused with ${got}; expected ${expectedRefusal(p.expectation, cfg.rejectStyle)}`);
  }
  if (valid && verdict.rejected) warnLimited(cfg, 'false_reject', `FALSE REJECTION: ${who} (valid token) was refused (${verdict.detail})`);
  if (verdict.outcome === 'error') warnLimited(cfg, 'error', `ERROR: ${who} ended as ${verdict.detail}${closeUnanswered ? ` (no answer to the client's close within ${CLOSE_WAIT_MS} ms)` : ''}`);
  if (verdict.unexpectedClose) warnLimited(cfg, 'unexpected_close', `UNEXPECTED CLOSE: ${who} closed by the server with ${closeCode ?? 'no code'} before the client ended it`);

  let attribution: AttemptResult['attribution'] = 'n/a';
  const wasServed = valid && opened && (verdict.outcome === 'accepted' || verdict.unexpectedClose || closeUnanswered);
  if (wasServed) {
    if (cfg.attribution === 'off') attribution = 'off';
    else if (cfg.attribution === 'http' && !useHttp) attribution = 'not_sampled';
    else {
      const a = tracker ? tracker.result() : 'unverified';
      attribution = a;
      if (a === 'unverified') {
        m.attributionUnverified.add(1, tags);
      } else {
        m.attributionErrors.add(a !== 'ok', { ...tags, attribution: a });
        const whom = a === 'poc_fallback' ? 'was attributed to the POC fallback user' : a === 'wrong_session' ? `was bound to another session id (at "${cfg.sessionIdPath}")` : a === 'forbidden' ? 'was refused to its own token by the memory endpoint (403): the backend holds it for another user' : 'was attributed to another user';
        if (a !== 'ok') warnLimited(cfg, 'attribution', `ATTRIBUTION: ${who} ${whom}, not the token's oid`);
      }
    }
  }
  if (valid) {
    const ok = verdict.outcome === 'accepted' && !verdict.unexpectedClose && attribution !== 'wrong_user' && attribution !== 'poc_fallback' && attribution !== 'forbidden' && attribution !== 'wrong_session';
    m.sessionSuccess.add(ok, tags);
  }
  return { verdict, attribution, handshakeMs };
}
