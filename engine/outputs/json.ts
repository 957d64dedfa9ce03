// `-o json=FILE`: k6's JSON lines (k6 internal/output/json/{json.go,wrapper.go}): a
// {"type":"Metric",…} line the first time a metric is seen, then one
// {"metric":…,"type":"Point","data":{"time","value","tags","metadata"?}} line per sample.
import { createWriteStream, type WriteStream } from 'node:fs';
import { createGzip, type Gzip } from 'node:zlib';
import { EngineError } from '../errors.ts';
import { parseDuration } from '../duration.ts';
import type { ThresholdSet } from '../thresholds.ts';
import type { Metric, Sample } from '../types.ts';
import type { Output } from './types.ts';

/** RFC 3339 with sub-second digits, as Go's time.Time marshals (UTC). */
export function rfc3339(ms: number): string {
  const d = new Date(Math.floor(ms));
  const base = d.toISOString().slice(0, 19);
  const frac = Math.min(999_999_999, Math.round((ms - Math.floor(ms / 1000) * 1000) * 1e6));
  const digits = String(frac).padStart(9, '0').replace(/0+$/, '');
  return `${base}${digits ? `.${digits}` : ''}Z`;
}

export class JsonOutput implements Output {
  readonly description: string;
  private stream: WriteStream | undefined;
  private gzip: Gzip | undefined;
  private readonly seen = new Set<string>();
  private thresholds = new Map<string, ThresholdSet>();
  private buf: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly path: string) {
    if (!path) throw new EngineError('the json output needs a file name: -o json=FILE', 255);
    this.description = `json (${path})`;
  }

  setThresholds(sets: readonly ThresholdSet[]): void {
    for (const s of sets) this.thresholds.set(s.key, s);
  }

  async start(): Promise<void> {
    const stream = createWriteStream(this.path, { flags: 'w' });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (e) => reject(new EngineError(`could not create the 'json' output: ${e.message}`, 255)));
    });
    this.stream = stream;
    if (this.path.endsWith('.gz')) {
      this.gzip = createGzip();
      this.gzip.pipe(stream);
    }
    this.timer = setInterval(() => this.flush(), 1000);
    this.timer.unref();
  }

  private metricLine(m: Metric & { submetrics?: Map<string, { name: string; suffix: string; tags: Record<string, string> }> }): string {
    const ts = this.thresholds.get(m.name);
    const subs = m.submetrics && m.submetrics.size > 0 ? [...m.submetrics.values()].map((s) => ({ name: s.name, suffix: s.suffix, tags: s.tags })) : null;
    return JSON.stringify({
      type: 'Metric',
      data: {
        name: m.name,
        type: m.type,
        contains: m.contains,
        thresholds: ts ? ts.config.map(thresholdJson) : [],
        submetrics: subs,
      },
      metric: m.name,
    });
  }

  addSamples(samples: readonly Sample[]): void {
    for (const s of samples) {
      if (!this.seen.has(s.metric.name)) {
        this.seen.add(s.metric.name);
        this.buf.push(this.metricLine(s.metric));
      }
      const data: Record<string, unknown> = { time: rfc3339(s.time), value: s.value, tags: s.tags };
      if (s.metadata && Object.keys(s.metadata).length > 0) data.metadata = s.metadata;
      this.buf.push(JSON.stringify({ metric: s.metric.name, type: 'Point', data }));
    }
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    const text = `${this.buf.join('\n')}\n`;
    this.buf = [];
    (this.gzip ?? this.stream)?.write(text);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.flush();
    const target = this.gzip ?? this.stream;
    if (!target) return;
    await new Promise<void>((r) => {
      this.stream?.once('close', () => r());
      target.end();
      setTimeout(r, 5000).unref();
    });
    this.stream = undefined;
  }
}

/**
 * k6 metrics/thresholds.go thresholdConfig.MarshalJSON: the bare source string, or the object
 * form only when abortOnFail is set (delayAbortEval as a Go duration string, or null).
 */
function thresholdJson(c: { threshold: string; abortOnFail: boolean; delayAbortEval: string | null }): unknown {
  if (!c.abortOnFail) return c.threshold;
  let delay: string | null = null;
  if (c.delayAbortEval !== null) {
    try {
      delay = goDuration(parseDuration(c.delayAbortEval));
    } catch {
      delay = c.delayAbortEval;
    }
  }
  return { threshold: c.threshold, abortOnFail: true, delayAbortEval: delay };
}

/** Go's time.Duration.String() for a whole number of milliseconds (1s, 1m30s, 1h0m0s, 500ms, 0s). */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let rest = Math.abs(ms);
  let out: string;
  if (rest < 1000) out = `${rest}ms`;
  else {
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    const sec = (rest / 1000).toFixed(3).replace(/\.?0+$/, '');
    out = h > 0 ? `${h}h${m}m${sec}s` : m > 0 ? `${m}m${sec}s` : `${sec}s`;
  }
  return neg ? `-${out}` : out;
}
