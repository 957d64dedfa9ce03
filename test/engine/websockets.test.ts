// Conformance of engine/modules/websockets.ts with k6 v2.2's k6/websockets, over real
// loopback sockets. Each test names the k6 source it follows (paths in grafana/k6).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createWebsocketsModule } from '../../engine/modules/websockets.ts';
import { createFakeVu, type FakeVu, type FakeVuOptions } from '../helpers/fake-vu.ts';
import { closedPort, startTestServer, type TestServer } from '../helpers/net-ws-server.ts';

type WS = Record<string, any>;
type Ctor = new (url: unknown, protocols?: unknown, params?: unknown) => WS;

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv.close();
});

function setup(opts: FakeVuOptions = {}): { vu: FakeVu; WebSocket: Ctor; Blob: any } {
  const vu = createFakeVu(opts);
  const mod = createWebsocketsModule(vu);
  return { vu, WebSocket: mod['WebSocket'] as Ctor, Blob: mod['Blob'] };
}

interface Rec {
  type: string;
  readyState: number;
  error?: unknown;
  code?: unknown;
  hasCode?: boolean;
  reason?: unknown;
  data?: unknown;
}

/** Records every event with the readyState seen inside the handler. */
function record(ws: WS, log: Rec[]): void {
  for (const t of ['open', 'message', 'error', 'close', 'ping', 'pong']) {
    ws.addEventListener(t, (e: any) => {
      const r: Rec = { type: e.type, readyState: ws.readyState };
      if (t === 'error') r.error = e.error;
      if (t === 'close') {
        r.hasCode = 'code' in e;
        r.code = e.code;
        r.reason = e.reason;
      }
      if (t === 'message') r.data = e.data;
      log.push(r);
    });
  }
}

describe('constructor validation (websockets.go parseURL, params.go buildParams)', () => {
  const { WebSocket } = setup();
  test('scheme must be ws or wss', () => {
    assert.throws(() => new WebSocket('http://127.0.0.1:1/'), /WebSocket requires url with scheme ws or wss, but got "http"/);
    assert.throws(() => new WebSocket(undefined), /WebSocket requires a url/);
  });
  test('an unparsable URL throws without echoing the token (k6 quotes it whole: deviation)', () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/x\n?token=SECRET'), (e: Error) => /WebSocket requires valid url/.test(e.message) && !e.message.includes('SECRET'));
  });
  test('fragment is rejected', () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/x#frag'), /WebSocket requires no url fragment, but got "frag"/);
  });
  test('unknown params key throws', () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/', null, { timeout: 5 }), /unknown WebSocket's option timeout/);
  });
  test('tag values must be primitive', () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/', null, { tags: { a: {} } }), /invalid WebSocket tags option/);
  });
  test("compression accepts only 'deflate'", () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/', null, { compression: 'gzip' }), /unsupported compression algorithm 'gzip'/);
  });
  test('errors are GoErrors (sobek wraps Go errors)', () => {
    try {
      new WebSocket('ftp://x');
      assert.fail('no throw');
    } catch (e) {
      assert.equal((e as Error).name, 'GoError');
    }
  });
});

describe('object surface (websockets.go defineWebsocket)', () => {
  test('no OPEN constant, no removeEventListener, url enumerable with the token, readyState 0', async () => {
    const { vu, WebSocket } = setup();
    const ws = new WebSocket(`${srv.base}/ws/close-1000?token=SECRET`);
    assert.equal(ws.readyState, 0);
    assert.equal(ws['OPEN'], undefined);
    assert.equal((WebSocket as any).OPEN, undefined);
    assert.equal(ws['removeEventListener'], undefined);
    assert.ok(Object.keys(ws).includes('url'));
    assert.match(JSON.stringify(ws), /token=SECRET/);
    assert.equal(ws['binaryType'], 'blob');
    assert.throws(() => {
      ws['binaryType'] = 'text';
    }, /unknown binaryType text/);
    assert.throws(() => {
      ws['onopen'] = 5;
    }, /a value for 'onopen' should be callable/);
    ws.addEventListener('bogus', () => {});
    assert.deepEqual(vu.warnings, ["can't add event handler: unknown event type: bogus"]);
    assert.throws(() => ws.send('x'), /^GoError: InvalidStateError$/);
    assert.throws(() => ws.ping(), /InvalidStateError/);
    await vu.idle();
  });
});

