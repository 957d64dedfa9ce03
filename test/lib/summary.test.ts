import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyse, buildSummary, junitReport, type SummaryData, type SummaryInfo } from '../../lib/summary.ts';

const info: SummaryInfo = {
  profile: 'smoke',
  resultsDir: 'out',
  variants: { noToken: ['missing', 'empty'], invalid: ['expired', 'garbage'] },
  classes: { valid: true, noToken: true, invalid: true },
  requireAllVariants: true,
  attribution: 'event',
  probeStatus: true,
};

function rate(passes: number, fails: number, ok = true, expr = 'rate>=1'): SummaryData['metrics'][string] {
  return { type: 'rate', values: { rate: passes / Math.max(1, passes + fails), passes, fails }, thresholds: { [expr]: { ok } } };
}
function count(n: number, ok = n === 0): SummaryData['metrics'][string] {
  return { type: 'counter', values: { count: n, rate: n }, thresholds: { 'count==0': { ok } } };
}

test('the summary names the variant that got in and the misattributed sessions', () => {
  const data: SummaryData = {
    state: { testRunDurationMs: 2000 },
    metrics: {
      'voice_rejected{variant:missing}': rate(1, 0),
      'voice_rejected{variant:empty}': rate(1, 0),
      'voice_rejected{variant:expired}': rate(0, 1, false),
      'voice_auth_bypass{variant:expired}': count(1),
      voice_auth_bypass: count(1),
      'voice_rejected{auth_case:valid}': rate(0, 4, true, 'rate<=0'),
      voice_attribution_errors: rate(3, 1, false, 'rate==0'),
      'voice_attribution_errors{attribution:poc_fallback}': rate(2, 0, false, 'rate==0'),
      'voice_attribution_errors{attribution:wrong_user}': rate(1, 0, false, 'rate==0'),
    },
  };
  const r = analyse(data, info);
  assert.equal(r.verdict, 'fail');
  assert.ok(r.problems.some((p) => p.startsWith('BYPASS: invalid/expired was accepted in 1 of 1 attempt')), r.problems.join('\n'));
  assert.ok(r.problems.some((p) => /MISATTRIBUTED: 3 of 4 .*2 to the POC fallback user, 1 to another user/.test(p)), r.problems.join('\n'));
  assert.ok(r.problems.some((p) => p === 'NOT ATTEMPTED: invalid/garbage never ran'));
  const files = buildSummary(data, info);
  assert.deepEqual(Object.keys(files).sort(), ['out/junit.xml', 'out/summary.json', 'stdout']);
  assert.match(files['stdout'] ?? '', /voicelive smoke: FAIL/);
  const junit = junitReport(r);
  assert.match(junit, /<testcase classname="voicelive.smoke.traffic" name="invalid\/expired"><failure/);
  assert.match(junit, /name="voice_auth_bypass count==0"><failure/);
  assert.match(junit, /name="no_token\/missing"\/>/);
});

test('a healthy run passes with no problems', () => {
  const data: SummaryData = {
    metrics: {
      'voice_rejected{variant:missing}': rate(1, 0),
      'voice_rejected{variant:empty}': rate(1, 0),
      'voice_rejected{variant:expired}': rate(1, 0),
      'voice_rejected{variant:garbage}': rate(1, 0),
      'voice_rejected{auth_case:valid}': rate(0, 3, true, 'rate<=0'),
      voice_attribution_errors: rate(0, 3, true, 'rate==0'),
    },
  };
  const r = analyse(data, info);
  assert.equal(r.verdict, 'pass');
  assert.deepEqual(r.problems, []);
  assert.equal(r.valid.attributionChecked, 3);
});

