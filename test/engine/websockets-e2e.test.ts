// End-to-end conformance: small k6 scripts run through the real engine (engine/index.ts
// runK6) against loopback servers, checking what a script and its thresholds observe.
// k6 sources named per test.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runK6 } from '../../engine/index.ts';
import { startTestServer, type TestServer } from '../helpers/net-ws-server.ts';

let srv: TestServer;
let dir: string;
before(async () => {
  srv = await startTestServer();
  dir = mkdtempSync(path.join(tmpdir(), 'h4-e2e-'));
});
after(async () => {
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(name: string, source: string) {
  const file = path.join(dir, `${name}.js`);
  writeFileSync(file, source);
  let err = '';
  const res = await runK6({
    script: file,
    env: { HTTP: srv.httpBase, WS: srv.base },
    includeSystemEnv: false,
    noSummary: true,
    quiet: true,
    stdout: () => {},
    stderr: (s) => {
      err += s;
    },
    watchdogMarginMs: 5000,
  });
  const logs = [...err.matchAll(/msg="((?:[^"\\]|\\.)*)"[^\n]*source=console/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
  return { res, logs, err };
}

describe('k6/websockets through the engine', () => {
  test('refused upgrade: error+close without code; http probe sees 401 and body; 101 probe rejects (websockets.go, httpext/request.go)', async () => {
    const { res, logs } = await run(
      'refused',
      `
import { WebSocket } from 'k6/websockets';
import http from 'k6/http';
export const options = { iterations: 1 };
const H = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' };
export default async function () {
  const ws = new WebSocket(__ENV.WS + '/status/401?token=T', null, { tags: { name: 'voice' } });
  ws.onerror = (e) => console.log('error ' + e.error + ' ' + ws.readyState);
  ws.onclose = (e) => console.log('close ' + ('code' in e) + ' [' + e.reason + ']');
  const r = await http.asyncRequest('GET', __ENV.HTTP + '/status/401?token=T', null, { headers: H, tags: { name: 'probe' }, timeout: '5s' });
  console.log('probe ' + r.status + ' ' + r.body);
  try {
    await http.asyncRequest('GET', __ENV.HTTP + '/ws/hold?token=T', null, { headers: H, timeout: '5s' });
  } catch (e) {
    console.log('101 ' + e.message);
  }
}`,
    );
    assert.equal(res.exitCode, 0, res.error);
    assert.ok(logs.includes('error websocket: bad handshake 3'), logs.join('\n'));
    assert.ok(logs.includes('close false []'), logs.join('\n'));
    assert.ok(logs.includes('probe 401 {"error":"refused"}'), logs.join('\n'));
    assert.ok(logs.includes('101 unsupported response status: 101 Switching Protocols'), logs.join('\n'));
  });

  test('1008 close: events in order, thresholds see status/name tags, token absent with a name tag (websockets.go establishConnection)', async () => {
    const { res, logs } = await run(
      'close1008',
      `
import { WebSocket } from 'k6/websockets';
export const options = {
  iterations: 1,
  thresholds: {
    'ws_sessions{name:voice}': ['count==1'],
    'ws_sessions{url:voice}': ['count==1'],
    'ws_sessions{status:101}': ['count==1'],
  },
};
export default function () {
  const ws = new WebSocket(__ENV.WS + '/ws/close-1008?reason=Invalid%20token&token=T', null, { tags: { name: 'voice' } });
  ws.addEventListener('open', () => console.log('open'));
  ws.addEventListener('error', (e) => console.log('error ' + e.error));
  ws.addEventListener('close', (e) => console.log('close ' + e.code + ' ' + e.reason));
}`,
    );
    assert.equal(res.exitCode, 0, res.error);
    assert.deepEqual(logs, ['open', 'error websocket: close 1008 (policy violation): Invalid token', 'close 1008 Invalid token']);
  });

  test('a failing threshold on a ws tag fails the run with 99 (the test above can fail)', async () => {
    const { res } = await run(
      'thresholdfail',
      `
import { WebSocket } from 'k6/websockets';
export const options = { iterations: 1, thresholds: { 'ws_sessions{name:voice}': ['count==2'] } };
export default function () { new WebSocket(__ENV.WS + '/ws/close-1000', null, { tags: { name: 'voice' } }); }`,
    );
    assert.equal(res.exitCode, 99);
  });

  test('an open socket keeps the iteration alive until closed (taskqueue.go)', async () => {
    const { res, logs } = await run(
      'alive',
      `
import { WebSocket } from 'k6/websockets';
import { setTimeout } from 'k6/timers';
export const options = { iterations: 1, thresholds: { iteration_duration: ['min>=250'] } };
export default function () {
  const ws = new WebSocket(__ENV.WS + '/ws/hold');
  ws.onopen = () => setTimeout(() => ws.close(), 300);
  ws.onclose = (e) => console.log('closed ' + e.code);
}`,
    );
    assert.equal(res.exitCode, 0, res.error);
    assert.deepEqual(logs, ['closed 1000']);
  });

  test('an exception in an open handler closes the socket and fails the iteration (callOpenListeners)', async () => {
    const { res, logs, err } = await run(
      'throwing',
      `
import { WebSocket } from 'k6/websockets';
export const options = { iterations: 1 };
export default function () {
  const ws = new WebSocket(__ENV.WS + '/ws/hold');
  ws.onopen = () => { throw new Error('boom in open'); };
  ws.onclose = () => console.log('close ran');
}`,
    );
    assert.equal(res.exitCode, 0, res.error);
    assert.deepEqual(logs, ['close ran']);
    assert.match(err, /level=error msg="[^"]*boom in open/);
  });

  test('values cross the realm boundary as script-realm objects (binary frames, Blob, errors, promises, json)', async () => {
    const { res, logs } = await run(
      'realm',
      `
import { WebSocket, Blob } from 'k6/websockets';
import http from 'k6/http';
export const options = { iterations: 1 };
export default async function () {
  const p = http.asyncRequest('GET', __ENV.HTTP + '/http/200');
  console.log('promise ' + (p instanceof Promise));
  const r = await p;
  console.log('json ' + (r.json() instanceof Object));
  try { http.get('x'); } catch (e) { console.log('sync ' + (e instanceof Error) + ' ' + e.name); }
  const ws = new WebSocket(__ENV.WS + '/ws/echo');
  ws.binaryType = 'arraybuffer';
  let n = 0;
  ws.onopen = (ev) => {
    console.log('event ' + (ev instanceof Object));
    try { ws.send({}); } catch (e) { console.log('send ' + (e instanceof Error)); }
    ws.send(new Uint8Array([7, 8, 9]).buffer);
  };
  ws.onmessage = async (e) => {
    n++;
    if (n === 1) {
      console.log('ab ' + (e.data instanceof ArrayBuffer) + ' ' + Array.from(new Uint8Array(e.data)).join(','));
      ws.binaryType = 'blob';
      ws.send(new Blob(['hi']));
    } else {
      console.log('blob ' + (e.data instanceof Blob) + ' ' + ((await e.data.arrayBuffer()) instanceof ArrayBuffer) + ' ' + (await e.data.text()));
      ws.close();
    }
  };
}`,
    );
    assert.equal(res.exitCode, 0, res.error);
    assert.deepEqual(logs, ['promise true', 'json true', 'sync true GoError', 'event true', 'send true', 'ab true 7,8,9', 'blob true true hi']);
  });
});

