// The acceptance over real sockets: the smoke bundle against the reference target,
// healthy in both reject styles and with each fault; every profile's short form; tokens
// never in stdout, stderr, results or the JSON output. With K6_BIN set (opt-in), the same
// cases also run under that real k6 and must reach the same verdicts and counts.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTokenSet, writeTokenSet } from '../../tools/tokens/index.ts';
import { SHORT_FORMS } from '../../lib/profile-defaults.ts';
import { pool, runCase, type CaseRun, type CaseSpec } from '../helpers/scenario-run.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const K6 = process.env['K6_BIN'];
let work = '';
let tokensDir = '';
let dist = '';
let secrets: string[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'voicelive-scen-'));
  tokensDir = join(work, 'tokens');
  dist = join(work, 'dist');
  const set = await createTokenSet({ users: 6, workers: 0 });
  await writeTokenSet(tokensDir, set);
  // Every token string (and its URL-encoded form) the runs could leak; short fixed
  // strings (e.g. "garbage") are left out because they are ordinary words.
  const raw = [...set.pool.users.flatMap((u) => u.tokens.map((t) => t.token)), ...set.invalid.cases.map((c) => c.token)];
  secrets = [...new Set(raw.filter((t) => t.length >= 24).flatMap((t) => [t, encodeURIComponent(t)]))];
  execFileSync(process.execPath, ['-e', `import(${JSON.stringify(join(ROOT, 'build.mjs'))}).then((m) => m.build({ outDir: ${JSON.stringify(dist)} }))`], { stdio: 'inherit', timeout: 60_000 });
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const JWT_RE = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;

function assertNoTokens(r: CaseRun, label: string): void {
  const blobs: Array<[string, string]> = [['stdout', r.stdout], ['stderr', r.stderr], ...Object.entries(r.files)];
  for (const [name, text] of blobs) {
    assert.doesNotMatch(text, JWT_RE, `${label}: a JWT-looking string in ${name}`);
    for (const s of secrets) assert.ok(!text.includes(s.slice(0, 40)), `${label}: a token in ${name}`);
  }
}

// Latency is not what these tests assert (the machine may be loaded): a generous bound.
const SLACK = { VOICE_HANDSHAKE_P95_MS: '20000' };

const smoke = (extra: Partial<CaseSpec> = {}): CaseSpec => ({
  bundle: join(dist, 'smoke.js'),
  tokensDir,
  env: { ...SHORT_FORMS['smoke'], ...SLACK, VOICE_SESSIONS: '3', VOICE_VUS: '3' },
  ...extra,
});

function counts(r: CaseRun) {
  const rep = r.report;
  assert.ok(rep, 'summary.json written');
  return {
    verdict: rep.verdict,
    bypass: rep.totals.bypass,
    mismatch: rep.totals.mismatch,
    falseRejections: rep.valid.falseRejections,
    attributionErrors: rep.valid.attributionErrors,
    attempts: rep.variants.map((v) => `${v.authCase}/${v.variant}:${v.attempts}`).join(','),
  };
}

