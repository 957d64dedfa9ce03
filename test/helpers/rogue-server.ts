// A misbehaving voicelive backend for tests: by default it behaves as the contract says
// (valid token → accept, session.created with the token's oid, agent ack; no token → 1008
// "Authentication required"; bad token → 1008 "Invalid token"), and a test overrides what
// it does per request: HTTP refusals with any status, raw bytes instead of a handshake
// (200 OK, a redirect, a wrong Sec-WebSocket-Accept), slow handshakes, wire-level endings
// (reset, FIN without close frame, empty close payload), odd first events, pings, huge
// messages. It tells valid tokens from bad ones by looking them up in the token set it is
// given, so it knows nothing about JWTs. Loopback only, port 0.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export type RogueKind = 'valid' | 'no_token' | 'invalid';

export interface RogueRequest {
  kind: RogueKind;
  /** Catalogue variant of a bad token ('missing'/'empty' for no_token, '' for valid). */
  variant: string;
  sessionId: string;
  /** The token's oid (valid tokens only). */
  oid?: string;
  /** 1 for the first request of this session id (the WebSocket attempt), 2 for the next (the status probe), … */
  nth: number;
}

export interface RogueSocket {
  ws: WebSocket;
  socket: net.Socket;
  req: RogueRequest;
  /** Sends the contract's first event for this request (user_id = oid, or `as`). */
  sessionCreated(as?: string): void;
}

/** What the server does with one upgrade request. */
export type RoguePlan =
  | { kind: 'http'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'raw'; text: string }
  | { kind: 'silent' }
  | { kind: 'accept'; delayMs?: number; badAcceptKey?: boolean; then?: (s: RogueSocket) => void };

export type RogueBehaviour = (req: RogueRequest) => RoguePlan | undefined;

export interface RogueTokens {
  /** token → oid */
  valid: Map<string, string>;
  /** token → variant */
  invalid: Map<string, string>;
}

export interface RogueServer {
  wsUrl: string;
  requests: RogueRequest[];
  close(): Promise<void>;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function acceptKey(key: string): string {
  return createHash('sha1').update(`${key}${GUID}`).digest('base64');
}

/** The contract's behaviour, with the agent ack and session.created. */
export function correctPlan(req: RogueRequest): RoguePlan {
  if (req.kind === 'valid') return { kind: 'accept', then: serveValid };
  const reason = req.kind === 'no_token' ? 'Authentication required' : 'Invalid token';
  return { kind: 'accept', then: (s) => s.ws.close(1008, reason) };
}

/** A correct valid session: first event, then answers the agent selection. */
export function serveValid(s: RogueSocket, firstEvent = true): void {
  if (firstEvent) s.sessionCreated();
  s.ws.on('message', (data, binary) => {
    if (binary) return;
    try {
      const m = JSON.parse(data.toString()) as { type?: string; agent_id?: string };
      if (m.type === 'agent') s.ws.send(JSON.stringify({ type: 'agent.selected', agent_id: m.agent_id, session_id: s.req.sessionId, user_id: s.req.oid }));
    } catch {
      // not JSON
    }
  });
}

export function tokensOf(set: { pool: { users: Array<{ oid: string; tokens: Array<{ token: string }> }> }; invalid: { cases: Array<{ variant: string; token: string }> } }): RogueTokens {
  const valid = new Map<string, string>();
  for (const u of set.pool.users) for (const t of u.tokens) valid.set(t.token, u.oid);
  const invalid = new Map<string, string>();
  for (const c of set.invalid.cases) invalid.set(c.token, c.variant);
  return { valid, invalid };
}

/** The memory endpoint (`GET /api/v1/memory/sessions/{id}`): status and JSON body; default 404. */
export type RogueMemory = (q: { sessionId: string; oid?: string }) => { status: number; body?: unknown } | undefined;

export async function startRogue(tokens: RogueTokens, behaviour: RogueBehaviour = () => undefined, memory: RogueMemory = () => undefined): Promise<RogueServer> {
  const requests: RogueRequest[] = [];
  const seen = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  // Oversized tokens must reach the behaviour, not Node's header limit.
  const server = http.createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
    const m = /^\/api\/v1\/memory\/sessions\/([^/?]+)$/.exec(req.url ?? '');
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const answer = m ? memory({ sessionId: decodeURIComponent(m[1]!), ...(auth && tokens.valid.has(auth[1]!) ? { oid: tokens.valid.get(auth[1]!)! } : {}) }) : undefined;
    if (!answer) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(answer.status, { 'Content-Type': 'application/json' });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 << 20 });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });

  const describe = (rawUrl: string): RogueRequest => {
    const u = new URL(rawUrl, 'http://x');
    const sessionId = decodeURIComponent(u.pathname.split('/').pop() ?? '');
    const nth = (seen.get(sessionId) ?? 0) + 1;
    seen.set(sessionId, nth);
    const token = u.searchParams.get('token');
    if (token === null || token === '') return { kind: 'no_token', variant: token === null ? 'missing' : 'empty', sessionId, nth };
    const oid = tokens.valid.get(token);
    if (oid !== undefined) return { kind: 'valid', variant: '', sessionId, oid, nth };
    return { kind: 'invalid', variant: tokens.invalid.get(token) ?? 'unknown', sessionId, nth };
  };

  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const r = describe(req.url ?? '/');
    requests.push(r);
    const plan = behaviour(r) ?? correctPlan(r);
    switch (plan.kind) {
      case 'http': {
        const body = plan.body ?? '';
        const extra = Object.entries(plan.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
        socket.end(`HTTP/1.1 ${plan.status} ${http.STATUS_CODES[plan.status] ?? 'Status'}\r\n${extra}Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
      case 'raw':
        socket.end(plan.text);
        return;
      case 'silent':
        return;
      case 'accept': {
        const go = (): void => {
          if (socket.destroyed) return;
          if (plan.badAcceptKey) {
            socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey('not-the-key')}\r\n\r\n`);
            return;
          }
          wss.handleUpgrade(req, socket, head, (ws) => {
            ws.on('error', () => {});
            const s: RogueSocket = {
              ws,
              socket,
              req: r,
              sessionCreated: (as?: string) => {
                const uid = as ?? r.oid ?? 'poc-user';
                ws.send(JSON.stringify({ type: 'session.created', session_id: r.sessionId, user_id: uid, user: { id: uid } }));
              },
            };
            (plan.then ?? ((x: RogueSocket) => (r.kind === 'valid' ? serveValid(x) : undefined)))(s);
          });
        };
        if (plan.delayMs) later(plan.delayMs, go);
        else go();
        return;
      }
    }
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as net.AddressInfo).port;
  return {
    wsUrl: `ws://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const c of wss.clients) c.terminate();
      for (const s of sockets) s.destroy();
      wss.close();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
