// The auth contract of the reference target: valid tokens accepted and attributed to their
// oid, every catalogue variant and the no-token cases rejected in both reject styles with
// the exact code/status and reason, the POC fallback, the log lines, the memory endpoint.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { attempt, getJson, rawExchange, upgradeRequest } from '../helpers/target-client.ts';
import { assertNoSecrets, startHarness, type Harness } from '../helpers/target-harness.ts';
import { testTokens, type TestTokens } from '../helpers/target-tokens.ts';

let tk: TestTokens;
before(async () => {
  tk = await testTokens();
});
after(async () => {
  await tk.cleanup();
});

describe('valid tokens', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(tk);
  });
  after(() => h.close());

  test('accepted and attributed to the oid: first event and memory endpoint agree', async () => {
    for (const i of [0, 1, 2]) {
      const user = tk.set.pool.users[i]!;
      const sid = `valid-${i}-${Date.now()}`;
      const a = await attempt(h.target.wsUrl, sid, tk.valid(i));
      assert.equal(a.outcome, 'accepted');
      if (a.outcome !== 'accepted') return;
      assert.deepEqual(a.first, {
        type: 'session.created',
        session_id: sid,
        user_id: user.oid,
        user: { id: user.oid, email: user.email, display_name: user.name },
      });
      const mem = await getJson(`${h.target.url}/api/v1/memory/sessions/${sid}`, { Authorization: `Bearer ${tk.valid(i)}` });
      assert.equal(mem.status, 200);
      assert.deepEqual(mem.body, { session_id: sid, user_id: user.oid, metadata: { email: user.email, display_name: user.name } });
      a.ws.close();
    }
    const s = h.target.stats();
    assert.equal(s.acceptedBy.token, 3);
    assert.equal(s.rejected, 0);
  });

  test('memory endpoint: 401 without or with a bad token, 403 for another user, 404 unknown, 400 bad id', async () => {
    const sid = `mem-${Date.now()}`;
    const a = await attempt(h.target.wsUrl, sid, tk.valid(0));
    assert.equal(a.outcome, 'accepted');
    const url = `${h.target.url}/api/v1/memory/sessions/${sid}`;
    const none = await getJson(url);
    assert.equal(none.status, 401);
    assert.deepEqual(Object.keys(none.body), ['error']);
    const bad = await getJson(url, { Authorization: `Bearer ${tk.set.invalid.cases.find((c) => c.variant === 'expired')!.token}` });
    assert.equal(bad.status, 401);
    const other = await getJson(url, { Authorization: `Bearer ${tk.valid(1)}` });
    assert.equal(other.status, 403);
    assert.equal(JSON.stringify(other.body).includes(tk.set.pool.users[0]!.oid), false, 'a 403 must not reveal the owner');
    assert.equal(JSON.stringify(other.body).includes(tk.set.pool.users[0]!.email), false);
    const unknown = await getJson(`${h.target.url}/api/v1/memory/sessions/never-opened`, { Authorization: `Bearer ${tk.valid(0)}` });
    assert.equal(unknown.status, 404);
    const badId = await getJson(`${h.target.url}/api/v1/memory/sessions/a%2Fb`, { Authorization: `Bearer ${tk.valid(0)}` });
    assert.equal(badId.status, 400);
    if (a.outcome === 'accepted') a.ws.close();
  });

  test('log line per accepted session, JSON, without any token', async () => {
    const sid = `log-${Date.now()}`;
    const a = await attempt(h.target.wsUrl, sid, tk.valid(2));
    assert.equal(a.outcome, 'accepted');
    if (a.outcome === 'accepted') a.ws.close();
    const rec = h.logs.parsed().find((r) => r.session_id === sid);
    assert.ok(rec);
    assert.equal(rec.event, 'authenticated');
    assert.equal(rec.level, 'INFO');
    assert.equal(rec.msg, `VoiceLive WebSocket: Authenticated user ${tk.set.pool.users[2]!.oid} for session ${sid}`);
    assertNoSecrets(h.logs.lines, [tk.valid(0), tk.valid(1), tk.valid(2)]);
  });

  test('session ids are checked before anything else: bad ids get HTTP 400, never a WebSocket', async () => {
    for (const bad of ['a'.repeat(65), 'has%20space', 'sl%2Fash', '..', 'semi;colon']) {
      const r = await rawExchange(h.target.port, upgradeRequest(`/api/v1/voice/voicelive/${bad}?token=${encodeURIComponent(tk.valid(0))}`));
      assert.equal(r.status, 400, bad);
    }
    const ok64 = await attempt(h.target.wsUrl, 'A'.repeat(64), tk.valid(0));
    assert.equal(ok64.outcome, 'accepted');
    if (ok64.outcome === 'accepted') ok64.ws.close();
    const notFound = await rawExchange(h.target.port, upgradeRequest('/api/v1/voice/other/x'));
    assert.equal(notFound.status, 404);
  });
});

