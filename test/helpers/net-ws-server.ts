// A loopback server for the network-module tests. Paths choose a behaviour:
//   /raw/<script>  hand-written handshake + frames, to reproduce what `ws` cannot send
//                  (FIN without close frame, reset, empty close payload);
//   /status/<n>    answers the upgrade with HTTP status n and a small body;
//   /ws/<mode>     a real `ws` server: echo, close-<code>, ping, hold;
//   /instant/<code> the 101 and a close frame in one write (open-vs-close race).
// Every connection's request headers are recorded.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { WebSocketServer } from 'ws';

export interface TestServer {
  port: number;
  base: string; // ws://127.0.0.1:PORT
  httpBase: string; // http://127.0.0.1:PORT
  requests: http.IncomingMessage[];
  /** Messages received by /ws/* handlers. */
  received: Array<{ data: string; binary: boolean }>;
  close(): Promise<void>;
}

export function frame(opcode: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  if (payload.length > 125) throw new Error('test frames are small');
  return Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]);
}

export function closeFrame(code?: number, reason = ''): Buffer {
  if (code === undefined) return frame(0x8);
  const p = Buffer.alloc(2 + Buffer.byteLength(reason));
  p.writeUInt16BE(code, 0);
  p.write(reason, 2);
  return frame(0x8, p);
}

function acceptKey(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

export async function startTestServer(): Promise<TestServer> {
  const requests: http.IncomingMessage[] = [];
  const received: Array<{ data: string; binary: boolean }> = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    requests.push(req);
    const u = new URL(req.url ?? '/', 'http://x');
    const m = /^\/http\/(\d+)$/.exec(u.pathname);
    if (m) {
      res.writeHead(Number(m[1]), { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ path: u.pathname, auth: req.headers.authorization ?? null, ua: req.headers['user-agent'] }));
      return;
    }
    if (u.pathname === '/redirect') {
      res.writeHead(302, { Location: '/http/200' });
      res.end();
      return;
    }
    if (u.pathname === '/slow') {
      setTimeout(() => res.end('late'), 3000).unref();
      return;
    }
    res.writeHead(404);
    res.end('not found');
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req, socket: net.Socket, head) => {
    requests.push(req);
    const u = new URL(req.url ?? '/', 'http://x');
    const parts = u.pathname.split('/').filter(Boolean);
    const key = String(req.headers['sec-websocket-key'] ?? '');
    const accept101 = (extra = ''): void => {
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n${extra}\r\n`,
      );
    };
    if (parts[0] === 'status') {
      const body = JSON.stringify({ error: 'refused' });
      socket.end(`HTTP/1.1 ${parts[1]} Refused\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    if (parts[0] === 'instant') {
      // 101 and a close frame in the same TCP write: the open-vs-close race (/instant/<code>).
      socket.write(
        Buffer.concat([
          Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`),
          closeFrame(Number(parts[1] ?? 1000), u.searchParams.get('reason') ?? ''),
        ]),
      );
      setTimeout(() => socket.end(), 50);
      socket.on('error', () => {});
      return;
    }
    if (parts[0] === 'raw') {
      accept101();
      const script = parts[1];
      const later = (fn: () => void): void => void setTimeout(fn, 30);
      switch (script) {
        case 'fin':
          later(() => socket.end());
          break;
        case 'reset':
          later(() => socket.resetAndDestroy());
          break;
        case 'empty-close':
          later(() => socket.end(closeFrame()));
          break;
        case 'msg-then-fin':
          socket.write(frame(0x1, Buffer.from('hello')));
          later(() => socket.end());
          break;
        case 'ping':
          later(() => socket.write(frame(0x9, Buffer.from('srv'))));
          setTimeout(() => socket.end(closeFrame(1000, 'bye')), 150);
          break;
        case 'hang':
          break; // 101 then silence; the client must close
        default:
          socket.destroy();
      }
      socket.on('error', () => {});
      return;
    }
    if (parts[0] === 'nohandshake') {
      return; // accept TCP, never answer
    }
    if (parts[0] === 'hangup') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const mode = parts[1] ?? 'echo';
      ws.on('message', (data, binary) => {
        received.push({ data: data.toString(), binary });
        if (mode === 'echo') ws.send(data, { binary });
      });
      const cm = /^close-(\d+)$/.exec(mode);
      if (cm) setTimeout(() => ws.close(Number(cm[1]), u.searchParams.get('reason') ?? ''), 20);
      if (mode === 'hello') ws.send('hello');
      if (mode === 'binary') ws.send(Buffer.from([1, 2, 3]), { binary: true });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    base: `ws://127.0.0.1:${port}`,
    httpBase: `http://127.0.0.1:${port}`,
    requests,
    received,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      for (const s of sockets) s.destroy();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A port on 127.0.0.1 with nothing listening (bound then released). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}