describe('failure and close matrix (websockets.go establishConnection/readPump/connectionClosedWithError)', () => {
  test('non-101 upgrade: error "websocket: bad handshake" then close without code; status only as a tag', async () => {
    const { vu, WebSocket } = setup();
    const log: Rec[] = [];
    const ws = new WebSocket(`${srv.base}/status/401`);
    record(ws, log);
    await vu.idle();
    assert.deepEqual(log, [
      { type: 'error', readyState: 3, error: 'websocket: bad handshake' },
      { type: 'close', readyState: 3, hasCode: false, code: undefined, reason: '' },
    ]);
    const sessions = vu.byMetric('ws_sessions');
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.tags['status'], '401');
    assert.equal(vu.byMetric('ws_connecting').length, 1);
    assert.equal(vu.byMetric('ws_session_duration').length, 0);
  });

  test('server close 1008: open, error "websocket: close 1008 (policy violation): Invalid token", close{1008}', async () => {
    const { vu, WebSocket } = setup();
    const log: Rec[] = [];
    const ws = new WebSocket(`${srv.base}/ws/close-1008?reason=Invalid%20token`);
    record(ws, log);
    await vu.idle();
    assert.deepEqual(log, [
      { type: 'open', readyState: 1 },
      { type: 'error', readyState: 3, error: 'websocket: close 1008 (policy violation): Invalid token' },
      { type: 'close', readyState: 3, hasCode: true, code: 1008, reason: 'Invalid token' },
    ]);
    assert.equal(vu.byMetric('ws_sessions')[0]!.tags['status'], '101');
    assert.equal(vu.byMetric('ws_session_duration').length, 1);
  });

  for (const code of [1000, 1001]) {
    test(`server close ${code} with a reason: open then close only (TestRemoteCloseWithCodeAndReason)`, async () => {
      const { vu, WebSocket } = setup();
      const log: Rec[] = [];
      record(new WebSocket(`${srv.base}/ws/close-${code}?reason=bye`), log);
      await vu.idle();
      assert.deepEqual(log, [
        { type: 'open', readyState: 1 },
        { type: 'close', readyState: 3, hasCode: true, code, reason: 'bye' },
      ]);
    });
  }

  test('empty close payload: error "websocket: close 1005 (no status)", close{1005}', async () => {
    const { vu, WebSocket } = setup();
    const log: Rec[] = [];
    record(new WebSocket(`${srv.base}/raw/empty-close`), log);
    await vu.idle();
    assert.deepEqual(log, [
      { type: 'open', readyState: 1 },
      { type: 'error', readyState: 3, error: 'websocket: close 1005 (no status)' },
      { type: 'close', readyState: 3, hasCode: true, code: 1005, reason: '' },
    ]);
  });

  test('TCP FIN without close frame: error 1006 unexpected EOF, close{1006, "unexpected EOF"}', async () => {
    const { vu, WebSocket } = setup();
    const log: Rec[] = [];
    record(new WebSocket(`${srv.base}/raw/fin`), log);
    await vu.idle();
    assert.deepEqual(log, [
      { type: 'open', readyState: 1 },
      { type: 'error', readyState: 3, error: 'websocket: close 1006 (abnormal closure): unexpected EOF' },
      { type: 'close', readyState: 3, hasCode: true, code: 1006, reason: 'unexpected EOF' },
    ]);
  });

  test('TCP reset: close without error and without code (read errors are swallowed)', async () => {
    const { vu, WebSocket } = setup();
    const log: Rec[] = [];
    record(new WebSocket(`${srv.base}/raw/reset`), log);
    await vu.idle();
    assert.deepEqual(log, [
      { type: 'open', readyState: 1 },
      { type: 'close', readyState: 3, hasCode: false, code: undefined, reason: '' },
    ]);
  });

  test('dial refused: error with a "dial tcp" string, close without code, no status tag', async () => {
    const { vu, WebSocket } = setup();
    const log: Rec[] = [];
    const port = await closedPort();
    record(new WebSocket(`ws://127.0.0.1:${port}/x`), log);
    await vu.idle();
    assert.equal(log.length, 2);
    assert.equal(log[0]!.type, 'error');
    assert.match(String(log[0]!.error), /^dial tcp 127\.0\.0\.1:\d+: connect: connection refused$/);
    assert.deepEqual(log[1], { type: 'close', readyState: 3, hasCode: false, code: undefined, reason: '' });
    const s = vu.byMetric('ws_sessions')[0]!;
    assert.equal('status' in s.tags, false);
    assert.equal(vu.byMetric('ws_connecting').length, 1);
  });

  test('server hangs up during the handshake: error "unexpected EOF"', async () => {
    const { vu, WebSocket } = setup();
    const log: Rec[] = [];
    record(new WebSocket(`${srv.base}/hangup`), log);
    await vu.idle();
    assert.deepEqual(log.map((l) => [l.type, l.error]), [['error', 'unexpected EOF'], ['close', undefined]]);
  });

  test('with no listeners, failures are silent (TestDialError)', async () => {
    const { vu, WebSocket } = setup();
    new WebSocket(`${srv.base}/status/403`);
    new WebSocket(`${srv.base}/ws/close-1008`);
    await vu.idle();
    assert.deepEqual(vu.errors, []);
    assert.deepEqual(vu.warnings, []);
  });

  test('client close() echoed by the server: close{1000, ""} only (TestCloseWithCodeAndReason)', async () => {
    const { vu, WebSocket } = setup();
    const log: Rec[] = [];
    const ws = new WebSocket(`${srv.base}/ws/hold`);
    record(ws, log);
    ws['onopen'] = () => {
      ws.close();
      log.push({ type: 'after-close()', readyState: ws.readyState });
      ws.close(); // no-op when CLOSING
    };
    await vu.idle();
    assert.deepEqual(log, [
      { type: 'after-close()', readyState: 2 },
      { type: 'open', readyState: 2 },
      { type: 'close', readyState: 3, hasCode: true, code: 1000, reason: '' },
    ]);
  });

  test('client close(4000) echoed as 4000: error "websocket: close 4000", close{4000}', async () => {
    const { vu, WebSocket } = setup();
    const log: Rec[] = [];
    const ws = new WebSocket(`${srv.base}/ws/hold`);
    ws['onopen'] = () => ws.close(4000);
    record(ws, log);
    await vu.idle();
    assert.deepEqual(log.slice(1), [
      { type: 'error', readyState: 3, error: 'websocket: close 4000' },
      { type: 'close', readyState: 3, hasCode: true, code: 4000, reason: '' },
    ]);
  });

  test('close() argument checks (websockets.go close)', async () => {
    const { vu, WebSocket } = setup();
    const ws = new WebSocket(`${srv.base}/ws/hold`);
    let checked = false;
    ws['onopen'] = () => {
      assert.throws(() => ws.close(1001), /InvalidAccessError: Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999\. 1001 is neither/);
      assert.throws(() => ws.close(1000, 'x'.repeat(124)), /SyntaxError: Failed to execute 'close' on 'WebSocket': The message must not be greater than 123 bytes/);
      assert.equal(ws.readyState, 1);
      ws.close(1000, 'x'.repeat(123));
      checked = true;
    };
    await vu.idle();
    assert.ok(checked);
  });
});

