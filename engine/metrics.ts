// The metrics engine: a registry of metrics (k6 metrics/registry.go), one sink per metric
// and per threshold submetric (k6 metrics/sink.go), and fan-out of raw samples to outputs.
//
// Trend memory: values are kept exactly (a growable Float64Array, 8 bytes per sample) up to
// TREND_EXACT_CAP samples per (sub)metric; past that the trend folds into a log-bucket
// histogram with 0.1 % relative error, so a long soak cannot exhaust memory. Percentiles up
// to the cap are computed exactly as k6 does (sorted values, linear interpolation).
import type { Metric, MetricType, MetricsSink, Sample, Tags, ValueType } from './types.ts';

const NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]{1,128}$/;
export const TREND_EXACT_CAP = 1 << 20;
const LOG_BASE = Math.log1p(1e-3);

export interface Sink {
  add(value: number): void;
  readonly count: number;
  /** k6's summary values for this sink type (durationMs: test run duration). */
  values(durationMs: number, trendStats: readonly string[]): Record<string, number>;
  /** The aggregate a threshold asks for, or undefined when it does not exist (no samples). */
  aggregate(method: string, arg: number | undefined, durationMs: number): number | undefined;
}

class CounterSink implements Sink {
  count = 0;
  sum = 0;
  add(v: number): void {
    this.count++;
    this.sum += v;
  }
  values(d: number): Record<string, number> {
    return { count: this.sum, rate: d > 0 ? this.sum / (d / 1000) : 0 };
  }
  aggregate(m: string, _a: number | undefined, d: number): number | undefined {
    if (this.count === 0) return undefined;
    if (m === 'count') return this.sum;
    if (m === 'rate') return d > 0 ? this.sum / (d / 1000) : undefined;
    return undefined;
  }
}

class GaugeSink implements Sink {
  count = 0;
  last = 0;
  min = Infinity;
  max = -Infinity;
  add(v: number): void {
    this.count++;
    this.last = v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
  values(): Record<string, number> {
    return { value: this.last, min: this.count ? this.min : 0, max: this.count ? this.max : 0 };
  }
  aggregate(m: string): number | undefined {
    return this.count > 0 && m === 'value' ? this.last : undefined;
  }
}

class RateSink implements Sink {
  count = 0;
  trues = 0;
  add(v: number): void {
    this.count++;
    if (v !== 0) this.trues++;
  }
  values(): Record<string, number> {
    return { rate: this.count ? this.trues / this.count : 0, passes: this.trues, fails: this.count - this.trues };
  }
  aggregate(m: string): number | undefined {
    return this.count > 0 && m === 'rate' ? this.trues / this.count : undefined;
  }
}

export class TrendSink implements Sink {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private vals: Float64Array | null = new Float64Array(64);
  private sorted = true;
  private hist: Map<number, number> | null = null;

  add(v: number): void {
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (this.vals) {
      const n = this.count - 1;
      if (n >= TREND_EXACT_CAP) {
        this.fold();
        this.histAdd(v);
        return;
      }
      if (n >= this.vals.length) {
        const next = new Float64Array(Math.min(this.vals.length * 2, TREND_EXACT_CAP));
        next.set(this.vals);
        this.vals = next;
      }
      if (this.sorted && n > 0 && (this.vals[n - 1] ?? 0) > v) this.sorted = false;
      this.vals[n] = v;
    } else {
      this.histAdd(v);
    }
  }

  private bucketOf(v: number): number {
    if (v === 0) return 0;
    const b = Math.round(Math.log(Math.abs(v)) / LOG_BASE);
    // Offset so that 0 stays reserved; sign keeps negatives apart.
    return v > 0 ? b + 1e9 : -(b + 1e9);
  }
  private valueOf(bucket: number): number {
    if (bucket === 0) return 0;
    const b = Math.abs(bucket) - 1e9;
    const v = Math.exp(b * LOG_BASE);
    return bucket > 0 ? v : -v;
  }
  private histAdd(v: number): void {
    const h = this.hist ?? new Map<number, number>();
    this.hist = h;
    const k = this.bucketOf(v);
    h.set(k, (h.get(k) ?? 0) + 1);
  }
  private fold(): void {
    const vals = this.vals;
    this.vals = null;
    if (!vals) return;
    for (let i = 0; i < TREND_EXACT_CAP; i++) this.histAdd(vals[i] ?? 0);
  }

