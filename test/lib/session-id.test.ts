import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeSessionId, parseSessionId, randomRunId, scenarioCode, SESSION_ID_MAX } from '../../lib/session-id.ts';
import { PROFILE_DEFAULTS } from '../../lib/profile-defaults.ts';

test('ids are unique across instances sharing an execution-segment sequence', () => {
  // k6 striping with N equal segments and a shared sequence: instance i gets i+1, i+1+N, ...
  const N = 4;
  const seen = new Set<string>();
  for (let inst = 0; inst < N; inst++) {
    for (let k = 0; k < 50; k++) {
      const vu = inst + 1 + k * N;
      for (const scen of ['valid', 'no_token', 'invalid']) {
        for (let j = 0; j < 5; j++) {
          const it = inst + j * N; // iterationInTest is striped the same way
          const id = makeSessionId({ runId: 'abc123', userIndex: scen === 'valid' ? it % 7 : null, scenarioCode: scenarioCode(scen), iterationInTest: it + k * 1000, vuIdInTest: vu });
          assert.ok(!seen.has(id), `duplicate ${id}`);
          seen.add(id);
        }
      }
    }
  }
  assert.equal(seen.size, N * 50 * 3 * 5);
});

test('a random run id per instance keeps ids apart even when segment ids collide', () => {
  // Without a shared sequence all instances compute the same idInTest values (k6 notes §6).
  let n = 0;
  const src = (len: number) => Uint8Array.from({ length: len }, (_, i) => (n * 37 + i * 11) % 256);
  const a = randomRunId(src);
  n = 1;
  const b = randomRunId(src);
  assert.notEqual(a, b);
  const p = { userIndex: 3, scenarioCode: 'va', iterationInTest: 2, vuIdInTest: 5 };
  assert.notEqual(makeSessionId({ runId: a, ...p }), makeSessionId({ runId: b, ...p }));
});

test('ids parse back to their parts and name the pool user', () => {
  const parts = { runId: 'r7f3k2q9', userIndex: 99999, scenarioCode: 'vc', iterationInTest: 123456789, vuIdInTest: 4242 };
  const id = makeSessionId(parts);
  assert.deepEqual(parseSessionId(id), parts);
  const none = makeSessionId({ ...parts, userIndex: null, scenarioCode: 'in' });
  assert.equal(parseSessionId(none)?.userIndex, null);
  assert.equal(parseSessionId('not-ours'), null);
});

test('ids are URL-safe and at most 64 characters in the worst case', () => {
  const id = makeSessionId({ runId: 'ABCDEFGHIJKL', userIndex: 9_999_999, scenarioCode: scenarioCode('some_long_custom_scenario_name'), iterationInTest: 2 ** 40, vuIdInTest: 9_999_999 });
  assert.ok(id.length <= SESSION_ID_MAX, `${id.length}`);
  assert.equal(encodeURIComponent(id), id);
  assert.match(id, /^[A-Za-z0-9-]+$/);
});

test('bad run ids are refused', () => {
  assert.throws(() => makeSessionId({ runId: 'has-dash', userIndex: 1, scenarioCode: 'va', iterationInTest: 0, vuIdInTest: 1 }), /run id/);
  assert.throws(() => makeSessionId({ runId: '', userIndex: 1, scenarioCode: 'va', iterationInTest: 0, vuIdInTest: 1 }), /run id/);
});

test('scenario codes of every profile scenario are distinct', () => {
  const names = ['valid', 'no_token', 'invalid', 'valid_capacity', 'valid_spike', 'x', 'y', 'custom_one'];
  const codes = names.map(scenarioCode);
  assert.equal(new Set(codes).size, codes.length);
  for (const c of codes) assert.match(c, /^[a-z][a-z0-9]{0,4}$/);
  assert.ok(Object.keys(PROFILE_DEFAULTS).length >= 5);
});
