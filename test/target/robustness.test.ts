// Bad input and load: garbage and oversized frames, invalid UTF-8, clients vanishing
// mid-handshake, slow clients, oversized request lines and headers, a bounded flood of
// invalid tokens. The target stays up, answers correctly, and /stats stays consistent.
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseFaults } from '../../target/faults.ts';
import type { TargetStats } from '../../target/server.ts';
import { attempt, getJson, rawExchange, upgradeRequest, waitClose } from '../helpers/target-client.ts';
import { startHarness } from '../helpers/target-harness.ts';
import { testTokens, type TestTokens } from '../helpers/target-tokens.ts';

let tk: TestTokens;
before(async () => {
  tk = await testTokens();
});
after(async () => {
  await tk.cleanup();
});

/** A full garbage collection, without needing --expose-gc on the command line. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

function consistent(s: TargetStats): void {
  const refused = Object.values(s.refused).reduce((a, b) => a + b, 0);
  assert.equal(s.pending, 0, 'no handshake left pending');
  assert.equal(s.upgrades, s.accepted + s.rejected + refused + s.aborted, `upgrades add up: ${JSON.stringify(s)}`);
}

async function stillServes(wsUrl: string, token: string, sid: string): Promise<void> {
  const a = await attempt(wsUrl, sid, token);
  assert.equal(a.outcome, 'accepted', 'the target still accepts a valid session');
  if (a.outcome === 'accepted') {
    a.ws.close();
    await waitClose(a.ws);
  }
}

/** Opens a raw upgraded socket (valid token) and returns it after the 101 and first event. */
function rawSession(port: number, path: string): Promise<{ sock: Socket; received: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const sock = netConnect(port, '127.0.0.1');
    const received: Buffer[] = [];
    sock.on('error', () => {});
    const timer = setTimeout(() => reject(new Error('no 101')), 3000);
    sock.on('data', (c) => {
      received.push(c);
      if (Buffer.concat(received).toString('latin1').startsWith('HTTP/1.1 101')) {
        clearTimeout(timer);
        resolve({ sock, received });
      }
    });
    sock.write(upgradeRequest(path));
  });
}

/** A masked client frame. */
function frame(opcode: number, payload: Buffer, fin = true): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  const len = payload.length;
  const head = len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len]) : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, mask, masked]);
}

/** Parses the server's close frame code out of raw bytes after the 101 response. */
function closeCodeIn(bytes: Buffer): number | null {
  const start = bytes.indexOf('\r\n\r\n');
  let i = start + 4;
  while (i + 2 <= bytes.length) {
    const op = bytes[i]! & 0x0f;
    let len = bytes[i + 1]! & 0x7f;
    let off = i + 2;
    if (len === 126) {
      len = bytes.readUInt16BE(off);
      off += 2;
    }
    if (op === 8) return len >= 2 ? bytes.readUInt16BE(off) : 1005;
    i = off + len;
  }
  return null;
}

function closed(sock: Socket, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve) => {
    if (sock.destroyed) return resolve();
    const t = setTimeout(() => {
      sock.destroy();
      resolve();
    }, timeoutMs);
    sock.on('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

test('garbage frames: protocol errors close that socket with 1002, non-JSON text gets an error event', async () => {
  const h = await startHarness(tk);
  try {
    const path = `/api/v1/voice/voicelive/garbage-1?token=${encodeURIComponent(tk.valid(0))}`;
    const { sock, received } = await rawSession(h.target.port, path);
    sock.write(Buffer.from([0x8f, 0x85, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5])); // reserved opcode 0xF
    await closed(sock);
    assert.equal(closeCodeIn(Buffer.concat(received)), 1002);
    const unmasked = await rawSession(h.target.port, path.replace('garbage-1', 'garbage-2'));
    unmasked.sock.write(Buffer.from([0x81, 0x02, 0x68, 0x69])); // an unmasked client frame
    await closed(unmasked.sock);
    assert.equal(closeCodeIn(Buffer.concat(unmasked.received)), 1002);
    const a = await attempt(h.target.wsUrl, 'garbage-3', tk.valid(0));
    assert.equal(a.outcome, 'accepted');
    if (a.outcome === 'accepted') {
      const events: Array<Record<string, unknown>> = [];
      a.ws.on('message', (d) => events.push(JSON.parse(String(d)) as Record<string, unknown>));
      a.ws.send('not json {');
      a.ws.send('[1,2]');
      a.ws.send(JSON.stringify({ type: 'warp' }));
      a.ws.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: '!!!' }));
      a.ws.send(JSON.stringify({ type: 'agent' }));
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(events.map((e) => e.code), ['invalid_json', 'invalid_event', 'unknown_event', 'invalid_audio', 'invalid_agent']);
      assert.equal(a.ws.readyState, 1, 'bad events do not end the session');
      a.ws.close();
    }
    await stillServes(h.target.wsUrl, tk.valid(1), 'garbage-after');
    consistent(h.target.stats());
  } finally {
    await h.close();
  }
});