  /** k6 TrendSink.P: linear interpolation between the two closest ranks. */
  percentile(pct: number): number {
    if (this.count === 0) return 0;
    if (this.vals) {
      const n = this.count;
      const view = this.vals.subarray(0, n);
      if (!this.sorted) {
        view.sort();
        this.sorted = true;
      }
      if (n === 1) return view[0] ?? 0;
      const i = pct * (n - 1);
      const lo = view[Math.floor(i)] ?? 0;
      const hi = view[Math.ceil(i)] ?? 0;
      return lo + (hi - lo) * (i - Math.floor(i));
    }
    const entries = [...(this.hist ?? new Map<number, number>()).entries()]
      .map(([k, c]) => [this.valueOf(k), c] as const)
      .sort((a, b) => a[0] - b[0]);
    const rank = pct * (this.count - 1);
    let seen = 0;
    for (const [v, c] of entries) {
      seen += c;
      if (seen - 1 >= rank) return Math.min(Math.max(v, this.min), this.max);
    }
    return this.max;
  }

  values(_d: number, stats: readonly string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of stats) {
      const v = this.stat(s);
      if (v !== undefined) out[s] = v;
    }
    return out;
  }

  stat(s: string): number | undefined {
    switch (s) {
      case 'avg':
        return this.count ? this.sum / this.count : 0;
      case 'min':
        return this.count ? this.min : 0;
      case 'max':
        return this.count ? this.max : 0;
      case 'med':
        return this.percentile(0.5);
      case 'count':
        return this.count;
      default: {
        const m = /^p\((\d+(?:\.\d+)?)\)$/.exec(s);
        return m ? this.percentile(Number(m[1]) / 100) : undefined;
      }
    }
  }

  aggregate(m: string, arg: number | undefined): number | undefined {
    if (this.count === 0) return undefined;
    if (m === 'p') return this.percentile((arg ?? 0) / 100);
    if (m === 'avg' || m === 'min' || m === 'max' || m === 'med') return this.stat(m);
    return undefined;
  }
}

export function newSink(type: MetricType): Sink {
  switch (type) {
    case 'counter':
      return new CounterSink();
    case 'gauge':
      return new GaugeSink();
    case 'rate':
      return new RateSink();
    case 'trend':
      return new TrendSink();
  }
}

export interface Submetric {
  /** e.g. `voice_rejected{auth_case:valid}` (k6 keeps the text between braces as written). */
  readonly name: string;
  readonly suffix: string;
  readonly tags: Tags;
  readonly sink: Sink;
}

export class MetricEntry implements Metric {
  readonly sink: Sink;
  readonly submetrics = new Map<string, Submetric>();
  constructor(
    readonly name: string,
    readonly type: MetricType,
    readonly contains: ValueType,
  ) {
    this.sink = newSink(type);
  }
}

export type SampleListener = (samples: readonly Sample[]) => void;

