// Regressions found by an adversarial review of the target over real loopback sockets:
// shutdown with handshakes in flight, malformed upgrades judged before any auth decision,
// silent connections, repeated token parameters, dead peers, clients that never read.
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { parseFaults } from '../../target/faults.ts';
import { attempt, rawExchange, upgradeRequest, waitClose, type Attempt } from '../helpers/target-client.ts';
import { assertNoSecrets, startHarness } from '../helpers/target-harness.ts';
import { testTokens, type TestTokens } from '../helpers/target-tokens.ts';

let tk: TestTokens;
before(async () => {
  tk = await testTokens();
});
after(async () => {
  await tk.cleanup();
});

async function until(cond: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`${what} not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves with the promise's value, or rejects when it takes longer than `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms))),
  ]);
}

const STD = ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];
const request = (line: string, headers: string[]): string => `${line}\r\nHost: 127.0.0.1\r\n${headers.join('\r\n')}\r\n\r\n`;

test('close() with handshakes in flight resolves promptly and accepts no session after shutdown began', async () => {
  const h = await startHarness(tk, { faults: parseFaults(['handshake-delay=400']) });
  let closed = false;
  try {
    const attempts: Array<Promise<Attempt>> = [0, 1, 2].map((i) => attempt(h.target.wsUrl, `sd-${i}`, tk.valid(i), 4000));
    attempts.push(attempt(h.target.wsUrl, 'sd-bad', 'garbage', 4000));
    await until(() => h.target.stats().pending === 4, 3000, 'four handshakes pending');
    await within(h.close(), 4000, 'close()');
    closed = true;
    const outcomes = await Promise.all(attempts);
    for (const a of outcomes) {
      if (a.outcome === 'accepted') a.ws.terminate();
      assert.notEqual(a.outcome, 'accepted', 'no session may be accepted once shutdown began');
    }
    assert.deepEqual(h.sessions, []);
    const s = h.target.stats();
    assert.equal(s.pending, 0);
    assert.equal(s.open, 0);
    const refused = Object.values(s.refused).reduce((a, b) => a + b, 0);
    assert.equal(s.upgrades, s.accepted + s.rejected + refused + s.aborted, JSON.stringify(s));
  } finally {
    if (!closed) void h.close();
  }
});

for (const style of ['close', 'http'] as const) {
  test(`malformed WebSocket upgrades get an HTTP error before any auth decision or log line (reject-style ${style})`, async () => {
    const h = await startHarness(tk, { rejectStyle: style });
    try {
      const V = encodeURIComponent(tk.valid(0));
      const path = (sid: string, token: string | null): string => `/api/v1/voice/voicelive/${sid}${token === null ? '' : `?token=${token}`}`;
      const cases: Array<[string, string, number]> = [];
      for (const [tname, token] of [['valid', V], ['bad', 'garbage'], ['none', null]] as const) {
        cases.push(
          [`no-key-${tname}`, request(`GET ${path(`nokey-${tname}`, token)} HTTP/1.1`, STD.filter((x) => !x.startsWith('Sec-WebSocket-Key'))), 400],
          [`bad-key-${tname}`, request(`GET ${path(`badkey-${tname}`, token)} HTTP/1.1`, STD.map((x) => (x.startsWith('Sec-WebSocket-Key') ? 'Sec-WebSocket-Key: short' : x))), 400],
          [`two-keys-${tname}`, request(`GET ${path(`twokeys-${tname}`, token)} HTTP/1.1`, [...STD, 'Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==']), 400],
          [`version-8-${tname}`, request(`GET ${path(`v8-${tname}`, token)} HTTP/1.1`, STD.map((x) => x.replace('Version: 13', 'Version: 8'))), 426],
          [`http-1.0-${tname}`, request(`GET ${path(`h10-${tname}`, token)} HTTP/1.0`, STD), 400],
          [`upgrade-foo-${tname}`, request(`GET ${path(`foo-${tname}`, token)} HTTP/1.1`, STD.map((x) => x.replace('Upgrade: websocket', 'Upgrade: foo'))), 400],
          [`post-${tname}`, request(`POST ${path(`post-${tname}`, token)} HTTP/1.1`, STD), 405],
          [`bad-protocol-${tname}`, request(`GET ${path(`proto-${tname}`, token)} HTTP/1.1`, [...STD, 'Sec-WebSocket-Protocol: a b']), 400],
          [`repeated-protocol-${tname}`, request(`GET ${path(`proto2-${tname}`, token)} HTTP/1.1`, [...STD, 'Sec-WebSocket-Protocol: chat, chat']), 400],
        );
      }
      for (const [name, req, status] of cases) {
        const r = await rawExchange(h.target.port, req, 3000);
        assert.equal(r.status, status, `${name}: ${r.text.slice(0, 40)}`);
        assert.ok(!r.text.includes('101 Switching'), name);
      }
      assert.deepEqual(h.logs.lines, [], 'a request that is not a WebSocket handshake leaves no auth log line');
      assert.deepEqual(h.sessions, []);
      const s = h.target.stats();
      assert.deepEqual(s.invalidByKind, {}, 'no token was even looked at');
      assert.equal(s.rejected + s.accepted, 0);
      assert.equal((s.refused['400'] ?? 0) + (s.refused['405'] ?? 0) + (s.refused['426'] ?? 0), cases.length);
      // A correct handshake still works.
      const ok = await attempt(h.target.wsUrl, 'after-malformed', tk.valid(0));
      assert.equal(ok.outcome, 'accepted');
      if (ok.outcome === 'accepted') ok.ws.close();
    } finally {
      await h.close();
    }
  });
}