test('oversized frames close with 1009; invalid UTF-8 in a text frame closes with 1007', async () => {
  const h = await startHarness(tk, { maxMessageBytes: 4096 });
  try {
    const a = await attempt(h.target.wsUrl, 'big-1', tk.valid(0));
    assert.equal(a.outcome, 'accepted');
    if (a.outcome === 'accepted') {
      a.ws.send(Buffer.alloc(4097));
      assert.equal((await waitClose(a.ws)).code, 1009);
    }
    const b = await attempt(h.target.wsUrl, 'utf8-1', tk.valid(0));
    assert.equal(b.outcome, 'accepted');
    if (b.outcome === 'accepted') {
      b.ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0x7d]), { binary: false });
      assert.equal((await waitClose(b.ws)).code, 1007);
    }
    await stillServes(h.target.wsUrl, tk.valid(1), 'big-after');
    const s = h.target.stats();
    assert.equal(s.protocolErrors.WS_ERR_UNSUPPORTED_MESSAGE_LENGTH, 1);
    assert.equal(s.protocolErrors.WS_ERR_INVALID_UTF8, 1);
    consistent(s);
  } finally {
    await h.close();
  }
});

test('clients vanishing mid-handshake are counted as aborted, never crash the target', async () => {
  const h = await startHarness(tk, { faults: parseFaults(['handshake-delay=1000']) });
  try {
    const socks: Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const s = netConnect(h.target.port, '127.0.0.1');
      s.on('error', () => {});
      s.write(upgradeRequest(`/api/v1/voice/voicelive/vanish-${i}?token=${encodeURIComponent(tk.valid(i % 4))}`));
      socks.push(s);
    }
    // Others vanish in the middle of their request line.
    for (let i = 0; i < 10; i++) {
      const s = netConnect(h.target.port, '127.0.0.1');
      s.on('error', () => {});
      s.write('GET /api/v1/voice/voicelive/half');
      socks.push(s);
    }
    // Vanish once the target holds all 20 upgrades (inside the injected 1 s delay).
    await until(() => h.target.stats().pending === 20, 3000);
    for (const s of socks) s.destroy();
    await until(() => h.target.stats().pending === 0, 5000);
    const s = h.target.stats();
    assert.equal(s.aborted, 20);
    assert.equal(s.accepted, 0);
    assert.equal(s.open, 0);
    consistent(s);
    await stillServes(h.target.wsUrl, tk.valid(0), 'vanish-after');
  } finally {
    await h.close();
  }
});

/** Polls `cond` every 10 ms until true or the timeout (then fails). */
async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('slow clients: headers not finished within the timeout get 408; a slow but timely client is served', async () => {
  const h = await startHarness(tk, { headersTimeoutMs: 400 });
  try {
    const t0 = performance.now();
    const r = await rawExchange(h.target.port, 'GET /api/v1/voice/voicelive/slow-1 HTTP/1.1\r\nHost: 127.0.0.1\r\n', 4000);
    assert.equal(r.status, 408);
    assert.ok(performance.now() - t0 < 3000);
    // Dribbles its request in 5 pieces over ~150 ms: fine.
    const req = upgradeRequest(`/api/v1/voice/voicelive/slow-2?token=${encodeURIComponent(tk.valid(0))}`);
    const got = await new Promise<string>((resolve) => {
      const s = netConnect(h.target.port, '127.0.0.1');
      s.on('error', () => {});
      let buf = '';
      s.on('data', (c) => {
        buf += c.toString('latin1');
        if (buf.includes('session.created')) {
          s.destroy();
          resolve(buf);
        }
      });
      setTimeout(() => {
        s.destroy();
        resolve(buf);
      }, 2000);
      const step = Math.ceil(req.length / 5);
      for (let i = 0; i < 5; i++) setTimeout(() => s.write(req.slice(i * step, (i + 1) * step)), i * 35);
    });
    assert.ok(got.startsWith('HTTP/1.1 101'), got.slice(0, 40));
    assert.ok(got.includes('session.created'));
    assert.equal(h.target.stats().clientErrors['408'], 1);
  } finally {
    await h.close();
  }
});