for (const style of ['close', 'http'] as const) {
  describe(`rejections, reject-style ${style}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(tk, { rejectStyle: style });
    });
    after(() => h.close());

    test('every catalogue variant is rejected with the exact code and reason (or status)', async () => {
      const cases = tk.set.invalid.cases;
      assert.ok(cases.length >= 14, 'the catalogue has every contract variant');
      for (const c of cases) {
        const sid = `rej-${style}-${c.variant}`;
        h.mustReject.add(sid);
        const a = await attempt(h.target.wsUrl, sid, c.token);
        if (c.variant === 'oversized') {
          // Over the 16 KiB request limit: refused by the HTTP parser in both styles.
          assert.equal(a.outcome, 'rejected_http', c.variant);
          if (a.outcome === 'rejected_http') assert.ok(c.expected.httpStatuses.includes(a.status) && a.status === 414, `${c.variant}: ${a.status}`);
          continue;
        }
        if (style === 'close') {
          assert.deepEqual(a, { outcome: 'rejected_close', code: c.expected.closeCode, reason: c.expected.reason }, c.variant);
        } else {
          assert.equal(a.outcome, 'rejected_http', c.variant);
          if (a.outcome === 'rejected_http') assert.equal(a.status, 403, c.variant);
        }
      }
      h.assertGuard();
      const s = h.target.stats();
      assert.equal(s.accepted, 0);
      assert.equal(s.rejected, cases.length - 1);
      assert.equal(s.rejectedByReason['Invalid token'], cases.length - 1);
      assert.equal(s.rejectedByStyle[style], cases.length - 1);
      const logged = h.logs.parsed().filter((r) => r.event === 'invalid_token');
      assert.equal(logged.length, cases.length - 1);
      for (const r of logged) assert.equal(r.msg, `VoiceLive WebSocket: Token validation failed for session ${String(r.session_id)}: Invalid token`);
      assertNoSecrets(h.logs.lines, cases.map((c) => c.token));
    });

    test('the target names each catalogue variant by its failure kind', () => {
      const byKind = h.target.stats().invalidByKind;
      // tampered_claims and embedded_jwk_header fail the signature like bad_signature does.
      assert.equal(byKind.bad_signature, 3);
      for (const k of ['expired', 'not_yet_valid', 'wrong_issuer', 'missing_oid', 'malformed', 'truncated', 'garbage', 'hs256_key_confusion']) assert.equal(byKind[k], 1, k);
      assert.equal(byKind.wrong_audience, 2);
      assert.equal(byKind.alg_none, 2);
      assert.equal(byKind.unknown_key, 3);
    });

    test('no token (missing and empty ?token=) gets "Authentication required"', async () => {
      for (const [variant, token] of [['missing', null], ['empty', '']] as const) {
        const sid = `rej-${style}-notoken-${variant}`;
        h.mustReject.add(sid);
        const a = await attempt(h.target.wsUrl, sid, token);
        if (style === 'close') assert.deepEqual(a, { outcome: 'rejected_close', code: 1008, reason: 'Authentication required' }, variant);
        else assert.equal(a.outcome === 'rejected_http' && a.status, 403, variant);
        const rec = h.logs.parsed().find((r) => r.session_id === sid);
        assert.equal(rec?.msg, `VoiceLive WebSocket: Authentication required but no token provided for session ${sid}`);
        assert.equal(rec?.level, 'WARNING');
      }
      h.assertGuard();
    });

    test('an http-style refusal carries no close frame and no 101', async () => {
      if (style !== 'http') return;
      const r = await rawExchange(h.target.port, upgradeRequest('/api/v1/voice/voicelive/rej-raw?token=garbage'));
      assert.equal(r.status, 403);
      assert.ok(!r.text.includes('101'));
      assert.ok(r.closedByServer);
    });
  });
}

describe('AUTH_REQUIRED=false', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(tk, { authRequired: false });
  });
  after(() => h.close());

  test('no token or an invalid token becomes the POC user; a valid token keeps its oid', async () => {
    for (const [name, token] of [['missing', null], ['empty', ''], ['invalid', tk.set.invalid.cases[0]!.token]] as const) {
      const sid = `poc-${name}`;
      const a = await attempt(h.target.wsUrl, sid, token);
      assert.equal(a.outcome, 'accepted', name);
      if (a.outcome !== 'accepted') continue;
      assert.equal(a.first.user_id, 'poc-user');
      a.ws.close();
    }
    const v = await attempt(h.target.wsUrl, 'poc-valid', tk.valid(1));
    assert.equal(v.outcome === 'accepted' && v.first.user_id, tk.set.pool.users[1]!.oid);
    if (v.outcome === 'accepted') v.ws.close();
    assert.equal(h.target.stats().acceptedBy.poc_fallback, 3);
    const rec = h.logs.parsed().find((r) => r.session_id === 'poc-missing');
    assert.equal(rec?.msg, 'VoiceLive WebSocket: Authenticated user poc-user for session poc-missing');
    assert.equal(rec?.auth, 'poc_fallback');
  });
});

describe('plain log format', () => {
  test('the three seed lines, verbatim', async () => {
    const h = await startHarness(tk, { logFormat: 'plain' });
    try {
      const ok = await attempt(h.target.wsUrl, 'plain-ok', tk.valid(0));
      if (ok.outcome === 'accepted') ok.ws.close();
      await attempt(h.target.wsUrl, 'plain-none', null);
      await attempt(h.target.wsUrl, 'plain-bad', 'x.y.z');
      assert.deepEqual(h.logs.lines, [
        `INFO: VoiceLive WebSocket: Authenticated user ${tk.set.pool.users[0]!.oid} for session plain-ok`,
        'WARNING: VoiceLive WebSocket: Authentication required but no token provided for session plain-none',
        'WARNING: VoiceLive WebSocket: Token validation failed for session plain-bad: Invalid token',
      ]);
    } finally {
      await h.close();
    }
  });
});

describe('verification is pinned', () => {
  test('other algorithms with the trusted key, no exp/iss/aud, a near-miss issuer are invalid; an aud list with ours and nbf inside the tolerance pass', async () => {
    const { SignJWT, importPKCS8 } = await import('jose');
    const u = tk.set.pool.users[0]!;
    const kid = tk.set.jwks.keys[0]!.kid as string;
    const now = Math.floor(Date.now() / 1000);
    const base = { iss: tk.set.pool.issuer, aud: tk.set.pool.audience, oid: u.oid, name: u.name, email: u.email, iat: now, nbf: now - 300, exp: now + 3600 };
    const signAs = async (alg: string, claims: Record<string, unknown> = base): Promise<string> => {
      const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
      return new SignJWT(payload).setProtectedHeader({ alg, kid }).sign(await importPKCS8(tk.set.privateKeyPem, alg));
    };
    const h = await startHarness(tk);
    try {
      const refused: Array<[string, string, string]> = [
        ['RS384', await signAs('RS384'), 'alg_not_allowed'],
        ['PS256', await signAs('PS256'), 'alg_not_allowed'],
        ['no exp', await signAs('RS256', { ...base, exp: undefined }), 'claim_invalid'],
        ['no iss', await signAs('RS256', { ...base, iss: undefined }), 'wrong_issuer'],
        ['no aud', await signAs('RS256', { ...base, aud: undefined }), 'wrong_audience'],
        ['iss + "/"', await signAs('RS256', { ...base, iss: `${tk.set.pool.issuer}/` }), 'wrong_issuer'],
        ['nbf 40 s ahead', await signAs('RS256', { ...base, nbf: now + 40 }), 'not_yet_valid'],
        ['exp as a string', await signAs('RS256', { ...base, exp: String(now + 3600) }), 'claim_invalid'],
        ['numeric oid', await signAs('RS256', { ...base, oid: 12345 }), 'missing_oid'],
      ];
      for (const [name, token, kind] of refused) {
        const sid = `pin-${name.replace(/[^a-z0-9]/gi, '')}`;
        h.mustReject.add(sid);
        const before = h.target.stats().invalidByKind[kind] ?? 0;
        const a = await attempt(h.target.wsUrl, sid, token);
        assert.deepEqual(a, { outcome: 'rejected_close', code: 1008, reason: 'Invalid token' }, name);
        assert.equal(h.target.stats().invalidByKind[kind], before + 1, `${name} classified as ${kind}`);
      }
      for (const [name, token] of [
        ['aud list with ours', await signAs('RS256', { ...base, aud: ['api://other', tk.set.pool.audience] })],
        ['nbf 20 s ahead', await signAs('RS256', { ...base, nbf: now + 20 })],
      ] as const) {
        const a = await attempt(h.target.wsUrl, `pin-ok-${name.replace(/[^a-z0-9]/gi, '')}`, token);
        assert.equal(a.outcome === 'accepted' && a.first.user_id, u.oid, name);
        if (a.outcome === 'accepted') a.ws.close();
      }
      h.assertGuard();
    } finally {
      await h.close();
    }
  });
});

describe('log forging', () => {
  test('a user id with control characters cannot forge or split a plain log line', async () => {
    const forged = 'a\nINFO: VoiceLive WebSocket: Authenticated user evil for session x\r\u001b[2K';
    const token = await tk.mint(0, { oid: forged });
    for (const format of ['plain', 'json'] as const) {
      const h = await startHarness(tk, { logFormat: format });
      try {
        const a = await attempt(h.target.wsUrl, `forge-${format}`, token);
        assert.equal(a.outcome === 'accepted' && a.first.user_id, forged, 'the user id itself is kept as the token says');
        if (a.outcome === 'accepted') a.ws.close();
        assert.equal(h.logs.lines.length, 1);
        // eslint-disable-next-line no-control-regex
        for (const line of h.logs.lines) assert.ok(!/[\u0000-\u001f\u007f]/.test(line), `${format}: a control character reached a log line: ${JSON.stringify(line)}`);
      } finally {
        await h.close();
      }
    }
  });
});

describe('clock', () => {
  test('an injected clock decides expiry, with the documented 30 s tolerance', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const token = await tk.mint(3, { exp });
    let nowMs = (exp + 20) * 1000; // 20 s past exp: inside the tolerance
    const h = await startHarness(tk, { now: () => nowMs });
    try {
      const a = await attempt(h.target.wsUrl, 'clock-1', token);
      assert.equal(a.outcome, 'accepted');
      if (a.outcome === 'accepted') a.ws.close();
      nowMs = (exp + 31) * 1000;
      const b = await attempt(h.target.wsUrl, 'clock-2', token);
      assert.deepEqual(b, { outcome: 'rejected_close', code: 1008, reason: 'Invalid token' });
      assert.equal(h.target.stats().invalidByKind.expired, 1);
    } finally {
      await h.close();
    }
  });
});

describe('JWKS from a URL (loopback)', () => {
  test('keys fetched from the URL verify valid tokens; unknown keys are still refused and never fetched from the token', async () => {
    const { createServer } = await import('node:http');
    let hits = 0;
    const jwksServer = createServer((req, res) => {
      hits++;
      res.writeHead(req.url === '/keys' ? 200 : 404, { 'Content-Type': 'application/json' });
      res.end(req.url === '/keys' ? JSON.stringify(tk.set.jwks) : '{}');
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', () => r()));
    const addr = jwksServer.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const h = await startHarness(tk, { jwks: `http://127.0.0.1:${port}/keys` });
    try {
      const a = await attempt(h.target.wsUrl, 'remote-ok', tk.valid(0));
      assert.equal(a.outcome === 'accepted' && a.first.user_id, tk.set.pool.users[0]!.oid);
      if (a.outcome === 'accepted') a.ws.close();
      const jku = tk.set.invalid.cases.find((c) => c.variant === 'jku_header_injection')!;
      const b = await attempt(h.target.wsUrl, 'remote-jku', jku.token);
      assert.deepEqual(b, { outcome: 'rejected_close', code: 1008, reason: 'Invalid token' });
      assert.ok(hits >= 1);
    } finally {
      await h.close();
      jwksServer.closeAllConnections();
      await new Promise<void>((r) => jwksServer.close(() => r()));
    }
  });
});
