// The text summary as a person reads it: aligned refusal table, a capacity run that found no
// breakpoint said so, and mismatch expectations in the configured style only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultExpectation, expectedRefusal } from '../../lib/classify.ts';
import { analyse, textReport, type SummaryData, type SummaryInfo } from '../../lib/summary.ts';

const base: SummaryInfo = {
  profile: 'smoke',
  resultsDir: '',
  variants: { noToken: ['missing'], invalid: ['hs256_key_confusion'] },
  classes: { valid: true, noToken: true, invalid: true },
  requireAllVariants: false,
  attribution: 'event',
  probeStatus: true,
};
const rate = (passes: number, fails: number, ok = true): SummaryData['metrics'][string] => ({
  type: 'rate',
  values: { rate: passes / Math.max(1, passes + fails), passes, fails },
  thresholds: { 'rate>=1': { ok } },
});

test('refusal table: every column header ends where its numbers end (regression: header sat 10 columns left)', () => {
  const data: SummaryData = { metrics: { 'voice_rejected{variant:missing}': rate(3, 0), 'voice_rejected{variant:hs256_key_confusion}': rate(12, 0) } };
  const lines = textReport(analyse(data, base)).split('\n');
  const header = lines.find((l) => l.trimStart().startsWith('refusals'));
  const row = lines.find((l) => l.includes('invalid/hs256_key_confusion'));
  assert.ok(header && row, lines.join('\n'));
  const rowNumbers = [...row.matchAll(/\d+/g)].map((m) => (m.index ?? 0) + m[0].length).filter((end) => end > row.indexOf('confusion') + 9);
  const headerEnds = [...header.matchAll(/attempts|rejected|bypass|mismatch/g)].map((m) => (m.index ?? 0) + m[0].length);
  assert.deepEqual(rowNumbers, headerEnds);
});

test('variants a non-smoke run never exercised are named, not left as silent 0 rows', () => {
  const info: SummaryInfo = { ...base, profile: 'load', variants: { noToken: ['missing'], invalid: ['expired', 'alg_none'] } };
  const text = textReport(analyse({ metrics: { 'voice_rejected{variant:missing}': rate(2, 0), 'voice_rejected{variant:expired}': rate(3, 0) } }, info));
  assert.match(text, /not exercised in this run \(1\): alg_none; run longer/);
  const all = textReport(analyse({ metrics: { 'voice_rejected{variant:missing}': rate(2, 0), 'voice_rejected{variant:expired}': rate(3, 0), 'voice_rejected{variant:alg_none}': rate(1, 0) } }, info));
  assert.doesNotMatch(all, /not exercised/);
});

test('capacity: when every stage held the summary says no breakpoint was found, not a capacity figure', () => {
  const stage = (n: string): SummaryData['metrics'] => ({
    [`voice_session_success{stage:${n}}`]: rate(10, 0),
    [`voice_handshake_duration{stage:${n}}`]: { type: 'trend', values: { 'p(95)': 10 }, thresholds: { 'p(95)<1000': { ok: true } } },
  });
  const info: SummaryInfo = { ...base, profile: 'capacity', capacity: { stages: [{ name: 's1', rate: 1, concurrent: 3 }, { name: 's2', rate: 3, concurrent: 9 }] } };
  const all = textReport(analyse({ metrics: { ...stage('s1'), ...stage('s2') } }, info));
  assert.match(all, /every stage held up to s2: 3 new sessions\/s, .*no breakpoint found/);
  assert.doesNotMatch(all, /highest stage that held/);
  const broke = textReport(analyse({ metrics: { ...stage('s1') } }, info));
  assert.match(broke, /highest stage that held: s1: 1 new sessions\/s/);
});

test('a mismatch names only the refusal the configured style requires (regression: "close 1008 … or HTTP 401/403 (style http)")', () => {
  const e = defaultExpectation('invalid', 'expired', 'http');
  assert.equal(expectedRefusal(e, 'http'), 'HTTP 401/403 (style http)');
  assert.equal(expectedRefusal(e, 'close'), 'close 1008 "Invalid token" (style close)');
  assert.equal(expectedRefusal(defaultExpectation('no_token', 'missing', 'any'), 'any'), 'close 1008 "Authentication required" or HTTP 401/403');
});
