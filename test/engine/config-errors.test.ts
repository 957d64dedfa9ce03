// Bad configuration exits 104 (InvalidConfig) with k6's messages (lib/executors.go,
// lib/executor/*.go Validate, metrics/thresholds.go Validate, metrics/thresholds_parser.go).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScript } from '../helpers/engine-run.ts';

const cases: [string, string, RegExp][] = [
  ['an unknown executor (lib/executors.go)', `{ scenarios: { a: { executor: 'nope' } } }`, /unknown executor type 'nope'/],
  ['externally-controlled, removed in v2.0.0', `{ scenarios: { a: { executor: 'externally-controlled', vus: 1 } } }`, /externally-controlled/],
  ['an unknown scenario field (strict decoding)', `{ scenarios: { a: { executor: 'shared-iterations', vus: 1, iterations: 1, rampUp: '1s' } } }`, /unknown field "rampUp"/],
  ['iterations < vus (shared_iterations.go Validate)', `{ scenarios: { a: { executor: 'shared-iterations', vus: 5, iterations: 2 } } }`, /can't be less than the number of VUs/],
  ['constant-vus without duration (constant_vus.go)', `{ scenarios: { a: { executor: 'constant-vus', vus: 1 } } }`, /the duration is unspecified/],
  ['arrival rate without preAllocatedVUs (constant_arrival_rate.go)', `{ scenarios: { a: { executor: 'constant-arrival-rate', rate: 1, duration: '1s' } } }`, /preAllocatedVUs isn't specified/],
  ['a bad scenario name (base_config.go)', `{ scenarios: { 'a b': { executor: 'shared-iterations' } } }`, /scenario name should contain only/],
  ['a malformed threshold expression (thresholds_parser.go)', `{ thresholds: { iterations: ['count >> 2'] } }`, /failed parsing threshold expres+ion/],
  ['an aggregation the metric type lacks (thresholds.go Validate)', `{ thresholds: { iterations: ['p(95)<2'] } }`, /unsupported aggregation method p on metric of type counter/],
  ['a threshold on an unknown metric', `{ thresholds: { not_a_metric: ['count>0'] } }`, /no metric name "not_a_metric" found/],
  ['a missing exec function', `{ scenarios: { a: { executor: 'shared-iterations', exec: 'nothere' } } }`, /function 'nothere' not found in exports/],
];

describe('engine config errors', () => {
  for (const [what, opts, re] of cases) {
    it(`exits 104 on ${what}`, async () => {
      const r = await runScript(`export const options = ${opts}; export default function () {}`);
      assert.equal(r.exitCode, 104, r.stderr);
      assert.match(r.stderr, re);
    });
  }
});

describe('engine config error wording, as k6 v2.2.0 prints it (measured; internal/cmd/test_load.go, internal/cmd/config.go, lib/executors.go)', () => {
  const msg = (stderr: string) => /level=error msg="((?:[^"\\]|\\.)*)"/.exec(stderr)?.[1] ?? '';
  it('decoding errors carry "could not initialize \'SCRIPT\': could not load JS test \'file://…\'"', async () => {
    const r = await runScript(`export const options = { scenarios: { a: { executor: 'nope' } } }; export default function () {}`);
    assert.equal(r.exitCode, 104);
    assert.match(msg(r.stderr), /^could not initialize '[^']*script\.js': could not load JS test 'file:\/\/\/[^']*script\.js': unknown executor type 'nope'$/);
  });
  it('validation errors: "There were problems with the specified script configuration:" then "scenario X has configuration errors: a, b"', async () => {
    const r = await runScript(`export const options = { scenarios: { a: { executor: 'constant-vus', vus: -1, duration: '300ms' } } }; export default function () {}`);
    assert.equal(r.exitCode, 104);
    assert.match(msg(r.stderr), /^There were problems with the specified script configuration:\\n\\t- scenario a has configuration errors: [^\\]+, [^\\]+$/);
  });
  it('a missing exec function: "- executor default: function \'default\' not found in exports" under the same heading', async () => {
    const r = await runScript(`export function other() {}`);
    assert.equal(r.exitCode, 104);
    assert.equal(msg(r.stderr), "There were problems with the specified script configuration:\\n\\t- executor default: function 'default' not found in exports");
  });
});

describe('engine execution shortcuts (lib/executor/execution_config_shortcuts.go, lib/options.go Apply)', () => {
  it('derives the default scenario like k6', async () => {
    const { deriveScenarios } = await import('../../engine/options.ts');
    const one = (o: Record<string, unknown>, ...t: Record<string, unknown>[]) => {
      const [s] = deriveScenarios(o, ...t);
      return s as unknown as Record<string, unknown>;
    };
    assert.equal(one({}).executor, 'per-vu-iterations');
    assert.deepEqual([one({ vus: 3 }).executor, one({ vus: 3 }).iterations], ['shared-iterations', 3]);
    assert.equal(one({ duration: '2s', vus: 2 }).executor, 'constant-vus');
    assert.equal(one({ stages: [{ duration: '1s', target: 2 }] }).executor, 'ramping-vus');
    // a CLI duration replaces the script's scenarios; the script's vus stay
    const s = one({ vus: 4, scenarios: { a: { executor: 'shared-iterations' } } }, { duration: '3s' });
    assert.deepEqual([s.executor, s.vus, s.durationMs], ['constant-vus', 4, 3000]);
    // vus alone overrides scenarios (with a warning in k6)
    assert.equal(one({ vus: 2, scenarios: { a: { executor: 'constant-vus', duration: '1s' } } }).name, 'default');
    assert.throws(() => deriveScenarios({ iterations: 2, scenarios: { a: { executor: 'shared-iterations' } } }), /`iterations` and `scenarios`/);
    assert.throws(() => deriveScenarios({ duration: '0s' }), /should be more than 0/);
  });
});