describe('events and dispatch (listeners.go, newEvent, queueMessage)', () => {
  test('on* handler first, then listeners in order, this undefined; event shape', async () => {
    const { vu, WebSocket } = setup();
    const order: string[] = [];
    const ws = new WebSocket(`${srv.base}/ws/hello?token=T0K`);
    let thisSeen: unknown = 'unset';
    let ev: any;
    ws.addEventListener('message', function (this: unknown) {
      order.push('listener1');
      thisSeen = this;
    });
    ws.addEventListener('message', () => order.push('listener2'));
    ws['onmessage'] = (e: any) => {
      order.push('on');
      ev = e;
      ws.close();
    };
    await vu.idle();
    assert.deepEqual(order, ['on', 'listener1', 'listener2']);
    assert.equal(thisSeen, undefined);
    assert.equal(ev.type, 'message');
    assert.equal(ev.data, 'hello');
    assert.equal(ev.origin, `${srv.base}/ws/hello?token=T0K`);
    assert.equal(ev.target.url, ev.origin);
    assert.equal(typeof ev.timestamp, 'number');
    assert.equal(ev.timeStamp, undefined);
    assert.ok(Math.abs(ev.timestamp - Date.now()) < 5000);
    assert.equal(vu.byMetric('ws_msgs_received').length, 1);
  });

  test('binary messages: Blob by default, ArrayBuffer with binaryType arraybuffer', async () => {
    for (const bt of ['blob', 'arraybuffer']) {
      const { vu, WebSocket, Blob } = setup();
      const ws = new WebSocket(`${srv.base}/ws/binary`);
      ws['binaryType'] = bt;
      let data: any;
      ws['onmessage'] = (e: any) => {
        data = e.data;
        ws.close();
      };
      await vu.idle();
      if (bt === 'blob') {
        assert.ok(data instanceof Blob);
        assert.equal(data.size, 3);
        assert.deepEqual([...new Uint8Array(await data.arrayBuffer())], [1, 2, 3]);
      } else {
        assert.ok(data instanceof ArrayBuffer);
        assert.deepEqual([...new Uint8Array(data)], [1, 2, 3]);
      }
    }
  });

  test('send: text, ArrayBuffer, views and Blob; counted after the write; bufferedAmount returns to 0', async () => {
    const { vu, WebSocket, Blob } = setup();
    const ws = new WebSocket(`${srv.base}/ws/echo`);
    let got = 0;
    ws['onopen'] = () => {
      ws.send('héllo');
      assert.equal(ws.bufferedAmount, 6);
      ws.send(new Uint8Array([1, 2]).buffer);
      ws.send(new Uint16Array([1]));
      ws.send(new Blob(['ab']));
      assert.throws(() => ws.send({}), /unsupported send type/);
    };
    ws['onmessage'] = () => {
      if (++got === 4) ws.close();
    };
    await vu.idle();
    assert.equal(got, 4);
    assert.equal(ws.bufferedAmount, 0);
    // 4 data frames + the close frame: k6's writePump counts every frame it writes (websockets.go).
    assert.equal(vu.byMetric('ws_msgs_sent').length, 5);
    assert.deepEqual(srv.received.slice(-4).map((r) => r.binary), [false, true, true, true]);
  });

  test('ws_msgs_sent counts client ping() and close() frames too, as k6 writePump does (measured with k6 v2.2.0: ping+send+close = 3)', async () => {
    const { vu, WebSocket } = setup();
    const ws = new WebSocket(`${srv.base}/ws/echo`);
    let pongs = 0;
    ws['onopen'] = () => {
      ws.ping();
      ws.send('a');
    };
    ws['onpong'] = () => pongs++;
    ws['onmessage'] = () => ws.close(4000, 'mine');
    await vu.idle();
    assert.equal(pongs, 1);
    assert.equal(vu.byMetric('ws_msgs_sent').length, 3);
  });

  test('messages after close() are dropped and not counted', async () => {
    const { vu, WebSocket } = setup();
    const ws = new WebSocket(`${srv.base}/ws/echo`);
    let msgs = 0;
    ws['onopen'] = () => {
      ws.send('a');
      ws.send('b');
    };
    ws['onmessage'] = () => {
      msgs++;
      ws.close();
    };
    await vu.idle();
    assert.equal(msgs, 1);
    assert.equal(vu.byMetric('ws_msgs_received').length, 1);
  });

  test('server ping: answered automatically and a ping event fires', async () => {
    const { vu, WebSocket } = setup();
    const log: Rec[] = [];
    record(new WebSocket(`${srv.base}/raw/ping`), log);
    await vu.idle();
    assert.deepEqual(log.map((l) => l.type), ['open', 'ping', 'close']);
  });

  test('client ping(): pong event and ws_ping RTT', async () => {
    const { vu, WebSocket } = setup();
    const ws = new WebSocket(`${srv.base}/ws/hold`);
    ws['onopen'] = () => ws.ping();
    ws['onpong'] = () => ws.close();
    await vu.idle();
    const p = vu.byMetric('ws_ping');
    assert.equal(p.length, 1);
    assert.ok(p[0]!.value >= 0 && p[0]!.value < 5000);
  });
});

