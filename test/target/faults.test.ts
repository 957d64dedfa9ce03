// Every --fault has its stated effect (and only it): the tool's detectors are proven
// against these, so each must be unmistakable on the wire.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseFaults } from '../../target/faults.ts';
import type { TargetOptions } from '../../target/server.ts';
import { attempt, getJson, waitClose } from '../helpers/target-client.ts';
import { startHarness, type Harness } from '../helpers/target-harness.ts';
import { testTokens, type TestTokens } from '../helpers/target-tokens.ts';

let tk: TestTokens;
before(async () => {
  tk = await testTokens();
});
after(async () => {
  await tk.cleanup();
});

async function withTarget(opts: TargetOptions, fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness(tk, opts);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

/** A random source that cycles through the given values. */
const cycle = (...v: number[]): (() => number) => {
  let i = 0;
  return () => v[i++ % v.length]!;
};

describe('accept-invalid', () => {
  test('accept-invalid=VARIANT lets exactly the tokens of that failure kind through', async () => {
    const cases = tk.set.invalid.cases;
    for (const c of cases) {
      const big = c.variant === 'oversized' ? { maxHeaderBytes: 65536 } : {};
      await withTarget({ faults: parseFaults([`accept-invalid=${c.variant}`]), ...big }, async (h) => {
        const a = await attempt(h.target.wsUrl, `bypass-${c.variant}`, c.token);
        assert.equal(a.outcome, 'accepted', c.variant);
        if (a.outcome === 'accepted') a.ws.close();
        assert.equal(h.target.stats().acceptedBy.bypass_invalid, 1);
        // A token of an unrelated kind is still refused.
        const otherVariant = c.variant === 'garbage' ? 'expired' : 'garbage';
        const other = cases.find((x) => x.variant === otherVariant)!;
        const b = await attempt(h.target.wsUrl, `bypass-other-${c.variant}`, other.token);
        assert.deepEqual(b, { outcome: 'rejected_close', code: 1008, reason: 'Invalid token' }, `${c.variant} let ${otherVariant} through`);
        // Valid tokens and missing tokens are unaffected.
        const none = await attempt(h.target.wsUrl, `bypass-none-${c.variant}`, null);
        assert.deepEqual(none, { outcome: 'rejected_close', code: 1008, reason: 'Authentication required' });
      });
    }
  });

  test('accept-invalid=all accepts every variant, attributed to the claimed oid when there is one', async () => {
    await withTarget({ faults: parseFaults(['accept-invalid=all']), maxHeaderBytes: 65536 }, async (h) => {
      for (const c of tk.set.invalid.cases) {
        const a = await attempt(h.target.wsUrl, `all-${c.variant}`, c.token);
        assert.equal(a.outcome, 'accepted', c.variant);
        if (a.outcome === 'accepted') a.ws.close();
      }
      assert.equal(h.target.stats().acceptedBy.bypass_invalid, tk.set.invalid.cases.length);
    });
  });
});

test('accept-missing accepts missing and empty tokens as the POC user, still refuses invalid ones', async () => {
  await withTarget({ faults: parseFaults(['accept-missing']) }, async (h) => {
    for (const token of [null, '']) {
      const a = await attempt(h.target.wsUrl, `am-${token === null ? 'missing' : 'empty'}`, token);
      assert.equal(a.outcome === 'accepted' && a.first.user_id, 'poc-user');
      if (a.outcome === 'accepted') a.ws.close();
    }
    const bad = await attempt(h.target.wsUrl, 'am-bad', 'garbage');
    assert.equal(bad.outcome, 'rejected_close');
    assert.equal(h.target.stats().acceptedBy.bypass_missing, 2);
  });
});

test('misattribute=RATE attributes that fraction of sessions to another known user (events, log, memory)', async () => {
  await withTarget({ faults: parseFaults(['misattribute=0.5']), random: cycle(0.1, 0.0, 0.9) }, async (h) => {
    const owner = tk.set.pool.users[0]!;
    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      const sid = `mis-${i}`;
      const a = await attempt(h.target.wsUrl, sid, tk.valid(0));
      assert.equal(a.outcome, 'accepted');
      if (a.outcome !== 'accepted') continue;
      got.push(String(a.first.user_id));
      a.ws.close();
    }
    const wrong = got.filter((u) => u !== owner.oid);
    assert.equal(wrong.length, 2, 'half the sessions are misattributed');
    for (const u of wrong) assert.ok(tk.set.pool.users.some((p) => p.oid === u), 'to another KNOWN user');
    // random(): rate draw (0.1 -> misattribute), pick draw (0.0), then 0.9 -> not.
    // The memory record follows the wrong user: the owner's token gets 403 there.
    const idx = got.findIndex((u) => u !== owner.oid);
    const mem = await getJson(`${h.target.url}/api/v1/memory/sessions/mis-${idx}`, { Authorization: `Bearer ${tk.valid(0)}` });
    assert.equal(mem.status, 403);
    assert.equal(h.target.stats().faults.misattributed, 2);
    const rec = h.logs.parsed().find((r) => r.session_id === `mis-${idx}`);
    assert.equal(rec?.user_id, got[idx]);
  });
});

