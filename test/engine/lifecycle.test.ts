// Test lifecycle as k6 runs it. Each test names the k6 source it follows (k6 v2.2.0).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STARTUP_LINE } from '../../engine/index.ts';
import { metricValues, runScript } from '../helpers/engine-run.ts';

describe('engine lifecycle', () => {
  it('prints the startup line, passes setup() data JSON-serialized to every VU and to teardown (internal/js/runner.go RunOnce/Setup)', async () => {
    const r = await runScript(`
      import { Counter } from 'k6/metrics';
      const seen = new Counter('seen_ok');
      export const options = { vus: 2, iterations: 4 };
      export function setup() { return { n: 41, d: new Date(1500), m: new Map([[1, 2]]), u: undefined }; }
      export default function (data) {
        // Go's JSON round trip (measured with k6 v2.2.0): keys sorted, the Date as RFC 3339
        // with trimmed fraction, a Map as pairs, undefined as null; a copy per VU
        if (JSON.stringify(data) === '{"d":"1970-01-01T00:00:01.5Z","m":[[1,2]],"n":41,"u":null}') seen.add(1);
        data.n = 0; // mutating one VU's copy must not leak to the next iteration of another VU
      }
      export function teardown(data) { console.log('teardown n=' + data.n); }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.ok(r.stderr.startsWith(`${STARTUP_LINE}\n`));
    assert.equal(metricValues(r, 'iterations').count, 4);
    // each VU parses setup data once (k6: "Unmarshall the setupData only the first time for each VU"),
    // so the first iteration of each of the 2 VUs sees n=41
    assert.ok(metricValues(r, 'seen_ok').count >= 2);
    assert.match(r.stderr, /teardown n=41/);
  });

  it('__VU is 1-based per instance and __ITER counts per VU from 0 (internal/js/runner.go incrIteration)', async () => {
    const r = await runScript(`
      import { Counter } from 'k6/metrics';
      const c = new Counter('pairs');
      export const options = { scenarios: { a: { executor: 'per-vu-iterations', vus: 2, iterations: 3 } } };
      export default function () { c.add(1, { pair: __VU + ':' + __ITER }); }
      export const handleSummary = (d) => ({ stdout: '' });
    `, { systemTags: ['scenario'] });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(metricValues(r, 'pairs').count, 6);
  });

  it('an exception in an iteration is logged, the iteration still counts, the run goes on (internal/js/runner.go runFn)', async () => {
    const r = await runScript(`
      export const options = { iterations: 3 };
      export default function () { if (__ITER === 1) throw new Error('boom ' + __ITER); }
    `);
    assert.equal(r.exitCode, 0);
    // k6 v2.2.0: msg="Error: boom 1\n\tat default (file:…)" executor=… hint="script exception" scenario=… source=stacktrace
    assert.match(r.stderr, /level=error msg="Error: boom 1\\n\\tat [^"]*script\.js:\d+:\d+\)?" executor=shared-iterations hint="script exception" scenario=default source=stacktrace\n/);
    assert.equal(metricValues(r, 'iterations').count, 3);
  });

  it('a rejected promise is logged as "Uncaught (in promise)" (internal/js/eventloop)', async () => {
    const r = await runScript(`
      export default async function () { await Promise.resolve(); throw new Error('late'); }
    `);
    assert.equal(r.exitCode, 0);
    // k6 v2.2.0: msg="Uncaught (in promise) Error: late\n\tat …" executor=… scenario=… (no hint, no source)
    assert.match(r.stderr, /level=error msg="Uncaught \(in promise\) Error: late\\n\\tat [^"]*" executor=per-vu-iterations scenario=default\n/);
  });

  it('the iteration waits for its timers, as k6 waits for registered callbacks (internal/event loop, k6/timers)', async () => {
    const r = await runScript(`
      import { setTimeout } from 'k6/timers';
      import { Counter } from 'k6/metrics';
      const fired = new Counter('fired');
      export default function () { setTimeout(() => fired.add(1), 300); }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(metricValues(r, 'fired').count, 1);
    assert.ok(metricValues(r, 'iteration_duration').max >= 290);
  });

  it('sleep() holds the iteration and delays the VU\'s callbacks until it ends (internal/js/modules/k6/k6.go Sleep)', async () => {
    const r = await runScript(`
      import { sleep } from 'k6';
      import { setTimeout } from 'k6/timers';
      import { Trend } from 'k6/metrics';
      const t = new Trend('cb_delay', true);
      export default function () {
        const start = Date.now();
        setTimeout(() => t.add(Date.now() - start), 0);
        sleep(0.4);
      }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.ok(metricValues(r, 'cb_delay').min >= 380, JSON.stringify(metricValues(r, 'cb_delay')));
    assert.ok(metricValues(r, 'iteration_duration').min >= 390);
  });

  it('open() resolves relative paths against the script directory and works only in init (internal/js/initcontext.go)', async () => {
    const r = await runScript(
      `
      import { Counter } from 'k6/metrics';
      const ok = new Counter('open_ok');
      const text = open('./data.txt');
      const bin = open('data.txt', 'b');
      export default function () {
        if (text === 'hello' && bin instanceof ArrayBuffer && bin.byteLength === 5) ok.add(1);
        try { open('./data.txt'); } catch (e) { ok.add(1, { where: 'vu' }); }
      }
    `,
      { files: { 'data.txt': 'hello' } },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(metricValues(r, 'open_ok').count, 2);
  });
});

describe('engine lifecycle after an abort (measured with k6 v2.2.0; internal/execution/scheduler.go runs teardown with the global context)', () => {
  it('exec.test.abort() in an iteration still runs teardown() and handleSummary(), exit 108', async () => {
    const r = await runScript(`
      import exec from 'k6/execution';
      export const options = { iterations: 3 };
      export default function () { if (exec.scenario.iterationInTest === 1) exec.test.abort('stop now'); }
      export function teardown() { console.log('teardown ran'); }
      export function handleSummary() { console.log('summary ran'); return {}; }
    `);
    assert.equal(r.exitCode, 108, r.stderr);
    assert.match(r.stderr, /teardown ran/);
    assert.doesNotMatch(r.stderr, /No script iterations fully finished/); // the run ended with an error
    assert.match(r.stderr, /summary ran/);
  });

  it('an abortOnFail stop runs teardown() too, and a teardown that waits on a timer is not cut short by the abort', async () => {
    const r = await runScript(`
      import { Counter } from 'k6/metrics';
      const bad = new Counter('bad_things');
      export const options = {
        scenarios: { s: { executor: 'constant-vus', vus: 1, duration: '20s', gracefulStop: '0s' } },
        thresholds: { bad_things: [{ threshold: 'count<1', abortOnFail: true }] },
      };
      export default function () { bad.add(1); return new Promise((r) => setTimeout(r, 50)); }
      export function teardown() { return new Promise((r) => setTimeout(() => { console.log('teardown done'); r(); }, 100)); }
    `);
    assert.equal(r.exitCode, 99, r.stderr);
    assert.match(r.stderr, /teardown done/);
  });

  it('timers still pending when an iteration is interrupted are logged like k6 (internal/js/tc55/timers/timers.go)', async () => {
    const r = await runScript(`
      export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 1, iterations: 1, maxDuration: '1s', gracefulStop: '0s' } } };
      export default function () { setTimeout(() => {}, 60000); setInterval(() => {}, 100); }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    // and no iteration finished: k6 run.go warns about it
    assert.match(r.stderr, /level=warning msg="No script iterations fully finished, consider making the test duration longer"\n/);
    assert.match(r.stderr, /level=warning msg="setTimeout 1 was stopped because the VU iteration was interrupted"\n/);
    assert.match(r.stderr, /level=warning msg="setInterval 2 was stopped because the VU iteration was interrupted"\n/);
  });

  it('handleSummary options.noColor is false by default and true with --no-color or NO_COLOR (k6 cmd/state, run.go)', async () => {
    const src = `export const options = { iterations: 1 }; export default function () {}
      export function handleSummary(d) { return { stdout: String(d.options.noColor) }; }`;
    assert.equal((await runScript(src, { processEnv: {} })).stdout, 'false');
    assert.equal((await runScript(src, { processEnv: {}, noColor: true })).stdout, 'true');
    assert.equal((await runScript(src, { processEnv: { NO_COLOR: '' } })).stdout, 'true');
  });

  it('exec.test.fail() logs "test run was marked as failed" at the end, exit 110 (internal/cmd/run.go)', async () => {
    const r = await runScript(`
      import exec from 'k6/execution';
      export const options = { iterations: 1 };
      export default function () { exec.test.fail('marked'); }
    `);
    assert.equal(r.exitCode, 110, r.stderr);
    assert.match(r.stderr, /msg="test marked as failed: marked"/);
    assert.match(r.stderr, /msg="test run was marked as failed"/);
  });
});

