// The smoke bundle against ROGUE backends that mistreat VALID sessions: refused or closed
// early in every way the wire allows, first events missing, late, unreadable or naming the
// wrong user or session, pings and huge messages, slow handshakes. Bad tokens are refused
// correctly here (test/scenarios/rogue-refusals.test.ts breaks those). Each case checks the
// exit code, the valid-session counts and that the summary names the problem.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { serveValid, type RoguePlan, type RogueRequest, type RogueSocket } from '../helpers/rogue-server.ts';
import { describeCases, rogueSuite, type RogueCase, type RogueSuite } from '../helpers/rogue-run.ts';
import type { CaseRun } from '../helpers/scenario-run.ts';

let suite: Promise<RogueSuite> | null = null;
const getSuite = () => (suite ??= rogueSuite());
after(async () => (await getSuite()).cleanup());

/** Only valid tokens get `plan`; bad ones are refused correctly. */
const valid = (plan: (r: RogueRequest) => RoguePlan | undefined) => (r: RogueRequest) => (r.kind === 'valid' ? plan(r) : undefined);
const accept = (then: (s: RogueSocket) => void, delayMs?: number): RoguePlan => ({ kind: 'accept', then, ...(delayMs ? { delayMs } : {}) });
/** No agent selection and no audio: the client sends nothing, the server's close is all the wire shows. */
const QUIET = { VOICE_AGENT_ID: '', VOICE_AUDIO: 'off' };

function v(r: CaseRun) {
  assert.ok(r.report, 'summary.json written');
  return r.report.valid;
}

function fails(r: CaseRun, ...named: RegExp[]): void {
  assert.equal(r.exitCode, 99, 'exit 99');
  assert.match(r.stdout, /voicelive smoke: FAIL/);
  for (const re of named) assert.match(r.stdout, re);
  const rep = r.report!;
  assert.equal(rep.totals.bypass + rep.totals.mismatch, 0, 'bad tokens were refused correctly');
}

