// k6/execution and execution segments (internal/js/modules/k6/execution/execution.go,
// lib/execution_segment.go, lib/execution.go GetUniqueVUIdentifiers, base_executor.go).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExecutionTuple, parseSegment, parseSequence } from '../../engine/segments.ts';
import { runScript } from '../helpers/engine-run.ts';

const ids = (seg: string, seq?: string, n = 4) => {
  const it = ExecutionTuple.create(parseSegment(seg), seq ? parseSequence(seq) : undefined).index0();
  return Array.from({ length: n }, () => it.next()[1]);
};

describe('engine execution segments', () => {
  it('striping matches k6 (execution_segment.go ExecutionTuple doc tables)', () => {
    const seq = parseSequence('0,1/2,3/4,1');
    const scale = (seg: string) => [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((v) => ExecutionTuple.create(parseSegment(seg), seq).scale(v)).join(' ');
    assert.equal(scale('0:1/2'), '1 1 2 2 3 3 4 4 5 5 6 6');
    assert.equal(scale('1/2:3/4'), '0 1 1 1 1 2 2 2 2 3 3 3');
    assert.equal(scale('3/4:1'), '0 0 0 1 1 1 1 2 2 2 2 3');
    assert.equal(parseSegment('50%').to.n * 2, parseSegment('50%').to.d);
  });

  it('with a shared sequence, instance i gets idInTest i+1, i+1+N, … (unique); without one they collide', () => {
    const seq = '0,1/3,2/3,1';
    assert.deepEqual(ids('0:1/3', seq), [1, 4, 7, 10]);
    assert.deepEqual(ids('1/3:2/3', seq), [2, 5, 8, 11]);
    assert.deepEqual(ids('2/3:1', seq), [3, 6, 9, 12]);
    for (const seg of ['0:1/3', '1/3:2/3', '2/3:1']) assert.deepEqual(ids(seg), [2, 5, 8, 11]);
  });

  it('a run on a segment scales VUs/iterations and reports striped vu.idInTest and scenario.iterationInTest', async () => {
    const src = `
      import exec from 'k6/execution';
      export const options = { scenarios: { s: { executor: 'shared-iterations', vus: 6, iterations: 12 } } };
      export default function () { console.log('ID vu=' + exec.vu.idInInstance + ' test=' + exec.vu.idInTest + ' it=' + exec.scenario.iterationInTest + ' local=' + exec.scenario.iterationInInstance); }
      export function handleSummary() { return {}; }
    `;
    const all: number[] = [];
    const allIters: number[] = [];
    for (const seg of ['0:1/3', '1/3:2/3', '2/3:1']) {
      const r = await runScript(src, { executionSegment: seg, executionSegmentSequence: '0,1/3,2/3,1' });
      assert.equal(r.exitCode, 0, r.stderr);
      const lines = [...r.stderr.matchAll(/ID vu=(\d+) test=(\d+) it=(\d+) local=(\d+)/g)];
      assert.equal(lines.length, 4, `instance ${seg} runs 12/3 iterations`);
      const vus = new Set(lines.map((m) => Number(m[1])));
      assert.ok([...vus].every((v) => v >= 1 && v <= 2), 'idInInstance is 1..2 on every instance');
      all.push(...new Set(lines.map((m) => Number(m[2]))));
      allIters.push(...lines.map((m) => Number(m[3])));
    }
    assert.equal(new Set(all).size, all.length, `idInTest unique across instances: ${all}`);
    assert.deepEqual([...allIters].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});

describe('engine k6/execution', () => {
  it('vu/scenario/instance throw in the init context (execution.go)', async () => {
    const r = await runScript(`
      import exec from 'k6/execution';
      const msgs = [];
      for (const k of ['vu', 'scenario', 'instance']) { try { exec[k].idInTest; } catch (e) { msgs.push(k + ':' + e.message); } }
      console.log(msgs.join('|'));
      export default function () {}
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /vu:getting VU information in the init context is not supported/);
    assert.match(r.stderr, /scenario:getting scenario information outside of the VU context is not supported/);
    assert.match(r.stderr, /instance:getting instance information in the init context is not supported/);
  });

  it('test.abort() ends the run with exit code 108 (errext AbortTest, exitcodes ScriptAborted)', async () => {
    const t0 = Date.now();
    const r = await runScript(`
      import exec from 'k6/execution';
      export const options = { scenarios: { s: { executor: 'constant-vus', vus: 1, duration: '30s' } } };
      export default function () { if (__ITER === 2) exec.test.abort('enough'); }
    `);
    assert.equal(r.exitCode, 108, r.stderr);
    assert.match(r.stderr, /test aborted: enough/);
    assert.ok(Date.now() - t0 < 10_000);
  });

  it('test.fail() marks the run failed (exit 110) and lets it finish (exitcodes MarkedAsFailed)', async () => {
    const r = await runScript(`
      import exec from 'k6/execution';
      export const options = { iterations: 3 };
      export default function () { if (__ITER === 0) exec.test.fail('nope'); }
    `);
    assert.equal(r.exitCode, 110, r.stderr);
    assert.equal((r.summaryData as { metrics: { iterations: { values: { count: number } } } }).metrics.iterations.values.count, 3);
  });

  it('vu.metrics.tags adds tags to later samples and rejects objects (execution.go tagsDynamicObject)', async () => {
    const r = await runScript(`
      import exec from 'k6/execution';
      import { Counter } from 'k6/metrics';
      const c = new Counter('tagged');
      export const options = { thresholds: { 'tagged{session:abc}': ['count==1'] } };
      export default function () {
        exec.vu.metrics.tags.session = 'abc';
        c.add(1);
        try { exec.vu.metrics.tags.bad = {}; } catch (e) { console.log('TYPE ' + (e instanceof TypeError)); }
        console.log('scenario tag ' + exec.vu.metrics.tags.scenario);
      }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /TYPE true/);
    assert.match(r.stderr, /scenario tag default/);
  });
});