test('oversized request line gets 414, oversized headers 431, never a crash', async () => {
  const h = await startHarness(tk, { maxHeaderBytes: 8192 });
  try {
    const longLine = await rawExchange(h.target.port, upgradeRequest(`/api/v1/voice/voicelive/x?token=${'a'.repeat(20_000)}`));
    assert.equal(longLine.status, 414);
    const bigHeader = await rawExchange(h.target.port, upgradeRequest('/api/v1/voice/voicelive/x?token=abc', `X-Filler: ${'b'.repeat(20_000)}\r\n`));
    assert.equal(bigHeader.status, 431);
    const manyHeaders = await rawExchange(h.target.port, upgradeRequest('/api/v1/voice/voicelive/x', Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'c'.repeat(40)}\r\n`).join('')));
    assert.equal(manyHeaders.status, 431);
    const garbage = await rawExchange(h.target.port, '\x00\x01\x02 not http at all\r\n\r\n');
    assert.equal(garbage.status, 400);
    const s = h.target.stats();
    assert.equal(s.clientErrors['414'], 1);
    assert.equal(s.clientErrors['431'], 2);
    await stillServes(h.target.wsUrl, tk.valid(0), 'line-after');
    const health = await getJson(`${h.target.url}/healthz`);
    assert.deepEqual(health, { status: 200, body: { status: 'ok' } });
  } finally {
    await h.close();
  }
});

test('a flood of 2,000 invalid tokens: every one rejected, then the target answers correctly and /stats adds up', async () => {
  const h = await startHarness(tk, { logFormat: 'none' });
  try {
    const gc = exposeGc();
    // Baseline after a first small batch (code paths warmed up), after a full GC.
    for (let i = 0; i < 20; i++) await rawExchange(h.target.port, upgradeRequest(`/api/v1/voice/voicelive/warm-${i}?token=x.y.z`), 3000, (b) => closeCodeIn(b) !== null);
    await new Promise((r) => setTimeout(r, 50));
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const cases = tk.set.invalid.cases.filter((c) => c.variant !== 'oversized');
    const total = 2000;
    const concurrency = 50;
    let next = 0;
    let rejectedSeen = 0;
    const deadline = Date.now() + 20_000;
    const worker = async (): Promise<void> => {
      while (next < total && Date.now() < deadline) {
        const i = next++;
        const c = cases[i % cases.length]!;
        const r = await rawExchange(h.target.port, upgradeRequest(`/api/v1/voice/voicelive/flood-${i}?token=${encodeURIComponent(c.token)}`), 3000, (b) => closeCodeIn(b) !== null);
        // Close style: 101 then a close frame 1008; nothing else is a correct answer.
        if (r.status === 101 && closeCodeIn(Buffer.from(r.text, 'latin1')) === 1008 && r.text.includes('Invalid token')) rejectedSeen++;
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const secs = (performance.now() - t0) / 1000;
    assert.equal(rejectedSeen, total, `all ${total} rejected correctly (${(total / secs).toFixed(0)}/s)`);
    await new Promise((r) => setTimeout(r, 100));
    const s = h.target.stats();
    assert.equal(s.rejected, total + 20);
    // Nothing per rejection is retained: the heap returns to its baseline (a 1 KiB leak per
    // rejection would be 2 MB).
    await new Promise((r) => setTimeout(r, 50));
    gc();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 1.5 * 1024 * 1024, `heap grew by ${(grown / 1024).toFixed(0)} KiB after the flood`);
    assert.equal(s.rejectedByReason['Invalid token'], total + 20);
    assert.equal(s.accepted, 0);
    assert.equal(s.open, 0);
    consistent(s);
    await stillServes(h.target.wsUrl, tk.valid(0), 'flood-after');
    const stats = await getJson(`${h.target.url}/stats`);
    assert.equal(stats.status, 200);
    assert.equal(stats.body.rejected, total + 20);
    assert.equal(stats.body.accepted, 1);
  } finally {
    await h.close();
  }
});