const cases: RogueCase[] = [
  {
    name: 'load: no shortened session at the end of the run (a correct but slower server stays verified) and no spinning VUs',
    profile: 'load',
    // The server names the user 600 ms after open; sessions hold 1 s. With 2.6 s of load,
    // the second session of each VU could only have been held for about 0.4 s.
    behaviour: valid(() => accept((s) => {
      serveValid(s, false);
      setTimeout(() => s.ws.readyState === 1 && s.sessionCreated(), 600);
    })),
    env: { VOICE_DURATION: '2600ms', VOICE_AGENT_ID: '' },
    compare: (r) => ({ exit: r.exitCode, attempts: r.report?.valid.attempts, unverified: r.report?.valid.attributionUnverified }),
    expect: (r) => {
      assert.equal(r.exitCode, 0, 'exit 0');
      assert.deepEqual([v(r).attempts, v(r).attributionUnverified, v(r).attributionChecked], [2, 0, 2]);
      const iterations = (r.files['out.json'] ?? '').split('\n').filter((l) => l.includes('"metric":"iterations"') && l.includes('"scenario":"valid"') && l.includes('"type":"Point"')).length;
      assert.ok(iterations <= 8, `valid VUs ran ${iterations} iterations: they spun instead of waiting`);
    },
  },
  {
    name: 'a valid token closed with 1008 "Invalid token" right after open is a false rejection',
    behaviour: valid(() => accept((s) => s.ws.close(1008, 'Invalid token'))),
    env: QUIET,
    expect: (r) => {
      fails(r, /FALSE REJECTIONS: 3 of 3 valid-token attempts were refused/);
      assert.equal(v(r).falseRejections, 3);
      assert.equal(v(r).attributionUnverified, 0, 'a refused session is not an unverified one');
    },
  },
  {
    name: 'valid tokens refused with HTTP 503 are errors; with 200 OK instead of 101 they are false rejections',
    behaviour: valid((r) => (r.sessionId.includes('-u1-') ? { kind: 'raw', text: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok' } : { kind: 'http', status: 503 })),
    expect: (r) => {
      fails(r, /ERRORS: 2 of 3 valid-token attempts ended in an error/, /FALSE REJECTIONS: 1 of 3/);
      assert.deepEqual([v(r).errors, v(r).falseRejections, v(r).attributionErrors], [2, 1, 0]);
    },
  },
  {
    name: 'valid sessions closed mid-stream with 1011 are unexpected closes and errors',
    behaviour: valid(() => accept((s) => {
      serveValid(s);
      setTimeout(() => s.ws.close(1011, 'internal error'), 300);
    })),
    expect: (r) => {
      fails(r, /UNEXPECTED CLOSES: the server closed 3 valid sessions before the client ended it/, /ERRORS: 3 of 3/);
      assert.deepEqual([v(r).unexpectedCloses, v(r).errors, v(r).falseRejections, v(r).attributionErrors], [3, 3, 0, 0]);
    },
  },
  {
    name: 'valid sessions ended by a TCP reset, a FIN without close frame or an empty close frame are unexpected closes',
    behaviour: valid((r) => accept((s) => {
      serveValid(s);
      const k = Number(/-u(\d+)-/.exec(r.sessionId)?.[1] ?? 0) % 3;
      setTimeout(() => (k === 0 ? s.socket.resetAndDestroy() : k === 1 ? s.socket.end() : s.ws.close()), 300);
    })),
    expect: (r) => {
      fails(r, /UNEXPECTED CLOSES: the server closed 3 valid sessions/);
      assert.deepEqual([v(r).unexpectedCloses, v(r).errors], [3, 3]);
    },
  },
  {
    name: 'no first event, a late one (after the session ended), a non-JSON or a binary one: unverified, never correct',
    behaviour: valid((r) => accept((s) => {
      serveValid(s, false);
      const k = Number(/-u(\d+)-/.exec(r.sessionId)?.[1] ?? 0) % 3;
      if (k === 0) setTimeout(() => s.ws.readyState === 1 && s.sessionCreated(), 2500);
      if (k === 1) s.ws.send('hello, not json');
      if (k === 2) s.ws.send(Buffer.from(JSON.stringify({ type: 'session.created', user_id: r.oid })));
    })),
    env: { VOICE_AGENT_ID: '' },
    expect: (r) => {
      fails(r, /UNVERIFIED ATTRIBUTION: 3 valid sessions showed no user id \(event mode\)/);
      assert.deepEqual([v(r).attributionUnverified, v(r).attributionChecked, v(r).attributionErrors], [3, 0, 0]);
    },
  },
  {
    name: 'user id at another JSON path: unverified by default, verified with VOICE_ATTRIBUTION_PATH',
    behaviour: valid((r) => accept((s) => s.ws.send(JSON.stringify({ type: 'session.created', session: r.sessionId, user: { id: r.oid } })))),
    env: { VOICE_AGENT_ID: '' },
    expect: (r) => {
      fails(r, /UNVERIFIED ATTRIBUTION: 3 valid sessions/);
      assert.equal(v(r).attributionUnverified, 3);
    },
  },
  {
    name: 'user id at another JSON path, configured: the run passes',
    behaviour: valid((r) => accept((s) => s.ws.send(JSON.stringify({ type: 'session.created', session: r.sessionId, user: { id: r.oid } })))),
    env: { VOICE_AGENT_ID: '', VOICE_ATTRIBUTION_PATH: 'user.id' },
    expect: (r) => {
      assert.equal(r.exitCode, 0);
      assert.deepEqual([v(r).attributionChecked, v(r).attributionErrors], [3, 0]);
    },
  },
  {
    name: 'the right user but another session id in the first event is an attribution error (wrong session)',
    behaviour: valid((r) => accept((s) => {
      s.ws.send(JSON.stringify({ type: 'session.created', session_id: `${r.sessionId}-other`, user_id: r.oid }));
      serveValid(s, false);
    })),
    expect: (r) => {
      fails(r, /MISATTRIBUTED: 3 of 3 verified valid sessions .*3 the right user but another session id/);
      assert.deepEqual([v(r).attributionErrors, v(r).wrongSession, v(r).wrongUser], [3, 3, 0]);
    },
  },
  {
    name: 'http attribution: a memory record naming another session is wrong_session; a 500 leaves the session unverified',
    behaviour: () => undefined,
    memory: (q) => (q.sessionId.includes('-u0-') ? { status: 500, body: { error: 'boom' } } : { status: 200, body: { session_id: `${q.sessionId}x`, user_id: q.oid } }),
    env: { VOICE_ATTRIBUTION: 'http' },
    expect: (r) => {
      fails(r, /MISATTRIBUTED: 2 of 2 verified valid sessions .*2 the right user but another session id/, /UNVERIFIED ATTRIBUTION: 1 valid session showed no user id \(http mode\)/);
      assert.deepEqual([v(r).wrongSession, v(r).attributionUnverified, v(r).wrongUser], [2, 1, 0]);
    },
  },
  {
    name: 'another pool user and the POC user are attribution errors, named apart',
    behaviour: valid((r) => accept((s) => {
      s.sessionCreated(r.sessionId.includes('-u0-') ? 'poc-user' : '00000000-0000-4000-8000-00000000beef');
      serveValid(s, false);
    })),
    expect: (r) => {
      fails(r, /MISATTRIBUTED: 3 of 3 verified valid sessions belonged to someone other than the token's oid \(1 to the POC fallback user, 2 to another user\)/);
      assert.deepEqual([v(r).pocFallback, v(r).wrongUser], [1, 2]);
    },
  },
  {
    name: "a server that never answers the client's close frame: the session is recorded as an error, not lost",
    // It stops reading at 300 ms (so the client's close at the end of the 1 s hold goes
    // unanswered) and drops the TCP connection only 8 s later; k6 itself would wait forever.
    behaviour: valid(() => accept((s) => {
      serveValid(s);
      setTimeout(() => {
        s.socket.removeAllListeners('data');
        s.socket.on('data', () => {});
        setTimeout(() => s.socket.destroy(), 8000);
      }, 300);
    })),
    expect: (r) => {
      fails(r, /ERRORS: 3 of 3 valid-token attempts ended in an error/);
      assert.deepEqual([v(r).errors, v(r).attributionChecked, v(r).attributionErrors, v(r).unexpectedCloses], [3, 3, 0, 0]);
      assert.match(r.stderr, /ended as close_unanswered \(no answer to the client's close within 5000 ms\)/);
    },
  },
  {
    name: 'constant server pings and huge messages do not disturb a healthy session',
    behaviour: valid((r) => accept((s) => {
      serveValid(s);
      const t = setInterval(() => (s.ws.readyState === 1 ? s.ws.ping() : clearInterval(t)), 5);
      s.ws.send('x'.repeat(4 << 20));
      s.ws.send(JSON.stringify({ type: 'transcript', session_id: r.sessionId, user_id: r.oid, text: 'y'.repeat(1 << 20) }));
    })),
    expect: (r) => {
      assert.equal(r.exitCode, 0);
      assert.deepEqual([v(r).attributionChecked, v(r).attributionErrors, v(r).unexpectedCloses, v(r).errors], [3, 0, 0, 0]);
    },
  },
  {
    name: 'a slow handshake (above the p95 bound, far below the timeouts) fails the run and is named',
    behaviour: valid(() => accept((s) => serveValid(s), 1300)),
    env: { VOICE_HANDSHAKE_P95_MS: '1000' },
    compare: (r) => ({ exit: r.exitCode, valid: r.report?.valid.attempts }),
    expect: (r) => {
      fails(r, /SLOW HANDSHAKES: valid p95 \d+ ms broke "p\(95\)<1000"/);
      assert.ok((v(r).handshakeP95Ms ?? 0) >= 1000);
      assert.deepEqual([v(r).errors, v(r).attributionErrors], [0, 0]);
    },
  },
];

describeCases(test, getSuite, cases);
