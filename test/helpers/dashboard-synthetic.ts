// A synthetic k6 run written in k6's InfluxDB v1 schema (measurement per metric, field
// "value", tags; url as a field), with the summary k6 would export for it. Used to prove
// the query machinery on every panel (including counters a healthy reference run leaves at
// zero) independently of the engine.
type Json = Record<string, any>;

export interface SyntheticRun {
  lines: string[];
  summary: Json;
  fromMs: number;
  toMs: number;
  scenarios: string[];
  authCases: string[];
}

/** k6's trend percentile: linear interpolation between closest ranks. */
function k6Percentile(sorted: number[], p: number): number {
  if (sorted.length === 1) return sorted[0]!;
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function trendSummary(values: number[]): Json {
  const s = [...values].sort((a, b) => a - b);
  return {
    avg: s.reduce((a, b) => a + b, 0) / s.length,
    min: s[0],
    med: k6Percentile(s, 0.5),
    max: s[s.length - 1],
    'p(90)': k6Percentile(s, 0.9),
    'p(95)': k6Percentile(s, 0.95),
    'p(99)': k6Percentile(s, 0.99),
  };
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const esc = (v: string) => v.replace(/([ ,=])/g, '\\$1');

export function syntheticRun({ testid, startMs, attempts, seed = 1 }: { testid: string; startMs: number; attempts: number; seed?: number }): SyntheticRun {
  const rand = rng(seed);
  const lines: string[] = [];
  const counters: Record<string, number> = {};
  const rates: Record<string, { passes: number; fails: number }> = {};
  const trends: Record<string, number[]> = {};
  const gauges: Record<string, { min: number; max: number; value: number }> = {};
  let tNs = BigInt(startMs) * 1_000_000n;
  const scenario = 'smoke';

  const point = (metric: string, tags: Record<string, string>, value: number) => {
    tNs += BigInt(1_000_000 + Math.floor(rand() * 3_000_000)); // 1–4 ms apart
    const tagStr = Object.entries({ ...tags, scenario, testid })
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${esc(k)}=${esc(v)}`)
      .join(',');
    const url = metric.startsWith('ws_') ? ',url="ws://127.0.0.1:8080/api/v1/voice/voicelive/{session_id}"' : '';
    lines.push(`${metric},${tagStr} value=${value}${url} ${tNs}`);
  };
  const add = (kind: 'counter' | 'rate' | 'trend', metric: string, tags: Record<string, string>, value: number, sub: string[] = []) => {
    point(metric, tags, value);
    for (const name of [metric, ...sub]) {
      if (kind === 'counter') counters[name] = (counters[name] ?? 0) + value;
      if (kind === 'rate') {
        const r = (rates[name] ??= { passes: 0, fails: 0 });
        if (value) r.passes++;
        else r.fails++;
      }
      if (kind === 'trend') (trends[name] ??= []).push(value);
    }
  };
  const gauge = (metric: string, value: number) => {
    tNs += 1_000_000n;
    lines.push(`${metric},testid=${esc(testid)} value=${value} ${tNs}`);
    const g = (gauges[metric] ??= { min: value, max: value, value });
    g.min = Math.min(g.min, value);
    g.max = Math.max(g.max, value);
    g.value = value;
  };

  const invalidVariants = ['expired', 'bad_signature', 'alg_none', 'wrong_audience'];
  for (let i = 0; i < attempts; i++) {
    if (i % 10 === 0) gauge('vus', 1 + (i % 4));
    const r = i % 5;
    const authCase = r < 3 ? 'valid' : r === 3 ? 'no_token' : 'invalid';
    const variant = authCase === 'valid' ? 'pool' : authCase === 'no_token' ? (i % 2 ? 'missing' : 'empty') : invalidVariants[i % invalidVariants.length]!;
    // A few deliberate defects so every verdict panel has something to count.
    const bypass = authCase !== 'valid' && i % 37 === 4;
    const falseReject = authCase === 'valid' && i % 41 === 0;
    const outcome = authCase === 'valid' ? (falseReject ? 'rejected_close' : 'accepted') : bypass ? 'accepted' : i % 3 ? 'rejected_close' : 'rejected_http';
    const tags = { auth_case: authCase, variant, outcome };
    const ws = { auth_case: authCase, variant, name: 'ws://127.0.0.1:8080/api/v1/voice/voicelive/{session_id}', status: outcome === 'rejected_http' ? '403' : '101' };
    add('trend', 'ws_connecting', ws, 2 + rand() * 20);
    add('counter', 'ws_sessions', ws, 1);
    add('trend', 'voice_handshake_duration', tags, 3 + rand() * (authCase === 'valid' ? 40 : 15), [`voice_handshake_duration{auth_case:${authCase}}`]);
    const rejected = outcome.startsWith('rejected') ? 1 : 0;
    add('rate', 'voice_rejected', tags, rejected, [`voice_rejected{auth_case:${authCase}}`]);
    if (rejected && authCase !== 'valid' && i % 23 === 3) add('counter', 'voice_rejection_mismatch', tags, 1);
    if (bypass) add('counter', 'voice_auth_bypass', tags, 1);
    if (outcome === 'accepted') {
      add('counter', 'voice_sessions_opened', tags, 1);
      add('trend', 'voice_first_event_duration', tags, 1 + rand() * 10);
      add('trend', 'voice_agent_response_duration', tags, 2 + rand() * 30);
      const frames = 3 + (i % 4);
      for (let k = 0; k < frames; k++) add('counter', 'ws_msgs_sent', ws, 1);
      for (let k = 0; k < 2; k++) add('counter', 'ws_msgs_received', ws, 1);
      if (authCase === 'valid') {
        if (i % 29 === 6) add('counter', 'voice_attribution_unverified', tags, 1);
        else add('rate', 'voice_attribution_errors', tags, i % 31 === 5 ? 1 : 0);
      }
      if (i % 19 === 2) add('counter', 'voice_unexpected_close', { ...tags, close_code: i % 2 ? '1011' : '1013' }, 1);
      add('counter', 'voice_sessions_closed', tags, 1);
    }
    if (i % 43 === 7) add('counter', 'dropped_iterations', {}, 1);
  }
  gauge('vus', 0);
  const endMs = Number(tNs / 1_000_000n) + 1;

  const metrics: Json = {};
  for (const [k, v] of Object.entries(counters)) metrics[k] = { count: v, rate: v / ((endMs - startMs) / 1000) };
  for (const [k, v] of Object.entries(rates)) metrics[k] = { passes: v.passes, fails: v.fails, value: v.passes / (v.passes + v.fails) };
  for (const [k, v] of Object.entries(trends)) metrics[k] = trendSummary(v);
  for (const [k, v] of Object.entries(gauges)) metrics[k] = v;
  return { lines, summary: { metrics }, fromMs: startMs - 1000, toMs: endMs + 1000, scenarios: [scenario], authCases: ['invalid', 'no_token', 'valid'] };
}