describe('handler exceptions (callOpenListeners, queueMessage, connectionClosedWithError)', () => {
  test('open handler throws: connection closed, error+close listeners run, iteration fails', async () => {
    const { vu, WebSocket } = setup();
    const log: Rec[] = [];
    const ws = new WebSocket(`${srv.base}/ws/hold`);
    ws['onopen'] = () => {
      throw new Error('boom');
    };
    ws.addEventListener('error', (e: any) => log.push({ type: 'error', readyState: ws.readyState, error: e.error }));
    ws.addEventListener('close', (e: any) => log.push({ type: 'close', readyState: ws.readyState, code: e.code }));
    await vu.idle();
    assert.deepEqual(log, [
      { type: 'error', readyState: 3, error: 'Error: boom' },
      { type: 'close', readyState: 3, code: undefined },
    ]);
    assert.equal(vu.errors.length, 1);
    assert.equal((vu.errors[0] as Error).message, 'boom');
    assert.equal(vu.byMetric('ws_session_duration').length, 1);
  });

  test('error handler throws: close listeners are not called', async () => {
    const { vu, WebSocket } = setup();
    let closed = false;
    const ws = new WebSocket(`${srv.base}/status/403`);
    ws['onerror'] = () => {
      throw new Error('in error handler');
    };
    ws['onclose'] = () => {
      closed = true;
    };
    await vu.idle();
    assert.equal(closed, false);
    assert.equal(vu.errors.length, 1);
  });
});

