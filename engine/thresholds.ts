// Thresholds with k6's grammar and validation (metrics/thresholds_parser.go,
// metrics/thresholds.go): `<agg> <op> <number>`, aggregations allowed per metric type,
// tag-filtered submetrics, "no samples → pass", abortOnFail with delayAbortEval.
import { parseDuration } from './duration.ts';
import { EngineError, ExitCode } from './errors.ts';
import { type MetricEntry, type MetricRegistry, parseMetricName, type Sink } from './metrics.ts';
import type { MetricType } from './types.ts';

const OPERATORS = ['<=', '<', '>=', '>', '===', '==', '!='] as const;
const METHODS = ['value', 'count', 'rate', 'avg', 'min', 'med', 'max', 'p'] as const;
const ALLOWED: Record<MetricType, readonly string[]> = {
  counter: ['count', 'rate'],
  gauge: ['value'],
  rate: ['rate'],
  trend: ['avg', 'min', 'max', 'med', 'p(N)'],
};

export interface ParsedExpression {
  method: string;
  arg?: number;
  op: (typeof OPERATORS)[number];
  value: number;
}

export function parseThresholdExpression(input: string): ParsedExpression {
  let found: { left: string; op: (typeof OPERATORS)[number]; right: string } | undefined;
  for (const op of OPERATORS) {
    const i = input.indexOf(op);
    if (i === -1) continue;
    const right = input.slice(i + op.length);
    if (right !== '') {
      found = { left: input.slice(0, i).trim(), op, right: right.trim() };
      break;
    }
  }
  if (!found) throw new Error(`failed parsing threshold expression ${JSON.stringify(input)}; reason: malformed threshold expression`);
  let method: string | undefined;
  let arg: number | undefined;
  if ((METHODS as readonly string[]).includes(found.left) && found.left !== 'p') method = found.left;
  else if (found.left.startsWith('p(') && found.left.endsWith(')')) {
    const raw = found.left.slice(2, -1);
    const n = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isNaN(n) || n < 0 || n > 100) {
      throw new Error(
        `failed parsing threshold expression's ${JSON.stringify(input)} left hand side; reason: malformed percentile value, provide a number between 0 and 100`,
      );
    }
    method = 'p';
    arg = n;
  }
  if (!method) {
    throw new Error(
      `failed parsing threshold expression's ${JSON.stringify(input)} left hand side; reason: failed parsing method from expression`,
    );
  }
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(found.right)) {
    throw new Error(
      `failed parsing threshold expresion's ${JSON.stringify(input)} right hand side; reason: strconv.ParseFloat: parsing ${JSON.stringify(found.right)}: invalid syntax`,
    );
  }
  return { method, ...(arg !== undefined ? { arg } : {}), op: found.op, value: Number(found.right) };
}

export interface Threshold {
  readonly source: string;
  readonly parsed: ParsedExpression;
  readonly abortOnFail: boolean;
  readonly delayAbortEvalMs: number;
  lastFailed: boolean;
}

export interface ThresholdSet {
  /** The key as written in options.thresholds, e.g. `voice_rejected{auth_case:valid}`. */
  readonly key: string;
  readonly metric: MetricEntry;
  readonly sink: Sink;
  readonly thresholds: Threshold[];
  /** Raw JSON config (for the JSON output's Metric lines). */
  readonly config: { threshold: string; abortOnFail: boolean; delayAbortEval: string | null }[];
}

function compare(a: number, op: ParsedExpression['op'], b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
    case '===':
      return a === b;
    case '!=':
      return a !== b;
  }
}

function configError(msg: string): EngineError {
  return new EngineError(msg, ExitCode.invalidConfig);
}