test('capacity: the highest stage that held is the last of an unbroken run from s1', () => {
  const stage = (n: string, passes: number, fails: number, ok: boolean): SummaryData['metrics'] => ({
    [`voice_session_success{stage:${n}}`]: rate(passes, fails, ok, 'rate>=0.99'),
    [`voice_handshake_duration{stage:${n}}`]: { type: 'trend', values: { 'p(95)': 10 }, thresholds: { 'p(95)<1000': { ok: true } } },
  });
  const data: SummaryData = { metrics: { ...stage('s1', 10, 0, true), ...stage('s2', 30, 0, true), ...stage('s3', 20, 5, false) } };
  const r = analyse(data, {
    ...info,
    requireAllVariants: false,
    classes: { valid: true, noToken: false, invalid: false },
    capacity: { stages: [{ name: 's1', rate: 1, concurrent: 30 }, { name: 's2', rate: 3, concurrent: 90 }, { name: 's3', rate: 5, concurrent: 150 }, { name: 's4', rate: 7, concurrent: 210 }] },
  });
  assert.deepEqual(r.capacity?.highestHeld, { name: 's2', rate: 3, concurrent: 90 });
  assert.equal(r.capacity?.stages[3]?.held, false, 'a stage without samples did not hold');
});

test('5xx/429 on the upgrade itself (k6 status tag) are thresholds when no error is allowed, and the summary names them', async () => {
  const { baseThresholds } = await import('../../lib/thresholds.ts');
  const { loadConfig } = await import('../../lib/config.ts');
  const { analyse } = await import('../../lib/summary.ts');
  const strict = baseThresholds(loadConfig({ VOICE_ERROR_RATE_MAX: '0' }), { noToken: ['missing'], invalid: ['expired'] });
  assert.deepEqual(strict['ws_sessions{auth_case:invalid,status:503}'], ['count==0']);
  assert.deepEqual(strict['ws_sessions{auth_case:no_token,status:429}'], ['count==0']);
  const tolerant = baseThresholds(loadConfig({ VOICE_ERROR_RATE_MAX: '0.05' }), { noToken: ['missing'], invalid: ['expired'] });
  assert.equal(tolerant['ws_sessions{auth_case:invalid,status:503}'], undefined);
  const r = analyse(
    { metrics: { 'ws_sessions{auth_case:invalid,status:503}': { type: 'counter', values: { count: 4 }, thresholds: { 'count==0': { ok: false } } } } },
    { profile: 'smoke', resultsDir: '', variants: { noToken: [], invalid: [] }, classes: { valid: false, noToken: false, invalid: true }, requireAllVariants: false, attribution: 'event', probeStatus: true },
  );
  assert.equal(r.verdict, 'fail');
  assert.ok(r.problems.some((p) => /HTTP 503 ON THE UPGRADE: 4 invalid upgrades answered 503/.test(p)), r.problems.join('\n'));
});

test("soak drift is computed from the submetrics soak's thresholds name (valid handshakes per window)", async () => {
  const { analyse, DRIFT_EARLY, DRIFT_LATE } = await import('../../lib/summary.ts');
  const src = (await import('node:fs')).readFileSync(new URL('../../scenarios/soak.ts', import.meta.url), 'utf8');
  assert.match(src, /thresholds\[DRIFT_LATE\]/);
  assert.match(src, /thresholds\[DRIFT_EARLY\]/);
  assert.equal(DRIFT_EARLY, 'voice_handshake_duration{auth_case:valid,phase:early}');
  const trend = (p95: number) => ({ type: 'trend' as const, values: { 'p(95)': p95 }, thresholds: { 'p(95)<1000': { ok: true } } });
  const r = analyse(
    { metrics: { [DRIFT_EARLY]: trend(100), [DRIFT_LATE]: trend(300) } },
    { profile: 'soak', resultsDir: '', variants: { noToken: [], invalid: [] }, classes: { valid: true, noToken: false, invalid: false }, requireAllVariants: false, attribution: 'event', probeStatus: true, drift: { maxRatio: 1.5 } },
  );
  assert.deepEqual([r.drift?.earlyP95, r.drift?.lateP95, r.drift?.ratio, r.drift?.drifted], [100, 300, 3, true]);
  assert.ok(r.problems.some((p) => /^DRIFT: p95 handshake went from 100 ms/.test(p)));
});
