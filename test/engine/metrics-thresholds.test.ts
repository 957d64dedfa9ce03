// k6/metrics and thresholds (internal/js/modules/k6/metrics/metrics.go, metrics/registry.go,
// metrics/sink.go, metrics/thresholds.go, internal/metrics/engine/engine.go).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TrendSink } from '../../engine/metrics.ts';
import { parseThresholdExpression } from '../../engine/thresholds.ts';
import { metricValues, runScript } from '../helpers/engine-run.ts';

describe('engine metrics', () => {
  it('summary values per type: counter count/rate, gauge value/min/max, rate passes/fails, trend stats (internal/js/summary.go)', async () => {
    const r = await runScript(`
      import { Counter, Gauge, Rate, Trend } from 'k6/metrics';
      const c = new Counter('c_m'); const g = new Gauge('g_m'); const rt = new Rate('r_m'); const t = new Trend('t_m');
      export default function () {
        c.add(2); c.add(true);
        g.add(5); g.add(1); g.add(3);
        rt.add(1); rt.add(0); rt.add(-2); rt.add(false);
        for (const v of [1, 2, 3, 4, 10]) t.add(v);
      }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(metricValues(r, 'c_m').count, 3);
    assert.ok(metricValues(r, 'c_m').rate > 0);
    assert.deepEqual(metricValues(r, 'g_m'), { value: 3, min: 1, max: 5 });
    assert.deepEqual(metricValues(r, 'r_m'), { rate: 0.5, passes: 2, fails: 2 });
    const t = metricValues(r, 't_m');
    assert.equal(t.avg, 4);
    assert.equal(t.med, 3);
    assert.ok(Math.abs((t['p(90)'] ?? 0) - 7.6) < 1e-9); // linear interpolation between 4 and 10 (sink.go P)
    const data = r.summaryData as { metrics: Record<string, { type: string; contains: string }> };
    assert.equal(data.metrics.t_m?.type, 'trend');
    assert.equal(data.metrics.t_m?.contains, 'default');
    assert.equal(data.metrics.iteration_duration?.contains, 'time');
  });

  it('TrendSink.P interpolates like k6 (metrics/sink.go)', () => {
    const s = new TrendSink();
    for (const v of [10, 20, 30, 40]) s.add(v);
    assert.equal(s.percentile(0.5), 25);
    assert.equal(s.percentile(0.95), 38.5);
    assert.equal(s.percentile(0), 10);
    assert.equal(s.percentile(1), 40);
  });

  it('constructors are init-only; name regex; type conflicts; add() NaN warns and returns false (metrics.go, registry.go)', async () => {
    const r = await runScript(`
      import { Counter, Trend } from 'k6/metrics';
      const results = new Counter('results');
      const errs = [];
      try { new Counter('1bad'); } catch (e) { errs.push('name:' + e.message); }
      try { new Trend('results'); } catch (e) { errs.push('type:' + e.message); }
      const same = new Counter('results');
      export default function () {
        try { new Counter('late_one'); } catch (e) { errs.push('init:' + e.message); }
        const ok = results.add('abc');
        results.add(1, { k: 'v' });
        try { results.add(1, { bad: {} }); } catch (e) { errs.push('tags:' + e.message); }
        console.log(JSON.stringify({ errs, ok, sameName: same.name }));
      }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    // k6 metrics/registry.go badNameWarning, word for word
    assert.match(r.stderr, /name:Invalid metric name: '1bad'. Metric names must only include up to 128 ASCII letters, numbers, or underscores and start with a letter or an underscore./);
    assert.match(r.stderr, /type:metric 'results' already exists but with type counter, instead of trend/);
    assert.match(r.stderr, /init:metrics must be declared in the init context/);
    assert.match(r.stderr, /tags:cannot add tags for the 'results' custom metric/);
    assert.match(r.stderr, /"ok":false/);
    assert.match(r.stderr, /level=warning msg="'abc' is an invalid value for metric 'results'/);
    assert.equal(metricValues(r, 'results').count, 1);
  });
});

describe('engine thresholds', () => {
  it('parses k6 expressions (thresholds_parser.go)', () => {
    assert.deepEqual(parseThresholdExpression('p(95)<500'), { method: 'p', arg: 95, op: '<', value: 500 });
    assert.deepEqual(parseThresholdExpression(' rate >= 0.99 '), { method: 'rate', op: '>=', value: 0.99 });
    assert.deepEqual(parseThresholdExpression('count===0'), { method: 'count', op: '===', value: 0 });
    assert.throws(() => parseThresholdExpression('p(101)<1'), /between 0 and 100/);
    assert.throws(() => parseThresholdExpression('avg'), /malformed threshold expression/);
  });

  it('a failed threshold exits 99; tag-filtered submetrics match subsets; no samples pass (thresholds.go, metric.go ParseMetricName)', async () => {
    const r = await runScript(`
      import { Rate } from 'k6/metrics';
      const rej = new Rate('voice_rejected');
      export const options = { thresholds: {
        'voice_rejected{auth_case:valid}': ['rate==0'],
        "voice_rejected{ auth_case : 'missing' }": ['rate==1'],
        'voice_rejected{auth_case:never}': ['rate>0.5'],
        iterations: ['count<1'],
      } };
      export default function () { rej.add(0, { auth_case: 'valid', other: 'x' }); rej.add(1, { auth_case: 'missing' }); }
    `);
    assert.equal(r.exitCode, 99, r.stderr);
    const m = (r.summaryData as { metrics: Record<string, { thresholds?: Record<string, { ok: boolean }> }> }).metrics;
    assert.deepEqual(m['voice_rejected{auth_case:valid}']?.thresholds, { 'rate==0': { ok: true } });
    assert.deepEqual(m["voice_rejected{ auth_case : 'missing' }"]?.thresholds, { 'rate==1': { ok: true } });
    assert.deepEqual(m['voice_rejected{auth_case:never}']?.thresholds, { 'rate>0.5': { ok: true } });
    assert.deepEqual(m.iterations?.thresholds, { 'count<1': { ok: false } });
    // k6 run.go names the breached metrics (measured with k6 v2.2.0).
    assert.match(r.stderr, /level=error msg="thresholds on metrics 'iterations' have been crossed"/);
  });

  it('abortOnFail stops the test early, after delayAbortEval, with exit 99 (internal/metrics/engine/engine.go)', async () => {
    const t0 = Date.now();
    const r = await runScript(`
      import { Counter } from 'k6/metrics';
      const bad = new Counter('bad_things');
      export const options = {
        scenarios: { s: { executor: 'constant-vus', vus: 1, duration: '20s', gracefulStop: '0s' } },
        thresholds: { bad_things: [{ threshold: 'count<1', abortOnFail: true, delayAbortEval: '1s' }] },
      };
      export default function () { bad.add(1); return new Promise((r) => setTimeout(r, 50)); }
    `);
    assert.equal(r.exitCode, 99, r.stderr);
    assert.ok(Date.now() - t0 < 8000, 'aborted well before 20s');
    // k6 v2.2.0's line names the metrics, and no second "have been crossed" line follows.
    assert.match(r.stderr, /msg="thresholds on metrics 'bad_things' were crossed; at least one has abortOnFail enabled, stopping test prematurely"/);
    assert.doesNotMatch(r.stderr, /have been crossed/);
  });
});