test('silent connections (not a byte sent) get 408 after the headers timeout and are closed (held)', async () => {
  const h = await startHarness(tk, { headersTimeoutMs: 300 });
  const socks: Socket[] = [];
  try {
    const got: string[] = [];
    const closedAt: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) {
      const s = netConnect(h.target.port, '127.0.0.1');
      s.on('error', () => {});
      s.on('data', (c) => got.push(c.toString('latin1')));
      s.on('close', () => closedAt.push(performance.now() - t0));
      socks.push(s);
    }
    await until(() => closedAt.length === 5, 3000, 'the silent sockets closed by the target');
    assert.ok(Math.max(...closedAt) < 2500, `closed after ${closedAt.map((x) => x.toFixed(0)).join(',')} ms`);
    assert.equal(got.filter((t) => t.startsWith('HTTP/1.1 408')).length, 5);
    assert.equal(h.target.stats().clientErrors['408'], 5);
    // A session accepted in time has no such timeout.
    const ok = await attempt(h.target.wsUrl, 'silent-after', tk.valid(0));
    assert.equal(ok.outcome, 'accepted');
    if (ok.outcome === 'accepted') {
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(ok.ws.readyState, WebSocket.OPEN, 'an accepted session has no idle timeout');
      ok.ws.close();
    }
  } finally {
    for (const s of socks) s.destroy();
    await h.close();
  }
});

describe('repeated token parameters', () => {
  for (const style of ['close', 'http'] as const) {
    test(`are refused as an invalid token whichever comes first (reject-style ${style})`, async () => {
      const h = await startHarness(tk, { rejectStyle: style });
      try {
        const V = encodeURIComponent(tk.valid(0));
        const queries = [`token=garbage&token=${V}`, `token=${V}&token=garbage`, `token=${V}&token=${V}`, `token=&token=${V}`];
        for (const [i, q] of queries.entries()) {
          const sid = `dup-${style}-${i}`;
          h.mustReject.add(sid);
          const r = await rawExchange(h.target.port, upgradeRequest(`/api/v1/voice/voicelive/${sid}?${q}`), 3000, (b) => b.includes('Invalid token') || b.includes('\r\n\r\n'));
          if (style === 'close') assert.ok(r.text.startsWith('HTTP/1.1 101') && r.text.includes('Invalid token'), `${q.slice(0, 30)}: ${r.text.slice(0, 60)}`);
          else assert.equal(r.status, 403, q.slice(0, 30));
        }
        await new Promise((r) => setTimeout(r, 50));
        h.assertGuard();
        assert.equal(h.target.stats().invalidByKind.repeated_token, queries.length);
        const logged = h.logs.parsed().filter((l) => l.event === 'invalid_token');
        assert.equal(logged.length, queries.length);
        assertNoSecrets(h.logs.lines, [tk.valid(0)]);
        // Other parameters next to a single token are fine.
        const ok = await attempt(h.target.wsUrl, `dup-ok-${style}`, tk.valid(0));
        assert.equal(ok.outcome, 'accepted');
        if (ok.outcome === 'accepted') ok.ws.close();
      } finally {
        await h.close();
      }
    });
  }
});

test('a peer that stops answering pings leaves the open count within a ping interval plus the close linger', async () => {
  const h = await startHarness(tk, { pingIntervalMs: 100 });
  const sock = netConnect(h.target.port, '127.0.0.1');
  try {
    sock.on('error', () => {});
    // A raw client: completes the handshake, then never reads or answers anything (a dead peer).
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no 101')), 3000);
      sock.once('data', () => {
        clearTimeout(t);
        resolve();
      });
      sock.write(upgradeRequest(`/api/v1/voice/voicelive/dead-peer?token=${encodeURIComponent(tk.valid(0))}`));
    });
    sock.pause();
    await until(() => h.target.stats().open === 1, 2000, 'the session open');
    const t0 = performance.now();
    await until(() => h.target.stats().open === 0, 3000, 'the dead peer dropped (ws alone would wait 30 s)');
    assert.ok(performance.now() - t0 < 2500);
    assert.equal(h.target.stats().closedByCode['1006'] ?? h.target.stats().closedByCode['1011'], 1);
  } finally {
    sock.destroy();
    await h.close();
  }
});

test('a client that never reads cannot make the target buffer its answers without bound', async () => {
  const h = await startHarness(tk, { logFormat: 'none' });
  try {
    const a = await attempt(h.target.wsUrl, 'no-reader', tk.valid(0));
    assert.equal(a.outcome, 'accepted');
    if (a.outcome !== 'accepted') return;
    const raw = (a.ws as unknown as { _socket: Socket })._socket;
    raw.pause(); // the client stops reading; its kernel buffers fill up
    let answers = 0;
    a.ws.on('message', () => answers++);
    // 100,000 agent selections, each answered by a ~200-byte acknowledgement: ~20 MB of answers,
    // far more than the kernel's socket buffers on loopback take (a few MB).
    const total = 100_000;
    const select = JSON.stringify({ type: 'agent', agent_id: 'a'.repeat(64) });
    for (let i = 0; i < total; i++) a.ws.send(select);
    // Wait until the target stops taking events in (or has taken them all).
    let received = -1;
    for (let stable = 0, i = 0; stable < 3 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const now = h.target.stats().messages.received;
      stable = now === received ? stable + 1 : 0;
      received = now;
      if (received === total) break;
    }
    assert.ok(received < total * 0.8, `the target kept reading (${received} of ${total}) although its answers could not be delivered`);
    // Once the client reads again, everything is answered: backpressure, not loss.
    raw.resume();
    await until(() => answers === total, 15_000, `all ${total} answers (${answers})`);
    assert.equal(h.target.stats().messages.received, total);
    a.ws.close();
    await waitClose(a.ws);
  } finally {
    await h.close();
  }
});