describe('engine setup/teardown/handleSummary errors (measured with k6 v2.2.0)', () => {
  const hooks = `export function teardown() { console.log('teardown ran'); }
    export function handleSummary() { console.log('summary ran'); return {}; }`;
  it('an exception in setup(): logged once with hint and source, no iteration, no teardown, handleSummary still runs, exit 107', async () => {
    const r = await runScript(`export const options = { iterations: 1 };
      export function setup() { throw new Error('setup boom'); }
      export default function () { console.log('iter'); }
      ${hooks}`);
    assert.equal(r.exitCode, 107, r.stderr);
    assert.equal(r.stderr.match(/setup boom/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /msg="Error: setup boom\\n\\tat [^"]*" hint="script exception" source=stacktrace\n/);
    assert.doesNotMatch(r.stderr, /iter|teardown ran/);
    assert.match(r.stderr, /summary ran/);
  });
  it('an exception in teardown() exits 107 (the summary still runs)', async () => {
    const r = await runScript(`export const options = { iterations: 1 };
      export default function () {}
      export function teardown() { throw new Error('teardown boom'); }
      export function handleSummary() { console.log('summary ran'); return {}; }`);
    assert.equal(r.exitCode, 107, r.stderr);
    assert.match(r.stderr, /msg="Error: teardown boom\\n\\tat [^"]*" hint="script exception" source=stacktrace\n/);
    assert.match(r.stderr, /summary ran/);
  });
  it('setup() data Go cannot marshal (a function, NaN) fails with k6\'s message and exit 255; an undefined property becomes null', async () => {
    const bad = await runScript(`export const options = { iterations: 1 };
      export function setup() { return { f: () => 1 }; }
      export default function () {}`);
    assert.equal(bad.exitCode, 255, bad.stderr);
    assert.match(bad.stderr, /msg="error marshaling setup\(\) data to JSON: json: unsupported type: func\(sobek.FunctionCall\) sobek.Value"/);
    const nan = await runScript(`export const options = { iterations: 1 };
      export function setup() { return [1, NaN]; }
      export default function () {}`);
    assert.equal(nan.exitCode, 255, nan.stderr);
    assert.match(nan.stderr, /json: unsupported value: NaN/);
    const ok = await runScript(`export const options = { iterations: 1 };
      export function setup() { return { u: undefined, a: [undefined] }; }
      export default function (d) { console.log(JSON.stringify(d)); }`);
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.match(ok.stderr, /msg="\{"a":\[null\],"u":null\}"/); // Go sorts the keys
  });
});

describe('engine watchdog', () => {
  it('a setInterval started in the init context never lets init finish: k6 hangs, the engine exits 107 after initTimeoutMs', async () => {
    const t0 = Date.now();
    const r = await runScript(`setInterval(() => {}, 20); export default function () {}`, { initTimeoutMs: 300 });
    assert.equal(r.exitCode, 107, r.stderr);
    assert.match(r.stderr, /the init context did not finish within 0.3s/);
    assert.ok(Date.now() - t0 < 5000);
  });

  it('ends a run that outlives its durations + grace periods + margin with exit 102, never hanging', async () => {
    const t0 = Date.now();
    const r = await runScript(
      `
      export const options = { setupTimeout: '1s', teardownTimeout: '1s', handleSummaryTimeout: '60s',
        scenarios: { s: { executor: 'shared-iterations', maxDuration: '1s', gracefulStop: '0s' } } };
      export default function () {}
      export function handleSummary() { return new Promise(() => {}); } // never settles
    `,
      { watchdogMarginMs: 1000 },
    );
    assert.equal(r.exitCode, 102, r.stderr);
    assert.match(r.stderr, /engine watchdog/);
    assert.ok(Date.now() - t0 < 12_000);
  });
});