describe('smoke against the reference target', () => {
  const cases: Array<{ name: string; spec: () => CaseSpec; expect: (r: CaseRun) => void }> = [];
  const healthy = (style: 'close' | 'http') => (r: CaseRun) => {
    assert.equal(r.exitCode, 0, `${style}: exit 0\n${r.stdout}\n${r.stderr.slice(-2000)}`);
    const rep = r.report!;
    assert.equal(rep.verdict, 'pass');
    assert.equal(rep.totals.bypass, 0);
    assert.equal(rep.valid.attributionErrors, 0);
    assert.equal(rep.valid.falseRejections, 0);
    assert.ok(rep.valid.attributionChecked >= 3, 'every valid session verified');
    assert.ok(rep.variants.length >= 16, 'two no_token and at least 14 invalid variants');
    for (const v of rep.variants) {
      assert.ok(v.attempts >= 1, `${v.authCase}/${v.variant} attempted`);
      assert.equal(v.rejected, v.attempts, `${v.authCase}/${v.variant}: voice_rejected rate 1`);
    }
    assert.match(r.stdout, /voicelive smoke: PASS/);
  };
  cases.push({ name: 'healthy, close style', spec: () => smoke({ rejectStyle: 'close', jsonOut: true }), expect: healthy('close') });
  cases.push({ name: 'healthy, http style', spec: () => smoke({ rejectStyle: 'http' }), expect: healthy('http') });

  const failsWith = (re: RegExp) => (r: CaseRun) => {
    assert.equal(r.exitCode, 99, `exit 99\n${r.stdout}`);
    assert.match(r.stdout, /voicelive smoke: FAIL/);
    assert.match(r.stdout, re);
  };
  cases.push({ name: 'accept-invalid=expired', spec: () => smoke({ faults: ['accept-invalid=expired'] }), expect: failsWith(/BYPASS: invalid\/expired was accepted in 1 of 1 attempt/) });
  cases.push({ name: 'accept-invalid=alg_none (http style)', spec: () => smoke({ rejectStyle: 'http', faults: ['accept-invalid=alg_none'] }), expect: failsWith(/BYPASS: invalid\/alg_none was accepted/) });
  cases.push({ name: 'accept-missing', spec: () => smoke({ faults: ['accept-missing'] }), expect: failsWith(/BYPASS: no_token\/missing was accepted/) });
  cases.push({ name: 'misattribute', spec: () => smoke({ faults: ['misattribute=1'] }), expect: failsWith(/MISATTRIBUTED: 3 of 3 verified valid sessions .*3 to another user/) });
  cases.push({ name: 'poc-fallback', spec: () => smoke({ faults: ['poc-fallback=1'] }), expect: failsWith(/MISATTRIBUTED: 3 of 3 .*3 to the POC fallback user/) });
  cases.push({ name: 'capacity (close style: 1013)', spec: () => smoke({ faults: ['capacity=1'] }), expect: failsWith(/ERRORS: [1-9]\d* of 3 valid-token attempts ended in an error/) });
  cases.push({ name: 'capacity (http style: 503 is never a correct rejection)', spec: () => smoke({ rejectStyle: 'http', faults: ['capacity=1'] }), expect: failsWith(/ERRORS: [1-9]\d* of 3 valid-token attempts/) });
  cases.push({ name: 'drop', spec: () => smoke({ faults: ['drop=1,100'] }), expect: failsWith(/UNEXPECTED CLOSES: the server closed 3 valid sessions/) });
  cases.push({ name: 'http attribution mode, healthy', spec: () => smoke({ env: { ...SHORT_FORMS['smoke'], ...SLACK, VOICE_ATTRIBUTION: 'http' } }), expect: healthy('close') });
  cases.push({ name: 'http attribution mode, misattribute', spec: () => smoke({ env: { ...SHORT_FORMS['smoke'], ...SLACK, VOICE_ATTRIBUTION: 'http' }, faults: ['misattribute=1'] }), expect: failsWith(/MISATTRIBUTED: 3 of 3 verified valid sessions .*3 refused to their own token by the memory endpoint \(403\)/) });
  cases.push({ name: 'status probe off: refusals counted as unverified, never correct', spec: () => smoke({ rejectStyle: 'http', env: { ...SHORT_FORMS['smoke'], ...SLACK, VOICE_PROBE_STATUS: 'false' } }), expect: failsWith(/UNVERIFIED REFUSALS: 21 refused upgrades with an unknown HTTP status/) });
  cases.push({ name: 'no pool token valid long enough: attempts skipped and the run fails', spec: () => smoke({ env: { ...SHORT_FORMS['smoke'], ...SLACK, VOICE_TOKEN_MARGIN_SECONDS: '86400' } }), expect: failsWith(/NO VALID TOKEN: 3 valid attempts skipped/) });
  cases.push({ name: 'auth not required', spec: () => smoke({ authRequired: false }), expect: failsWith(/BYPASS: no_token\/missing was accepted[^]*BYPASS: no_token\/empty was accepted/) });

  const results = new Map<string, Promise<CaseRun>>();
  let all: Promise<CaseRun[]> | null = null;
  const start = () => {
    all ??= pool(5, cases.map((c) => () => runCase(c.spec())));
    return all;
  };
  for (const [i, c] of cases.entries()) {
    test(c.name, async () => {
      const r = (await start())[i] as CaseRun;
      results.set(c.name, Promise.resolve(r));
      c.expect(r);
      assertNoTokens(r, c.name);
    });
  }

  test('the JSON output carries the name template, never the URL with its token', async () => {
    const r = (await start())[0] as CaseRun;
    const json = r.files['out.json'];
    assert.ok(json && json.length > 0, 'out.json written');
    assert.match(json, /voicelive\/\{session_id\}/);
    assert.doesNotMatch(json, /[?&]token=/);
  });

  test('the target saw sessions named by auditable ids', async () => {
    const r = (await start())[0] as CaseRun;
    assert.match(r.targetLog, /Authenticated user [0-9a-f-]{36} for session r[a-z0-9]+-u\d+-va-i\d+-v\d+/);
  });

  if (K6) {
    test('real k6 (K6_BIN) reaches the same verdicts and counts', async () => {
      const picks = [cases[0]!, cases[2]!, cases[5]!];
      for (const c of picks) {
        const [engine] = await Promise.all([start().then((rs) => rs[cases.indexOf(c)] as CaseRun)]);
        const real = await runCase({ ...c.spec(), runner: 'k6' });
        assert.equal(real.exitCode, engine.exitCode, `${c.name}: exit codes\n${real.stdout}\n${real.stderr.slice(-1500)}`);
        assert.deepEqual(counts(real), counts(engine), c.name);
        assertNoTokens(real, `${c.name} (k6)`);
      }
    });
  }
});

