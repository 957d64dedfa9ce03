// The smoke bundle against ROGUE backends that refuse (or fail to refuse) bad tokens in ways
// our reference target never does: wrong reasons, wrong codes, late or crossed closes, HTTP
// statuses of every kind, broken handshakes, wire-level endings, a status probe that is
// answered differently from the socket. Each case checks the exit code, the per-class counts
// and that the summary names the problem; every run is scanned for tokens. Valid sessions are
// served correctly here (test/scenarios/rogue-sessions.test.ts breaks those).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RoguePlan, RogueRequest } from '../helpers/rogue-server.ts';
import { describeCases, rogueSuite, type RogueCase, type RogueSuite } from '../helpers/rogue-run.ts';
import type { CaseRun } from '../helpers/scenario-run.ts';

let suite: Promise<RogueSuite> | null = null;
const getSuite = () => (suite ??= rogueSuite());
before(() => void getSuite());
after(async () => (await getSuite()).cleanup());

const N_NO_TOKEN = 2;
let nInvalid = 0;
before(async () => {
  nInvalid = (await getSuite()).set.invalid.cases.length;
});

/** Only bad tokens get `plan`; valid ones are served correctly. */
const bad = (plan: (r: RogueRequest) => RoguePlan | undefined) => (r: RogueRequest) => (r.kind === 'valid' ? undefined : plan(r));
const closeWith = (code?: number, reason?: string): RoguePlan => ({ kind: 'accept', then: (s) => (code === undefined ? s.ws.close() : s.ws.close(code, reason)) });
const raw = (text: string): RoguePlan => ({ kind: 'raw', text });

function rows(r: CaseRun, authCase?: string) {
  const rep = r.report;
  assert.ok(rep, 'summary.json written');
  return rep.variants.filter((v) => authCase === undefined || v.authCase === authCase);
}

function everyRow(r: CaseRun, want: { rejected: number; bypass: number; mismatch: number }, authCase?: string): void {
  const rs = rows(r, authCase);
  assert.equal(rs.length, authCase === 'no_token' ? N_NO_TOKEN : authCase === 'invalid' ? nInvalid : N_NO_TOKEN + nInvalid);
  for (const v of rs) {
    assert.equal(v.attempts, 1, `${v.authCase}/${v.variant} attempted once`);
    assert.deepEqual({ rejected: v.rejected, bypass: v.bypass, mismatch: v.mismatch }, want, `${v.authCase}/${v.variant}`);
  }
}

function fails(r: CaseRun, ...named: RegExp[]): void {
  assert.equal(r.exitCode, 99, 'exit 99');
  assert.match(r.stdout, /voicelive smoke: FAIL/);
  for (const re of named) assert.match(r.stdout, re);
}

function validUntouched(r: CaseRun): void {
  const v = r.report!.valid;
  assert.deepEqual([v.attempts, v.falseRejections, v.errors, v.attributionErrors, v.attributionUnverified], [3, 0, 0, 0, 0], 'valid sessions served correctly');
}

