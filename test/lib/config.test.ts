import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { durationMs, KNOBS, knobTable, loadConfig } from '../../lib/config.ts';

test('defaults apply when nothing is set, profile defaults override them', () => {
  const c = loadConfig({});
  assert.equal(c.target, 'ws://127.0.0.1:8080');
  assert.equal(c.rejectStyle, 'any');
  assert.equal(c.probeStatus, true);
  assert.equal(c.holdSeconds, 30);
  assert.deepEqual(c.pocUserIds, ['poc-user', 'poc_user', 'poc', 'anonymous']);
  assert.equal(loadConfig({}, { VOICE_HOLD_SECONDS: '3' }).holdSeconds, 3);
  assert.equal(loadConfig({ VOICE_HOLD_SECONDS: '7' }, { VOICE_HOLD_SECONDS: '3' }).holdSeconds, 7);
});

test('bad values fail with one line naming the variable', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ VOICE_TARGET: 'http://x' }, /^VOICE_TARGET="http:\/\/x" is not valid: expected ws:\/\//],
    [{ VOICE_TARGET: 'ws://h/p?token=abc' }, /^VOICE_TARGET=/],
    [{ VOICE_HOLD_SECONDS: 'abc' }, /^VOICE_HOLD_SECONDS="abc" is not valid: expected a number$/],
    [{ VOICE_REJECT_STYLE: 'both' }, /expected one of any, close, http/],
    [{ VOICE_FALSE_REJECT_MAX: '2' }, /from 0 to 1/],
    [{ VOICE_DURATION: '5 minutes' }, /k6 duration/],
    [{ VOICE_PROBE_STATUS: 'maybe' }, /true or false/],
    [{ VOICE_AUDIO_RATE: '100' }, /at least 8000/],
    [{ VOICE_RUN_ID: 'a-b' }, /letters or digits/],
    [{ VOICE_HOLD_SECONDZ: '3' }, /^VOICE_HOLD_SECONDZ is not a known setting/],
    [{ VOICE_SPIKE_BASE: '9', VOICE_SPIKE_PEAK: '3' }, /above VOICE_SPIKE_PEAK/],
  ];
  for (const [env, re] of cases) {
    assert.throws(() => loadConfig(env), (err: Error) => {
      assert.match(err.message, re);
      assert.ok(!err.message.includes('\n'), 'one line');
      return true;
    });
  }
});

test('durations parse like k6', () => {
  assert.equal(durationMs('90s'), 90000);
  assert.equal(durationMs('1h30m'), 5400000);
  assert.equal(durationMs('250ms'), 250);
  assert.ok(Number.isNaN(durationMs('10')));
});

test('README.md and docs/scenarios.md carry the current knob table', () => {
  for (const file of ['../../README.md', '../../docs/scenarios.md']) {
    const doc = readFileSync(new URL(file, import.meta.url), 'utf8');
    assert.ok(doc.includes(knobTable()), `${file}: regenerate the table: node --import tsx -e "import('./lib/config.ts').then(m=>console.log(m.knobTable()))"`);
  }
  assert.equal(new Set(KNOBS.map((k) => k.env)).size, KNOBS.length);
  for (const k of KNOBS) assert.match(k.env, /^VOICE_[A-Z0-9_]+$/);
});
