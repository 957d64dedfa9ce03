// Regression (found against real k6 v2.2.0): a server close frame arriving while the script
// keeps sending. ws refuses the in-flight write ("not open"), and the engine used to end the
// socket on that write error: `error` "websocket: close sent" and a close event with no code.
// k6's read pump delivers the close frame instead (internal/js/modules/k6/websockets/
// websockets.go readPump/writePump): error "websocket: close 1011 (internal server error):
// boom", then close{code: 1011, reason: 'boom'}.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { runScript } from '../helpers/engine-run.ts';

let wss: WebSocketServer;
let port = 0;

before(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  port = (wss.address() as { port: number }).port;
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    setTimeout(() => ws.close(1011, 'boom'), 150);
  });
});
after(async () => {
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((r) => wss.close(() => r()));
});

test('a server close that crosses the script\'s sends is reported with its code and reason, as k6 does', async () => {
  const r = await runScript(
    `
    import { WebSocket } from 'k6/websockets';
    export const options = { iterations: 3, vus: 3 };
    export default function () {
      const ws = new WebSocket(__ENV.URL);
      let t;
      ws.addEventListener('open', () => { t = setInterval(() => { if (ws.readyState === 1) ws.send(new Uint8Array(320).buffer); }, 1); });
      ws.addEventListener('error', (e) => console.log('error: ' + e.error));
      ws.addEventListener('close', (e) => { clearInterval(t); console.log('close code=' + e.code + ' reason=' + e.reason); });
    }
    `,
    { env: { URL: `ws://127.0.0.1:${port}/` }, quiet: true },
  );
  assert.equal(r.exitCode, 0, r.stderr);
  const out = r.stdout + r.stderr;
  assert.equal((out.match(/close code=1011 reason=boom/g) ?? []).length, 3, out);
  assert.equal((out.match(/error: websocket: close 1011 \(internal server error\): boom/g) ?? []).length, 3, out);
  assert.doesNotMatch(out, /close sent|code=undefined/);
});
