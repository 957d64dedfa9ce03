// After accept: the agent acknowledgement, audio in (binary PCM16 and base64 JSON), transcripts
// out at the configured pace and attributed to the session's user; server pings.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { attempt, nextEvent, voiceUrl, waitClose } from '../helpers/target-client.ts';
import { startHarness } from '../helpers/target-harness.ts';
import { testTokens, type TestTokens } from '../helpers/target-tokens.ts';

let tk: TestTokens;
before(async () => {
  tk = await testTokens();
});
after(async () => {
  await tk.cleanup();
});

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('agent selection is acknowledged with the session and user', async () => {
  const h = await startHarness(tk);
  try {
    const a = await attempt(h.target.wsUrl, 'agent-1', tk.valid(1));
    assert.equal(a.outcome, 'accepted');
    if (a.outcome !== 'accepted') return;
    const ack = nextEvent(a.ws);
    a.ws.send(JSON.stringify({ type: 'agent', agent_id: 'elena' }));
    assert.deepEqual(await ack, { type: 'agent.selected', agent_id: 'elena', session_id: 'agent-1', user_id: tk.set.pool.users[1]!.oid });
    a.ws.close();
  } finally {
    await h.close();
  }
});

test('binary PCM16 audio yields one transcript per utterance, after the recognition delay', async () => {
  const h = await startHarness(tk, { utteranceMs: 200, transcriptDelayMs: 150 });
  try {
    const a = await attempt(h.target.wsUrl, 'pcm-1', tk.valid(2));
    assert.equal(a.outcome, 'accepted');
    if (a.outcome !== 'accepted') return;
    const got: Array<Record<string, unknown>> = [];
    a.ws.on('message', (d) => got.push(JSON.parse(String(d)) as Record<string, unknown>));
    // 400 ms of 24 kHz PCM16 mono = 19,200 bytes, in 20 ms frames of 960 bytes.
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) a.ws.send(Buffer.alloc(960, i));
    const first = await nextEvent(a.ws, (e) => e.type === 'transcript');
    const ms = performance.now() - t0;
    assert.ok(ms >= 140, `transcript after ${ms} ms, not instantly`);
    assert.deepEqual(Object.keys(first).sort(), ['session_id', 'text', 'type', 'user_id']);
    assert.equal(first.user_id, tk.set.pool.users[2]!.oid);
    assert.equal(first.session_id, 'pcm-1');
    await until(() => got.filter((e) => e.type === 'transcript').length >= 2);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(got.filter((e) => e.type === 'transcript').length, 2, '400 ms of audio = two 200 ms utterances');
    a.ws.close();
  } finally {
    await h.close();
  }
});

test('input_audio_buffer.append with base64 audio, and commit flushes a partial utterance', async () => {
  const h = await startHarness(tk, { utteranceMs: 100, transcriptDelayMs: 20 });
  try {
    const a = await attempt(h.target.wsUrl, 'b64-1', tk.valid(0));
    assert.equal(a.outcome, 'accepted');
    if (a.outcome !== 'accepted') return;
    const transcripts: Array<Record<string, unknown>> = [];
    a.ws.on('message', (d) => {
      const e = JSON.parse(String(d)) as Record<string, unknown>;
      if (e.type === 'transcript') transcripts.push(e);
    });
    // 100 ms at 24 kHz = 4,800 bytes: exactly one utterance; then 1,000 bytes + commit.
    a.ws.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: Buffer.alloc(4800, 7).toString('base64') }));
    a.ws.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: Buffer.alloc(1000, 7).toString('base64') }));
    await until(() => transcripts.length >= 1);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(transcripts.length, 1, 'the 1,000 extra bytes are not an utterance yet');
    a.ws.send(JSON.stringify({ type: 'input_audio_buffer.commit' }));
    await until(() => transcripts.length >= 2);
    assert.match(String(transcripts[1]!.text), /21 ms of audio/);
    assert.equal(h.target.stats().messages.audioBytes, 5800);
    a.ws.close();
  } finally {
    await h.close();
  }
});

test('server pings: answered pings keep a session, a client that never pongs is closed 1011', async () => {
  const h = await startHarness(tk, { pingIntervalMs: 100 });
  try {
    const a = await attempt(h.target.wsUrl, 'ping-1', tk.valid(0));
    assert.equal(a.outcome, 'accepted');
    let pings = 0;
    if (a.outcome === 'accepted') a.ws.on('ping', () => pings++);
    const silent = new WebSocket(voiceUrl(h.target.wsUrl, 'ping-2', tk.valid(1)), { autoPong: false });
    silent.on('error', () => {});
    const closed = waitClose(silent, 3000);
    assert.deepEqual(await closed, { code: 1011, reason: 'keepalive ping timeout' });
    assert.ok(pings >= 2, `pings seen: ${pings}`);
    assert.equal(a.outcome === 'accepted' && a.ws.readyState, 1);
    if (a.outcome === 'accepted') a.ws.close();
  } finally {
    await h.close();
  }
});

test('close() shuts open sessions with 1001', async () => {
  const h = await startHarness(tk);
  const a = await attempt(h.target.wsUrl, 'shut-1', tk.valid(0));
  assert.equal(a.outcome, 'accepted');
  if (a.outcome !== 'accepted') return;
  const closed = waitClose(a.ws);
  await h.close();
  assert.deepEqual(await closed, { code: 1001, reason: 'Server shutting down' });
});