test('poc-fallback=RATE attributes valid sessions to the POC user', async () => {
  await withTarget({ faults: parseFaults(['poc-fallback=1']) }, async (h) => {
    const a = await attempt(h.target.wsUrl, 'pocf-1', tk.valid(1));
    assert.equal(a.outcome === 'accepted' && a.first.user_id, 'poc-user');
    if (a.outcome === 'accepted') a.ws.close();
  });
  await withTarget({ faults: parseFaults(['poc-fallback=0']) }, async (h) => {
    const a = await attempt(h.target.wsUrl, 'pocf-0', tk.valid(1));
    assert.equal(a.outcome === 'accepted' && a.first.user_id, tk.set.pool.users[1]!.oid);
    if (a.outcome === 'accepted') a.ws.close();
  });
});

test('handshake-delay=MS,JITTER delays every upgrade answer (accepted and rejected)', async () => {
  await withTarget({ faults: parseFaults(['handshake-delay=150,100']), random: () => 0.5 }, async (h) => {
    let t0 = performance.now();
    const a = await attempt(h.target.wsUrl, 'delay-ok', tk.valid(0));
    const okMs = performance.now() - t0;
    assert.equal(a.outcome, 'accepted');
    if (a.outcome === 'accepted') a.ws.close();
    t0 = performance.now();
    await attempt(h.target.wsUrl, 'delay-bad', 'garbage');
    const badMs = performance.now() - t0;
    assert.ok(okMs >= 195, `accepted after ${okMs} ms`);
    assert.ok(badMs >= 195, `rejected after ${badMs} ms`);
    assert.equal(h.target.stats().faults.delayed, 2);
  });
  await withTarget({}, async (h) => {
    const a = await attempt(h.target.wsUrl, 'nodelay', tk.valid(0));
    assert.equal(h.target.stats().faults.delayed, 0);
    if (a.outcome === 'accepted') a.ws.close();
  });
});