describe('metrics and tags (websockets.go emitConnectionMetrics, establishConnection)', () => {
  test('default: url and name are the full URL including the token', async () => {
    const { vu, WebSocket } = setup({ tags: { testid: 'T1' } });
    const ws = new WebSocket(`${srv.base}/ws/hold?token=SECRETTOKEN`, null, { tags: { auth_case: 'valid', n: 3 } });
    ws['onopen'] = () => ws.close();
    await vu.idle();
    const s = vu.byMetric('ws_sessions')[0]!;
    assert.equal(s.tags['url'], `${srv.base}/ws/hold?token=SECRETTOKEN`);
    assert.equal(s.tags['name'], s.tags['url']);
    assert.equal(s.tags['status'], '101');
    assert.equal(s.tags['subproto'], '');
    assert.equal(s.tags['auth_case'], 'valid');
    assert.equal(s.tags['n'], '3');
    assert.equal(s.tags['testid'], 'T1');
    assert.equal(s.tags['scenario'], 'default');
    assert.equal('method' in s.tags, false);
    assert.deepEqual(s.metadata, { vu: '1', iter: '0' });
    const names = new Set(vu.samples.map((x) => x.metric.name));
    // ws_msgs_sent: the close frame of ws.close() (k6 writePump counts it).
    assert.deepEqual([...names].sort(), ['ws_connecting', 'ws_msgs_sent', 'ws_session_duration', 'ws_sessions']);
  });

  test('a name tag replaces url and no emitted tag value contains the token (TestManualNameTag)', async () => {
    const { vu, WebSocket } = setup();
    const ws = new WebSocket(`${srv.base}/ws/echo?token=SECRETTOKEN`, null, { tags: { name: 'voicelive' } });
    ws['onopen'] = () => ws.send('x');
    ws['onmessage'] = () => ws.close();
    await vu.idle();
    assert.ok(vu.samples.length >= 5);
    for (const s of vu.samples) {
      assert.equal(s.tags['url'], 'voicelive');
      assert.equal(s.tags['name'], 'voicelive');
      for (const v of Object.values(s.tags)) assert.ok(!v.includes('SECRETTOKEN'));
    }
  });

  test('systemTags gates url/default name/status; a user name survives', async () => {
    const { vu, WebSocket } = setup({ systemTags: ['scenario'] });
    new WebSocket(`${srv.base}/status/401?token=X`);
    new WebSocket(`${srv.base}/status/401?token=X`, null, { tags: { name: 'n1' } });
    await vu.idle();
    const [a, b] = vu.byMetric('ws_sessions');
    assert.equal('url' in a!.tags || 'name' in a!.tags || 'status' in a!.tags, false);
    assert.equal(b!.tags['name'], 'n1');
    assert.equal('url' in b!.tags, false);
  });

  test('subprotocol negotiated: protocol property and subproto tag; User-Agent from vu.userAgent', async () => {
    const { vu, WebSocket } = setup({ userAgent: 'test-agent/1' });
    const ws = new WebSocket(`${srv.base}/ws/hold`, ['chat', 'x'], { headers: { 'X-Custom': 'v' } });
    let proto = '';
    ws['onopen'] = () => {
      proto = ws.protocol;
      ws.close();
    };
    await vu.idle();
    assert.equal(proto, 'chat');
    assert.equal(vu.byMetric('ws_sessions')[0]!.tags['subproto'], 'chat');
    const req = srv.requests.at(-1)!;
    assert.equal(req.headers['user-agent'], 'test-agent/1');
    assert.equal(req.headers['x-custom'], 'v');
    // gorilla joins with ", ", ws with ",": same list (docs/engine-network.md).
    assert.deepEqual(String(req.headers['sec-websocket-protocol']).split(/,\s*/), ['chat', 'x']);
  });
});