const cases: RogueCase[] = [
  {
    name: '1008 with "invalid token" (lowercase) for bad tokens is a mismatch, still a rejection',
    behaviour: bad((r) => closeWith(1008, r.kind === 'invalid' ? 'invalid token' : 'Authentication required')),
    expect: (r) => {
      fails(r, /MISMATCH: invalid\/expired was refused with the wrong close code, HTTP status, reason or style in 1 of 1 attempt/);
      everyRow(r, { rejected: 1, bypass: 0, mismatch: 1 }, 'invalid');
      everyRow(r, { rejected: 1, bypass: 0, mismatch: 0 }, 'no_token');
      assert.equal(r.report!.totals.mismatch, nInvalid);
      assert.match(r.stderr, /MISMATCH: invalid\/\w+ session r\w+-ux-in-i\d+-v\d+ was refused with close 1008 \\"invalid token\\"/);
      validUntouched(r);
    },
  },
  {
    name: '1008 "Authentication required" for a bad token and "Invalid token" for a missing one are mismatches',
    behaviour: bad((r) => closeWith(1008, r.kind === 'invalid' ? 'Authentication required' : 'Invalid token')),
    expect: (r) => {
      fails(r, /MISMATCH: no_token\/missing/, /MISMATCH: invalid\/alg_none/);
      everyRow(r, { rejected: 1, bypass: 0, mismatch: 1 });
    },
  },
  {
    name: '1008 with an empty reason is a mismatch',
    behaviour: bad(() => closeWith(1008)),
    expect: (r) => {
      fails(r, /MISMATCH: no_token\/empty/);
      everyRow(r, { rejected: 1, bypass: 0, mismatch: 1 });
    },
  },
  {
    name: '1000 / 1001 right after open for bad tokens: closed, but neither a rejection nor a bypass: a mismatch',
    behaviour: bad((r) => closeWith(r.kind === 'no_token' ? 1000 : 1001, r.kind === 'no_token' ? '' : 'Invalid token')),
    expect: (r) => {
      fails(r, /MISMATCH: no_token\/missing/, /MISMATCH: invalid\/expired/);
      everyRow(r, { rejected: 0, bypass: 0, mismatch: 1 });
      assert.equal(r.report!.totals.bypass, 0);
    },
  },
  {
    name: 'bad tokens accepted silently and never closed are bypasses, one per attempt',
    behaviour: bad((r) => (r.kind === 'invalid' ? { kind: 'accept', then: () => {} } : undefined)),
    expect: (r) => {
      fails(r, /BYPASS: invalid\/expired was accepted in 1 of 1 attempt/, /BYPASS: invalid\/garbage was accepted/);
      everyRow(r, { rejected: 0, bypass: 1, mismatch: 0 }, 'invalid');
      everyRow(r, { rejected: 1, bypass: 0, mismatch: 0 }, 'no_token');
      assert.equal(r.report!.totals.bypass, nInvalid, 'each bypass counted once');
    },
  },
  {
    name: 'bad token served a session event with a user id, then closed 1008: a bypass, not a correct rejection',
    behaviour: bad((r) => ({
      kind: 'accept',
      then: (s) => {
        s.sessionCreated('poc-user');
        setTimeout(() => s.ws.close(1008, r.kind === 'invalid' ? 'Invalid token' : 'Authentication required'), 100);
      },
    })),
    expect: (r) => {
      fails(r, /BYPASS: no_token\/missing was accepted in 1 of 1 attempt/, /BYPASS: invalid\/expired was accepted/);
      everyRow(r, { rejected: 0, bypass: 1, mismatch: 0 });
      assert.equal(r.report!.totals.bypass, N_NO_TOKEN + nInvalid);
      assert.match(r.stderr, /was served as a user \(a server event carried a user id at \\"user_id\\"\)/);
    },
  },
  {
    name: "a server 1008 that crosses the client's own close at the end of the wait is a (late) rejection, not a bypass",
    behaviour: bad((r) => ({
      kind: 'accept',
      // Holds the socket and answers the client's close frame with its 1008 instead of an echo.
      then: (s) => s.socket.prependOnceListener('data', () => s.ws.close(1008, r.kind === 'invalid' ? 'Invalid token' : 'Authentication required')),
    })),
    expect: (r) => {
      assert.equal(r.exitCode, 0, 'exit 0');
      everyRow(r, { rejected: 1, bypass: 0, mismatch: 0 });
    },
  },
  {
    name: 'HTTP 401 with a JSON body is a correct refusal (http style)',
    behaviour: bad(() => ({ kind: 'http', status: 401, body: '{"detail":"Invalid token"}', headers: { 'Content-Type': 'application/json' } })),
    env: { VOICE_REJECT_STYLE: 'http' },
    expect: (r) => {
      assert.equal(r.exitCode, 0);
      everyRow(r, { rejected: 1, bypass: 0, mismatch: 0 });
    },
  },
  {
    name: 'HTTP 400 and 404 refusals are mismatches, never rejections',
    behaviour: bad((r) => ({ kind: 'http', status: r.kind === 'no_token' ? 404 : 400 })),
    expect: (r) => {
      fails(r, /MISMATCH: no_token\/missing/, /MISMATCH: invalid\/expired/);
      everyRow(r, { rejected: 0, bypass: 0, mismatch: 1 });
      assert.match(r.stderr, /refused with HTTP 404/);
      assert.match(r.stderr, /refused with HTTP 400/);
    },
  },
  {
    name: 'HTTP 429, 500, 502 and 503 refusals are errors, never rejections, and the summary names the statuses',
    behaviour: bad((r) => ({ kind: 'http', status: r.kind === 'no_token' ? 429 : [500, 502, 503][r.sessionId.length % 3]! })),
    expect: (r) => {
      fails(r, /NOT REFUSED CORRECTLY: no_token\/missing: 1 of 1 attempt ended in an error/, /HTTP 429 ON THE UPGRADE: 2 no_token upgrades answered 429/);
      everyRow(r, { rejected: 0, bypass: 0, mismatch: 0 });
      assert.deepEqual([r.report!.totals.noTokenErrors, r.report!.totals.invalidErrors], [N_NO_TOKEN, nInvalid]);
    },
  },
  {
    name: '200 OK and a 302 redirect instead of 101 are mismatches, never rejections',
    behaviour: bad((r) =>
      r.kind === 'no_token'
        ? raw('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello')
        : raw('HTTP/1.1 302 Found\r\nLocation: /login\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
    ),
    expect: (r) => {
      fails(r, /MISMATCH: no_token\/missing/, /MISMATCH: invalid\/expired/);
      everyRow(r, { rejected: 0, bypass: 0, mismatch: 1 });
      assert.match(r.stderr, /refused with HTTP 200/);
      assert.match(r.stderr, /refused with HTTP 302/);
    },
  },
  {
    name: '101 with a wrong Sec-WebSocket-Accept is an error, not a rejection',
    behaviour: bad(() => ({ kind: 'accept', badAcceptKey: true })),
    expect: (r) => {
      fails(r, /NOT REFUSED CORRECTLY: invalid\/expired/);
      everyRow(r, { rejected: 0, bypass: 0, mismatch: 0 });
      assert.deepEqual([r.report!.totals.noTokenErrors, r.report!.totals.invalidErrors], [N_NO_TOKEN, nInvalid]);
    },
  },
  {
    name: 'accept then TCP reset, FIN without a close frame (1006) or an empty close frame (1005): errors, not rejections',
    behaviour: bad((r) => ({
      kind: 'accept',
      then: (s) => {
        const k = r.kind === 'no_token' ? 0 : (r.sessionId.length % 3);
        setTimeout(() => (k === 0 ? s.socket.resetAndDestroy() : k === 1 ? s.socket.end() : s.ws.close()), 30);
      },
    })),
    expect: (r) => {
      fails(r, /NOT REFUSED CORRECTLY: no_token\/missing/);
      everyRow(r, { rejected: 0, bypass: 0, mismatch: 0 });
      assert.deepEqual([r.report!.totals.noTokenErrors, r.report!.totals.invalidErrors], [N_NO_TOKEN, nInvalid]);
    },
  },
  {
    name: 'status probe answered 503 (or 101) while the socket got 403: an error, never a rejection',
    behaviour: bad((r) => (r.nth === 1 ? { kind: 'http', status: 403 } : r.kind === 'no_token' ? { kind: 'accept', then: () => {} } : { kind: 'http', status: 503 })),
    expect: (r) => {
      fails(r, /NOT REFUSED CORRECTLY: invalid\/expired/);
      everyRow(r, { rejected: 0, bypass: 0, mismatch: 0 });
    },
  },
  {
    name: 'socket answered 503 while the status probe got 403: not a correct rejection',
    behaviour: bad((r) => ({ kind: 'http', status: r.nth === 1 ? 503 : 403 })),
    expect: (r) => {
      fails(r, /HTTP 503 ON THE UPGRADE: 2 no_token upgrades answered 503/, new RegExp(`HTTP 503 ON THE UPGRADE: ${nInvalid} invalid upgrades answered 503`));
    },
  },
  {
    name: 'a status probe that fails on the wire logs nothing (k6 would print its URL, token included)',
    behaviour: bad((r) => (r.nth === 1 ? { kind: 'http', status: 403 } : raw(''))),
    expect: (r) => {
      fails(r, /NOT REFUSED CORRECTLY: invalid\/expired/);
      assert.doesNotMatch(r.stderr, /Request Failed/);
      assert.doesNotMatch(r.stderr, /token=/);
    },
  },
];

describeCases(test, getSuite, cases);
