// Clients for the target's tests: a real `ws` client that reports how an attempt ended
// (contract §3 outcomes), raw `net` requests for negative paths, and a log collector.
import { connect as netConnect } from 'node:net';
import WebSocket from 'ws';

export type Attempt =
  | { outcome: 'accepted'; ws: WebSocket; first: Record<string, unknown> }
  | { outcome: 'rejected_close'; code: number; reason: string }
  | { outcome: 'rejected_http'; status: number; headers: Record<string, string | string[] | undefined> }
  | { outcome: 'error'; error: string };

export function voiceUrl(wsUrl: string, sessionId: string, token: string | null | undefined): string {
  const base = `${wsUrl}/api/v1/voice/voicelive/${sessionId}`;
  return token === null || token === undefined ? base : `${base}?token=${encodeURIComponent(token)}`;
}

/** One attempt: resolves with its outcome; accepted sockets are left open (caller closes). */
export function attempt(wsUrl: string, sessionId: string, token: string | null | undefined, timeoutMs = 5000, wsOpts: WebSocket.ClientOptions = {}): Promise<Attempt> {
  return new Promise((resolve) => {
    const ws = new WebSocket(voiceUrl(wsUrl, sessionId, token), { handshakeTimeout: timeoutMs, ...wsOpts });
    let done = false;
    const finish = (a: Attempt): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(a);
    };
    const timer = setTimeout(() => {
      finish({ outcome: 'error', error: 'timeout' });
      ws.terminate();
    }, timeoutMs);
    ws.on('unexpected-response', (_req, res) => {
      finish({ outcome: 'rejected_http', status: res.statusCode ?? 0, headers: res.headers });
      res.resume();
      ws.terminate();
    });
    ws.once('message', (data) => {
      let first: Record<string, unknown>;
      try {
        first = JSON.parse(String(data)) as Record<string, unknown>;
      } catch {
        first = { raw: String(data) };
      }
      finish({ outcome: 'accepted', ws, first });
    });
    ws.on('close', (code, reason) => finish({ outcome: 'rejected_close', code, reason: reason.toString() }));
    ws.on('error', (err) => finish({ outcome: 'error', error: err.message }));
  });
}

/** Waits for the next JSON message matching `pred`. */
export function nextEvent(ws: WebSocket, pred: (e: Record<string, unknown>) => boolean = () => true, timeoutMs = 3000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.off('message', onMsg);
      reject(new Error('timed out waiting for an event'));
    }, timeoutMs);
    const onMsg = (data: WebSocket.RawData): void => {
      const e = JSON.parse(String(data)) as Record<string, unknown>;
      if (!pred(e)) return;
      clearTimeout(timer);
      ws.off('message', onMsg);
      resolve(e);
    };
    ws.on('message', onMsg);
  });
}

export function waitClose(ws: WebSocket, timeoutMs = 5000): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve({ code: -1, reason: 'already closed' });
    const timer = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs);
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

/** Sends raw bytes, collects everything until the server closes, `stopWhen` says so, or the timeout. */
export function rawExchange(port: number, data: string | Buffer, timeoutMs = 3000, stopWhen?: (received: Buffer) => boolean): Promise<{ text: string; status: number | null; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const timer = setTimeout(() => s.destroy(), timeoutMs);
    s.on('data', (c) => {
      chunks.push(c);
      if (stopWhen?.(Buffer.concat(chunks))) s.destroy();
    });
    s.on('end', () => {
      closedByServer = true;
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ text, status: m ? Number(m[1]) : null, closedByServer });
    });
    s.write(data);
  });
}

export function upgradeRequest(path: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

export interface LogCollector {
  lines: string[];
  sink: (line: string) => void;
  parsed(): Array<Record<string, unknown>>;
}

export function collectLogs(): LogCollector {
  const lines: string[] = [];
  return { lines, sink: (l) => lines.push(l), parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text };
  }
  return { status: res.status, body };
}