describe('iteration lifetime (taskqueue.go, loop ctxDone)', () => {
  test('the socket keeps the callback registered until CLOSED', async () => {
    const { vu, WebSocket } = setup();
    const ws = new WebSocket(`${srv.base}/ws/hold`);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(ws.readyState, 1);
    assert.equal(vu.pending(), 1);
    ws.close();
    await vu.idle();
    assert.equal(vu.pending(), 0);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(vu.bytes.sent > 100 && vu.bytes.received > 100, JSON.stringify(vu.bytes)); // handshake both ways
  });

  test('vu.signal abort sends close 1000', async () => {
    const { vu, WebSocket } = setup();
    const log: Rec[] = [];
    const ws = new WebSocket(`${srv.base}/ws/hold`);
    record(ws, log);
    await new Promise((r) => setTimeout(r, 100));
    vu.abort();
    await vu.idle();
    assert.deepEqual(log.map((l) => [l.type, l.code]), [['open', undefined], ['close', 1000]]);
  });

  test('vu.signal abort while CONNECTING: the dial fails, close without code', async () => {
    const { vu, WebSocket } = setup();
    const log: Rec[] = [];
    record(new WebSocket(`${srv.base}/nohandshake`), log);
    await new Promise((r) => setTimeout(r, 50));
    vu.abort();
    await vu.idle();
    assert.deepEqual(log.map((l) => [l.type, l.error, l.code]), [['error', 'context canceled', undefined], ['close', undefined, undefined]]);
    assert.equal(vu.byMetric('ws_sessions').length, 1);
  });

  test('20 sockets in one VU share one abort listener (no listener-leak warning) and all close on abort', async () => {
    const { vu, WebSocket } = setup();
    const warnings: Error[] = [];
    const onWarn = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarn);
    const socks = Array.from({ length: 20 }, () => new WebSocket(`${srv.base}/ws/hold`));
    await new Promise((r) => setTimeout(r, 200));
    vu.abort();
    await vu.idle();
    process.off('warning', onWarn);
    assert.deepEqual(socks.map((x) => x.readyState), Array(20).fill(3));
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning'), []);
  });
});

describe('less common paths', () => {
  test('close() while CONNECTING: state 2 at once, the close frame goes out after the handshake, no open event', async () => {
    const { vu, WebSocket } = setup();
    const log: Rec[] = [];
    const ws = new WebSocket(`${srv.base}/ws/hold`);
    record(ws, log);
    ws.close(3001, 'early');
    assert.equal(ws.readyState, 2);
    await vu.idle();
    assert.deepEqual(log.map((l) => [l.type, l.code]), [['error', undefined], ['close', 3001]]);
    assert.equal(log[0]!.error, 'websocket: close 3001: early');
  });

  test('a handshake header gorilla refuses fails the dial (client.go duplicate header)', async () => {
    const { vu, WebSocket } = setup();
    const log: Rec[] = [];
    record(new WebSocket(`${srv.base}/ws/hold`, null, { headers: { 'sec-websocket-key': 'x' } }), log);
    await vu.idle();
    assert.deepEqual(log.map((l) => [l.type, l.error]), [['error', 'websocket: duplicate header not allowed: Sec-Websocket-Key'], ['close', undefined]]);
  });

  test('a message handler exception fails the iteration and closes (queueMessage)', async () => {
    const { vu, WebSocket } = setup();
    let closeRan = false;
    const ws = new WebSocket(`${srv.base}/ws/hello`);
    ws['onmessage'] = () => {
      throw new Error('bad message');
    };
    ws['onclose'] = () => {
      closeRan = true;
    };
    await vu.idle();
    assert.equal(closeRan, true);
    assert.equal((vu.errors[0] as Error).message, 'bad message');
  });
});