test('drop=RATE,AFTER closes that fraction of accepted sessions with 1011 after a while', async () => {
  await withTarget({ faults: parseFaults(['drop=0.5,120']), random: cycle(0.2, 0.5, 0.9, 0.5) }, async (h) => {
    // random() per session: the rate draw, then (if dropped) the jitter draw.
    const a = await attempt(h.target.wsUrl, 'drop-1', tk.valid(0));
    const b = await attempt(h.target.wsUrl, 'drop-2', tk.valid(1));
    assert.ok(a.outcome === 'accepted' && b.outcome === 'accepted');
    const t0 = performance.now();
    const closed = await waitClose(a.ws, 3000);
    const ms = performance.now() - t0;
    assert.deepEqual(closed, { code: 1011, reason: 'Internal error (injected drop)' });
    assert.ok(ms > 60, `dropped after ${ms} ms, not at once`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(b.ws.readyState, 1, 'the other session stays open');
    b.ws.close();
    assert.equal(h.target.stats().faults.dropped, 1);
  });
});

for (const style of ['close', 'http'] as const) {
  test(`capacity=N refuses sessions beyond N open ones (${style} style)`, async () => {
    await withTarget({ faults: parseFaults(['capacity=2']), rejectStyle: style }, async (h) => {
      const a = await attempt(h.target.wsUrl, `cap-${style}-1`, tk.valid(0));
      const b = await attempt(h.target.wsUrl, `cap-${style}-2`, tk.valid(1));
      assert.ok(a.outcome === 'accepted' && b.outcome === 'accepted');
      h.mustReject.add(`cap-${style}-3`);
      const c = await attempt(h.target.wsUrl, `cap-${style}-3`, tk.valid(2));
      if (style === 'close') assert.deepEqual(c, { outcome: 'rejected_close', code: 1013, reason: 'Try Again Later' });
      else assert.equal(c.outcome === 'rejected_http' && c.status, 503);
      a.ws.close();
      await waitClose(a.ws);
      await new Promise((r) => setTimeout(r, 50));
      const d = await attempt(h.target.wsUrl, `cap-${style}-4`, tk.valid(2));
      assert.equal(d.outcome, 'accepted', 'room again once one closed');
      if (d.outcome === 'accepted') d.ws.close();
      b.ws.close();
      h.assertGuard();
      assert.equal(h.target.stats().faults.capacityRefused, 1);
    });
  });
}

test('expire-close closes a session with 1008 "Token expired" when its exp passes', async () => {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const token = await tk.mint(0, { exp });
  const offset = exp * 1000 - 400 - Date.now(); // the target's clock: 400 ms before exp
  await withTarget({ faults: parseFaults(['expire-close']), now: () => Date.now() + offset }, async (h) => {
    const a = await attempt(h.target.wsUrl, 'exp-1', token);
    assert.equal(a.outcome, 'accepted');
    if (a.outcome !== 'accepted') return;
    const closed = await waitClose(a.ws, 3000);
    assert.deepEqual(closed, { code: 1008, reason: 'Token expired' });
    assert.equal(h.target.stats().faults.expiredClosed, 1);
  });
  // Without the fault the same session stays open past exp.
  await withTarget({ now: () => Date.now() + offset }, async (h) => {
    const a = await attempt(h.target.wsUrl, 'exp-2', token);
    assert.equal(a.outcome, 'accepted');
    await new Promise((r) => setTimeout(r, 700));
    if (a.outcome === 'accepted') {
      assert.equal(a.ws.readyState, 1);
      a.ws.close();
    }
  });
});

test('fault flags: bad values are user errors naming the flag', () => {
  for (const bad of ['misattribute=2', 'drop=x', 'capacity=-1', 'accept-invalid=', 'accept-missing=1', 'handshake-delay=a', 'warp=9']) {
    assert.throws(() => parseFaults([bad]), (e: Error) => e.name === 'UserError' && e.message.includes('fault'), bad);
  }
  const f = parseFaults(['accept-invalid=expired,garbage', 'handshake-delay=10', 'drop=0.1', 'capacity=5']);
  assert.deepEqual(f.acceptInvalid, new Set(['expired', 'garbage']));
  assert.deepEqual(f.handshakeDelay, { ms: 10, jitterMs: 0 });
  assert.deepEqual(f.drop, { rate: 0.1, afterMs: 2000 });
  assert.equal(f.capacity, 5);
});

test('accept-invalid with a variant name the target never reports is a user error, not a silent no-op', () => {
  for (const bad of ['accept-invalid=expird', 'accept-invalid=expired,nope']) {
    assert.throws(() => parseFaults([bad]), (e: Error) => e.name === 'UserError' && e.message.includes('expired') && !e.message.includes('\n'), bad);
  }
  // Every catalogue variant of the token toolkit is a known name.
  for (const c of tk.set.invalid.cases) assert.doesNotThrow(() => parseFaults([`accept-invalid=${c.variant}`]), c.variant);
  assert.doesNotThrow(() => parseFaults(['accept-invalid=repeated_token,alg_not_allowed,claim_invalid']));
});

test('delays beyond an hour are user errors (a Node timer would overflow and fire at once)', () => {
  for (const bad of ['handshake-delay=99999999999', 'handshake-delay=10,99999999999', 'drop=0.1,99999999999', 'handshake-delay=3600001']) {
    assert.throws(() => parseFaults([bad]), (e: Error) => e.name === 'UserError', bad);
  }
  assert.deepEqual(parseFaults(['handshake-delay=3600000,0']).handshakeDelay, { ms: 3_600_000, jitterMs: 0 });
});

test("expire-close closes only once exp has passed by the target's clock (a timer firing early, e.g. the clock set back or a >24.8-day timer capped, re-checks)", async () => {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const token = await tk.mint(0, { exp });
  let offset = exp * 1000 - 300 - Date.now(); // the target's clock: 300 ms before exp
  await withTarget({ faults: parseFaults(['expire-close']), now: () => Date.now() + offset }, async (h) => {
    const a = await attempt(h.target.wsUrl, 'exp-back', token);
    assert.equal(a.outcome, 'accepted');
    if (a.outcome !== 'accepted') return;
    offset -= 60_000; // the clock goes back a minute: exp is a minute away again
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(a.ws.readyState, 1, 'closed as expired although exp had not passed by the target clock');
    assert.equal(h.target.stats().faults.expiredClosed, 0);
    a.ws.close();
  });
});

test('/stats counts a misattribution or POC fallback only for sessions actually opened (not ones then refused for capacity)', async () => {
  for (const fault of ['misattribute=1', 'poc-fallback=1'] as const) {
    await withTarget({ faults: parseFaults([fault, 'capacity=1']) }, async (h) => {
      const a = await attempt(h.target.wsUrl, `cnt-${fault.slice(0, 3)}-1`, tk.valid(0));
      assert.equal(a.outcome, 'accepted');
      const b = await attempt(h.target.wsUrl, `cnt-${fault.slice(0, 3)}-2`, tk.valid(1));
      assert.deepEqual(b, { outcome: 'rejected_close', code: 1013, reason: 'Try Again Later' });
      const f = h.target.stats().faults;
      assert.equal(fault === 'misattribute=1' ? f.misattributed : f.pocFallback, 1, `${fault}: ${JSON.stringify(f)}`);
      assert.equal(f.capacityRefused, 1);
      if (a.outcome === 'accepted') a.ws.close();
    });
  }
});