describe('every profile in its short form passes against a healthy target', () => {
  const profiles = ['load', 'spike', 'soak', 'capacity'];
  let runs: Promise<CaseRun[]> | null = null;
  const start = () => {
    runs ??= pool(4, profiles.map((p) => () => runCase({ bundle: join(dist, `${p}.js`), tokensDir, env: { ...(SHORT_FORMS[p] ?? {}), ...SLACK } })));
    return runs;
  };
  for (const [i, p] of profiles.entries()) {
    test(p, async () => {
      const r = (await start())[i] as CaseRun;
      assert.equal(r.exitCode, 0, `${p}\n${r.stdout}\n${r.stderr.slice(-2000)}`);
      assert.equal(r.report?.verdict, 'pass');
      assert.ok((r.report?.valid.attempts ?? 0) >= 1, `${p}: valid sessions ran`);
      if (p === 'capacity') assert.equal(r.report?.capacity?.highestHeld?.name, 's2');
      if (p === 'soak') {
        const d = r.report?.drift;
        assert.ok(d, 'drift reported');
        assert.ok(d.earlyP95 !== null && d.lateP95 !== null && d.ratio !== null, `drift computed from both windows: ${JSON.stringify(d)}`);
      }
      assertNoTokens(r, p);
      if (K6) {
        const real = await runCase({ bundle: join(dist, `${p}.js`), tokensDir, env: { ...(SHORT_FORMS[p] ?? {}), ...SLACK }, runner: 'k6' });
        assert.equal(real.exitCode, r.exitCode, `${p} under k6\n${real.stdout}\n${real.stderr.slice(-1500)}`);
        assert.equal(real.report?.verdict, r.report?.verdict);
        assertNoTokens(real, `${p} (k6)`);
      }
    });
  }
});

test('capacity finds the breakpoint: a target capped at 3 sessions holds s1 (1/s) and breaks at s2 (5/s)', async () => {
  const r = await runCase({
    bundle: join(dist, 'capacity.js'),
    tokensDir,
    faults: ['capacity=3'],
    env: { ...(SHORT_FORMS['capacity'] ?? {}), ...SLACK, VOICE_CAPACITY_STEP: '4', VOICE_CAPACITY_STAGE_DURATION: '3s', VOICE_NO_TOKEN_RATE: '0', VOICE_INVALID_RATE: '0' },
  });
  assert.equal(r.exitCode, 99, `${r.stdout}\n${r.stderr.slice(-1500)}`);
  assert.deepEqual(r.report?.capacity?.highestHeld, { name: 's1', rate: 1, concurrent: 1 });
  assert.match(r.stdout, /highest stage that held: s1: 1 new sessions\/s/);
  assertNoTokens(r, 'capacity breakpoint');
  if (K6) {
    const real = await runCase({
      bundle: join(dist, 'capacity.js'),
      tokensDir,
      faults: ['capacity=3'],
      env: { ...(SHORT_FORMS['capacity'] ?? {}), ...SLACK, VOICE_CAPACITY_STEP: '4', VOICE_CAPACITY_STAGE_DURATION: '3s', VOICE_NO_TOKEN_RATE: '0', VOICE_INVALID_RATE: '0' },
      runner: 'k6',
    });
    assert.equal(real.exitCode, 99, `k6\n${real.stdout}\n${real.stderr.slice(-1500)}`);
    assert.deepEqual(real.report?.capacity?.highestHeld, r.report?.capacity?.highestHeld);
  }
});

test('a missing token file stops the run at init (exit 107) with one line naming its variable', async () => {
  const r = await runCase({ bundle: join(dist, 'smoke.js'), tokensDir, env: { VOICE_TOKEN_POOL: join(work, 'no-such', 'pool.json') } });
  assert.equal(r.exitCode, 107, r.stderr.slice(-1500));
  assert.match(r.stderr, /cannot read the token pool \\"[^"\\]*no-such\/pool\.json\\": .*point VOICE_TOKEN_POOL at it/);
});

test('soak refuses a drift window no session could start in, at init with one line', async () => {
  const r = await runCase({ bundle: join(dist, 'soak.js'), tokensDir, env: { ...(SHORT_FORMS['soak'] ?? {}), VOICE_DRIFT_WINDOW: '1s' } });
  assert.equal(r.exitCode, 107, r.stderr.slice(-1500));
  assert.match(r.stderr, /VOICE_DRIFT_WINDOW=1s must be longer than VOICE_HOLD_SECONDS \+ 1 s/);
});