/** Parses `name{k:v,k2:"v2"}` as k6 ParseMetricName does. */
export function parseMetricName(full: string): { name: string; suffix: string; tags: Tags } {
  const open = full.indexOf('{');
  const close = full.lastIndexOf('}');
  if (open === -1 && close === -1) return { name: full.trim(), suffix: '', tags: {} };
  if (open === -1 || close === -1 || close < open || close !== full.length - 1) {
    throw new Error(`failed parsing metric name ${JSON.stringify(full)}: braces are malformed`);
  }
  const name = full.slice(0, open).trim();
  const suffix = full.slice(open + 1, close);
  const tags: Tags = {};
  for (const part of suffix.split(',')) {
    const idx = part.indexOf(':');
    if (idx === -1) throw new Error(`failed parsing metric name, metric ${JSON.stringify(part)} tag expression is malformed`);
    const unq = (s: string) => s.trim().replace(/^(['"])(.*)\1$/, '$2');
    const k = unq(part.slice(0, idx));
    const v = unq(part.slice(idx + 1));
    if (!k) throw new Error(`failed parsing metric name, metric ${JSON.stringify(part)} tag expression is malformed`);
    tags[k] = v;
  }
  return { name, suffix, tags };
}

export class MetricRegistry implements MetricsSink {
  readonly metrics = new Map<string, MetricEntry>();
  private readonly listeners: SampleListener[] = [];

  metric(name: string, type: MetricType, contains: ValueType = 'default'): MetricEntry {
    if (!NAME_RE.test(name)) {
      throw new Error(
        `Invalid metric name: '${name}'. Metric names must only include up to 128 ASCII letters, numbers, or underscores and start with a letter or an underscore.`,
      );
    }
    const old = this.metrics.get(name);
    if (old) {
      if (old.type !== type) throw new Error(`metric '${name}' already exists but with type ${old.type}, instead of ${type}`);
      if (old.contains !== contains) {
        throw new Error(`metric '${name}' already exists but with a value type ${old.contains}, instead of ${contains}`);
      }
      return old;
    }
    const m = new MetricEntry(name, type, contains);
    this.metrics.set(name, m);
    return m;
  }

  get(name: string): MetricEntry | undefined {
    return this.metrics.get(name);
  }

  /** Adds (or returns) the submetric `parent{suffix}` used by a threshold. */
  addSubmetric(parent: MetricEntry, suffix: string, tags: Tags): Submetric {
    const name = `${parent.name}{${suffix}}`;
    const existing = parent.submetrics.get(name);
    if (existing) return existing;
    const sub: Submetric = { name, suffix, tags, sink: newSink(parent.type) };
    parent.submetrics.set(name, sub);
    return sub;
  }

  onSamples(l: SampleListener): void {
    this.listeners.push(l);
  }

  push(samples: Sample | readonly Sample[]): void {
    let list: readonly Sample[] = Array.isArray(samples) ? (samples as readonly Sample[]) : [samples as Sample];
    // A sample stamped with Date.now() (whole ms) gets the current sub-millisecond part:
    // k6's times are ns, and InfluxDB overwrites points of one series with equal times.
    if (list.some((s) => Number.isInteger(s.time))) {
      const frac = nowMs() % 1;
      list = list.map((s) => (Number.isInteger(s.time) ? { ...s, time: s.time + frac } : s));
    }
    for (const s of list) {
      const m = this.metrics.get(s.metric.name);
      if (!m) continue;
      m.sink.add(s.value);
      for (const sub of m.submetrics.values()) {
        let match = true;
        for (const k in sub.tags) {
          if (s.tags[k] !== sub.tags[k]) {
            match = false;
            break;
          }
        }
        if (match) sub.sink.add(s.value);
      }
    }
    for (const l of this.listeners) l(list);
  }
}

/** k6's built-in metrics that the engine itself emits (metrics/builtin.go). */
export function registerBuiltins(r: MetricRegistry) {
  return {
    vus: r.metric('vus', 'gauge'),
    vusMax: r.metric('vus_max', 'gauge'),
    iterations: r.metric('iterations', 'counter'),
    iterationDuration: r.metric('iteration_duration', 'trend', 'time'),
    droppedIterations: r.metric('dropped_iterations', 'counter'),
    checks: r.metric('checks', 'rate'),
    dataSent: r.metric('data_sent', 'counter', 'data'),
    dataReceived: r.metric('data_received', 'counter', 'data'),
    groupDuration: r.metric('group_duration', 'trend', 'time'),
    // Declared up front as k6 does, so thresholds on them validate before any VU uses them.
    httpReqs: r.metric('http_reqs', 'counter'),
    httpReqFailed: r.metric('http_req_failed', 'rate'),
    httpReqDuration: r.metric('http_req_duration', 'trend', 'time'),
    httpReqBlocked: r.metric('http_req_blocked', 'trend', 'time'),
    httpReqConnecting: r.metric('http_req_connecting', 'trend', 'time'),
    httpReqTLS: r.metric('http_req_tls_handshaking', 'trend', 'time'),
    httpReqSending: r.metric('http_req_sending', 'trend', 'time'),
    httpReqWaiting: r.metric('http_req_waiting', 'trend', 'time'),
    httpReqReceiving: r.metric('http_req_receiving', 'trend', 'time'),
    wsSessions: r.metric('ws_sessions', 'counter'),
    wsMsgsSent: r.metric('ws_msgs_sent', 'counter'),
    wsMsgsReceived: r.metric('ws_msgs_received', 'counter'),
    wsPing: r.metric('ws_ping', 'trend', 'time'),
    wsSessionDuration: r.metric('ws_session_duration', 'trend', 'time'),
    wsConnecting: r.metric('ws_connecting', 'trend', 'time'),
  };
}
export type Builtins = ReturnType<typeof registerBuiltins>;

/** Sample timestamps with sub-millisecond precision (k6 times are ns; whole ms would collide in InfluxDB). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
