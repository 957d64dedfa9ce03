// Executors with k6's semantics (lib/executor/*.go). Short durations keep this file fast.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arrivalTime, rampingTarget } from '../../engine/executors.ts';
import { metricValues, runScript } from '../helpers/engine-run.ts';

describe('engine executors', () => {
  it('shared-iterations shares the total among the VUs (shared_iterations.go)', async () => {
    const r = await runScript(`
      import { Counter } from 'k6/metrics';
      const per = new Counter('per_vu');
      export const options = { scenarios: { s: { executor: 'shared-iterations', vus: 3, iterations: 10 } } };
      export default function () { per.add(1, { vu: String(__VU) }); }
      export function handleSummary() { return {}; }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(metricValues(r, 'iterations').count, 10);
    assert.equal(r.stdout, '', 'handleSummary returning {} prints nothing');
  });

  it('per-vu-iterations runs N iterations on each VU (per_vu_iterations.go)', async () => {
    const r = await runScript(`
      export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 2, iterations: 3 } } };
      export default function () {}
    `);
    assert.equal(metricValues(r, 'iterations').count, 6);
    assert.equal(metricValues(r, 'vus_max').value, 2);
  });

  it('constant-vus loops for the duration; gracefulStop interrupts long iterations without an iterations sample (constant_vus.go, base_executor)', async () => {
    const t0 = Date.now();
    const r = await runScript(`
      import exec from 'k6/execution';
      export const options = { scenarios: {
        fast: { executor: 'constant-vus', vus: 2, duration: '1s' },
        slow: { executor: 'constant-vus', vus: 1, duration: '1s', gracefulStop: '300ms', exec: 'slow' },
      } };
      export default function () { return new Promise((r) => setTimeout(r, 100)); }
      export function slow() { return new Promise((r) => setTimeout(r, 5000)); }
      export function teardown() { console.log('interrupted=' + 0); }
    `);
    const took = Date.now() - t0;
    assert.equal(r.exitCode, 0, r.stderr);
    const it = metricValues(r, 'iterations').count ?? 0;
    assert.ok(it >= 12 && it <= 24, `iterations ${it}`);
    const m = (r.summaryData as { metrics: Record<string, unknown> }).metrics;
    assert.equal(m['iterations{scenario:slow}'], undefined);
    assert.ok(took < 4000, `took ${took}ms`);
  });

  it('ramping-vus follows linear stages (ramping_vus.go)', async () => {
    assert.equal(rampingTarget(0, [{ durationMs: 1000, target: 10 }], 500), 5);
    assert.equal(rampingTarget(10, [{ durationMs: 1000, target: 0 }], 250), 8);
    assert.equal(rampingTarget(0, [{ durationMs: 1000, target: 10 }], 1000), undefined);
    const r = await runScript(`
      export const options = { scenarios: { r: { executor: 'ramping-vus', startVUs: 0, gracefulRampDown: '0s',
        stages: [{ duration: '1s', target: 4 }, { duration: '500ms', target: 0 }] } } };
      export default function () { return new Promise((r) => setTimeout(r, 50)); }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(metricValues(r, 'vus_max').value, 4);
    assert.ok((metricValues(r, 'iterations').count ?? 0) > 10);
  });

  it('ramping-vus gracefulRampDown lets a ramped-down VU finish its iteration within the grace, else interrupts it (ramping_vus.go)', async () => {
    const src = (grace: string) => `
      import { Counter } from 'k6/metrics';
      const done = new Counter('done_long');
      export const options = { scenarios: { r: { executor: 'ramping-vus', startVUs: 2, gracefulRampDown: '${grace}', gracefulStop: '0s',
        stages: [{ duration: '200ms', target: 2 }, { duration: '200ms', target: 1 }, { duration: '1500ms', target: 1 }] } } };
      // every iteration takes 1 s; one VU is ramped down at ~300 ms
      export default function () { return new Promise((r) => setTimeout(() => { done.add(1); r(); }, 1000)); }
    `;
    const short = await runScript(src('300ms'));
    assert.equal(short.exitCode, 0, short.stderr);
    assert.equal(metricValues(short, 'done_long').count, 1, 'the ramped-down VU was interrupted after 300 ms');
    const long = await runScript(src('3s'));
    assert.equal(metricValues(long, 'done_long').count, 2, 'with a long gracefulRampDown it finished');
  });

  it('constant-arrival-rate starts iterations on schedule and counts dropped_iterations when VUs run out (constant_arrival_rate.go)', async () => {
    assert.equal(arrivalTime({ executor: 'constant-arrival-rate', rate: 4, timeUnitMs: 1000, durationMs: 1000 } as never, 3), 750);
    const r = await runScript(`
      export const options = { scenarios: { a: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '1s',
        preAllocatedVUs: 2, maxVUs: 2 } } };
      export default function () { return new Promise((r) => setTimeout(r, 190)); }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    const done = metricValues(r, 'iterations').count ?? 0;
    const dropped = metricValues(r, 'dropped_iterations').count ?? 0;
    assert.ok(dropped >= 5, `dropped ${dropped}`);
    assert.ok(Math.abs(done + dropped - 20) <= 4, `done ${done} + dropped ${dropped}`);
    assert.match(r.stderr, /Insufficient VUs, reached 2 active VUs and cannot initialize more/);
  });

  it('ramping-arrival-rate integrates the rate over the stages (ramping_arrival_rate.go)', async () => {
    const cfg = { executor: 'ramping-arrival-rate', startRate: 0, timeUnitMs: 1000, stages: [{ durationMs: 1000, target: 20 }] };
    assert.ok(Math.abs((arrivalTime(cfg as never, 5) ?? 0) - 707.1) < 1);
    const r = await runScript(`
      export const options = { scenarios: { a: { executor: 'ramping-arrival-rate', startRate: 0, timeUnit: '1s',
        stages: [{ duration: '1s', target: 20 }], preAllocatedVUs: 3 } } };
      export default function () {}
    `);
    const n = metricValues(r, 'iterations').count ?? 0;
    assert.ok(n >= 7 && n <= 11, `iterations ${n}`); // ~10; a loaded CI box may start the last ones late
  });

  it('runs several scenarios with startTime, per-scenario env, tags and exec (lib/executor/base_config.go)', async () => {
    const r = await runScript(`
      import { Counter } from 'k6/metrics';
      import exec from 'k6/execution';
      const c = new Counter('hits');
      export const options = {
        scenarios: {
          first: { executor: 'shared-iterations', iterations: 1, env: { WHO: 'one' }, tags: { kind: 'a' } },
          later: { executor: 'per-vu-iterations', iterations: 1, startTime: '700ms', exec: 'other', env: { WHO: 'two' }, tags: { kind: 'b' } },
        },
        thresholds: { 'hits{kind:a}': ['count==1'], 'hits{kind:b}': ['count==1'], 'hits{who:two}': ['count==1'] },
      };
      export default function () { c.add(1, { who: __ENV.WHO }); }
      export function other() {
        if (exec.instance.currentTestRunDuration >= 650 && exec.scenario.name === 'later') c.add(1, { who: __ENV.WHO });
      }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
  });
  it('exec.scenario.progress counts finished iterations, not started ones (k6 shared_iterations.go / per_vu_iterations.go doneIters; measured with k6 v2.2.0)', async () => {
    const r = await runScript(`
      import exec from 'k6/execution';
      export const options = { scenarios: {
        s: { executor: 'shared-iterations', vus: 1, iterations: 2 },
        p: { executor: 'per-vu-iterations', vus: 1, iterations: 2, startTime: '300ms' } } };
      export default function () { console.log(exec.scenario.name + ':' + exec.scenario.progress); }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    const seen = [...r.stderr.matchAll(/msg="([sp]:[\d.]+)"/g)].map((m) => m[1]);
    assert.deepEqual(seen, ['s:0', 's:0.5', 'p:0', 'p:0.5']);
  });
});