/** Parses and validates options.thresholds against the registry; adds the submetrics. */
export function buildThresholds(raw: unknown, registry: MetricRegistry, warn: (m: string) => void): ThresholdSet[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw !== 'object' || Array.isArray(raw)) throw configError('options.thresholds must be an object');
  const sets: ThresholdSet[] = [];
  for (const [key, defs] of Object.entries(raw as Record<string, unknown>)) {
    let parsedName: ReturnType<typeof parseMetricName>;
    try {
      parsedName = parseMetricName(key);
    } catch (e) {
      throw configError(`unable to validate threshold expressions; reason: ${(e as Error).message}`);
    }
    const metric = registry.get(parsedName.name);
    if (!metric) {
      throw configError(`invalid threshold defined on ${key}; reason: no metric name ${JSON.stringify(key)} found`);
    }
    for (const k of Object.keys(parsedName.tags)) {
      if (k === 'vu' || k === 'iter') {
        warn(`the ${k} tag is metadata in k6 and cannot be used in threshold ${key}; it will never match`);
      }
    }
    const list = Array.isArray(defs) ? defs : [defs];
    const thresholds: Threshold[] = [];
    const config: ThresholdSet['config'] = [];
    for (const d of list) {
      let source: string;
      let abortOnFail = false;
      let delay: string | null = null;
      if (typeof d === 'string') source = d;
      else if (d && typeof d === 'object' && typeof (d as { threshold?: unknown }).threshold === 'string') {
        const o = d as { threshold: string; abortOnFail?: unknown; delayAbortEval?: unknown };
        for (const k of Object.keys(o)) {
          if (!['threshold', 'abortOnFail', 'delayAbortEval'].includes(k)) {
            throw configError(`json: unknown field ${JSON.stringify(k)} in threshold on ${key}`);
          }
        }
        source = o.threshold;
        abortOnFail = o.abortOnFail === true;
        if (o.delayAbortEval !== undefined && o.delayAbortEval !== null) delay = String(o.delayAbortEval);
      } else {
        throw configError(`invalid threshold on ${key}: ${JSON.stringify(d)}`);
      }
      let parsed: ParsedExpression;
      try {
        parsed = parseThresholdExpression(source);
      } catch (e) {
        throw configError(`unable to validate threshold ${JSON.stringify(source)} on metric ${key}; reason: parsing threshold failed ${(e as Error).message}`);
      }
      const allowed = ALLOWED[metric.type];
      const m = parsed.method === 'p' ? 'p(N)' : parsed.method;
      if (!allowed.includes(m)) {
        throw configError(
          `invalid threshold ${JSON.stringify(source)} applied on metric ${key}; reason: unsupported aggregation method ${parsed.method} on metric of type ${metric.type}. supported aggregation methods for this metric are: ${allowed.join(', ')}`,
        );
      }
      let delayMs = 0;
      if (delay !== null) {
        try {
          delayMs = parseDuration(delay, 'delayAbortEval');
        } catch (e) {
          throw configError(`invalid delayAbortEval on ${key}: ${(e as Error).message}`);
        }
      }
      thresholds.push({ source, parsed, abortOnFail, delayAbortEvalMs: delayMs, lastFailed: false });
      config.push({ threshold: source, abortOnFail, delayAbortEval: delay });
    }
    const sink = parsedName.suffix ? registry.addSubmetric(metric, parsedName.suffix, parsedName.tags).sink : metric.sink;
    sets.push({ key: parsedName.suffix ? `${metric.name}{${parsedName.suffix}}` : metric.name, metric, sink, thresholds, config });
  }
  return sets;
}

export interface EvalResult {
  anyFailed: boolean;
  /** A failing threshold with abortOnFail whose delay has passed. */
  abort: boolean;
  /** Keys of the metrics with a failing threshold, once each, in definition order (k6 breachedThresholds). */
  breached: string[];
}

/** Evaluates every threshold; missing aggregates (no samples) pass, as in k6. */
export function evaluateThresholds(sets: readonly ThresholdSet[], runDurationMs: number): EvalResult {
  let anyFailed = false;
  let abort = false;
  const breached: string[] = [];
  for (const set of sets) {
    let setFailed = false;
    for (const t of set.thresholds) {
      const v = set.sink.aggregate(t.parsed.method, t.parsed.arg, runDurationMs);
      const ok = v === undefined ? true : compare(v, t.parsed.op, t.parsed.value);
      t.lastFailed = !ok;
      if (!ok) {
        anyFailed = true;
        if (!setFailed) breached.push(set.key);
        setFailed = true;
        if (t.abortOnFail && runDurationMs >= t.delayAbortEvalMs) abort = true;
      }
    }
  }
  return { anyFailed, abort, breached };
}
