// What Grafana does to an InfluxQL panel query before sending it, reimplemented for tests:
// the panel walk, $__interval from the time range and max data points (Grafana's
// rangeutil.calculateInterval + roundInterval), template variables formatted the way the
// InfluxDB datasource formats them (regex-escaped, multi-value as `(a|b)`), $timeFilter,
// $__interval_ms, $interval, $__range*. Also the one transformation the dashboards use
// (calculateField, binary mode).
import { readFileSync } from 'node:fs';

export type Json = Record<string, any>;

export interface Dashboard {
  uid: string;
  title: string;
  panels: Json[];
  templating: { list: Json[] };
}

export function loadDashboard(path: string): Dashboard {
  return JSON.parse(readFileSync(path, 'utf8')) as Dashboard;
}

/** Every panel, including those nested in (collapsed) rows. */
export function allPanels(d: Dashboard): Json[] {
  const out: Json[] = [];
  for (const p of d.panels) {
    out.push(p);
    if (Array.isArray(p.panels)) out.push(...p.panels);
  }
  return out;
}

/** Panels that query data (everything but rows). */
export function dataPanels(d: Dashboard): Json[] {
  return allPanels(d).filter((p) => p.type !== 'row');
}

const BUILTIN = new Set([
  '__interval',
  '__interval_ms',
  'interval',
  'timeFilter',
  '__timeFilter',
  '__range',
  '__range_s',
  '__range_ms',
  '__from',
  '__to',
  '__dashboard',
  '__org',
  '__user',
]);

/** Variable names referenced in a string: $name, ${name}, ${name:fmt}, [[name]]. */
export function referencedVariables(text: string): string[] {
  const names = new Set<string>();
  const re = /\$(\w+)|\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]/g;
  for (const m of text.matchAll(re)) names.add((m[1] ?? m[2] ?? m[3])!);
  return [...names];
}

export function isBuiltinVariable(name: string): boolean {
  return BUILTIN.has(name) || name.startsWith('tag_') || name.startsWith('col_');
}

/** Grafana's rangeutil.roundInterval (milliseconds in, "nice" milliseconds out). */
export function roundInterval(ms: number): number {
  const table: Array<[number, number]> = [
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1500, 1000],
    [3500, 2000],
    [7500, 5000],
    [12500, 10000],
    [17500, 15000],
    [25000, 20000],
    [45000, 30000],
    [90000, 60000],
    [210000, 120000],
    [450000, 300000],
    [750000, 600000],
    [1050000, 900000],
    [1500000, 1200000],
    [2700000, 1800000],
    [5400000, 3600000],
    [9000000, 7200000],
    [16200000, 10800000],
    [32400000, 21600000],
    [86400000, 43200000],
    [604800000, 86400000],
    [1814400000, 604800000],
    [3628800000, 2592000000],
  ];
  for (const [below, value] of table) if (ms < below) return value;
  return 31536000000;
}

/** InfluxQL duration literal for a number of milliseconds, as Grafana renders intervals. */
export function describeInterval(ms: number): string {
  const units: Array<[number, string]> = [
    [604800000, 'w'],
    [86400000, 'd'],
    [3600000, 'h'],
    [60000, 'm'],
    [1000, 's'],
  ];
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** Parses a Grafana min interval like "1s", "500ms", "2m" into milliseconds. */
export function parseInterval(s: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(s.trim());
  if (!m) throw new Error(`not an interval: ${s}`);
  const mult: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000 };
  return Number(m[1]) * mult[m[2]!]!;
}

/** Grafana's calculateInterval: range / max data points, rounded, not below the min interval. */
export function calculateInterval(fromMs: number, toMs: number, maxDataPoints: number, minIntervalMs = 0): number {
  const raw = (toMs - fromMs) / maxDataPoints;
  return Math.max(roundInterval(raw), minIntervalMs);
}

/** Grafana's regex escaping for InfluxQL (the datasource's interpolateQueryExpr). */
export function regexEscape(s: string): string {
  return s.replace(/[\\^$*+?.()|[\]{}\/]/g, '\\$&');
}

export interface VariableValue {
  /** The selected value(s); for "All" pass every option's value. */
  value: string | string[];
  multi: boolean;
  includeAll: boolean;
}

/**
 * The InfluxDB datasource's formatter: multi-value or include-all variables are
 * regex-escaped and joined as `(a|b)`; a single-value variable is left as is.
 */
export function formatInfluxValue(v: VariableValue): string {
  if (!v.multi && !v.includeAll) return Array.isArray(v.value) ? v.value.join(',') : v.value;
  if (typeof v.value === 'string') return regexEscape(v.value);
  const escaped = v.value.map(regexEscape);
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
}

export interface QueryContext {
  fromMs: number;
  toMs: number;
  intervalMs: number;
  variables: Record<string, VariableValue>;
}

/** Expands one raw InfluxQL panel query as Grafana would send it. */
export function interpolateQuery(query: string, ctx: QueryContext): string {
  const interval = describeInterval(ctx.intervalMs);
  const range = ctx.toMs - ctx.fromMs;
  const builtins: Record<string, string> = {
    __interval: interval,
    __interval_ms: String(ctx.intervalMs),
    interval,
    __range: describeInterval(Math.round(range / 1000) * 1000 || 1000),
    __range_s: String(Math.round(range / 1000)),
    __range_ms: String(range),
    __from: String(ctx.fromMs),
    __to: String(ctx.toMs),
  };
  // Grafana's time range is whole milliseconds.
  const timeFilter = `time >= ${Math.floor(ctx.fromMs)}ms and time <= ${Math.ceil(ctx.toMs)}ms`;
  const lookup = (name: string): string | undefined => {
    if (name === 'timeFilter' || name === '__timeFilter') return timeFilter;
    if (name in builtins) return builtins[name];
    const v = ctx.variables[name];
    return v ? formatInfluxValue(v) : undefined;
  };
  const out = query.replace(/\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g, (all, a, b, c) => {
    const name = (a ?? b ?? c) as string;
    const r = lookup(name);
    return r ?? all;
  });
  const left = out.match(/\$\w+/g)?.filter((s) => !s.startsWith('$tag_') && !s.startsWith('$col_'));
  if (left && left.length) throw new Error(`unexpanded variables ${left.join(', ')} in: ${out}`);
  return out;
}

export interface Frame {
  /** Series name (measurement) and tags, as InfluxDB returned them. */
  name: string;
  tags: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/**
 * Grafana's calculateField transformation in binary mode, for two single-series
 * frames joined on time: returns [time, left op right] rows.
 */
export function calculateBinary(left: Frame, right: Frame, operator: '-' | '+' | '*' | '/'): Array<[number, number]> {
  const r = new Map<number, number>();
  for (const row of right.values) r.set(row[0] as number, row[1] as number);
  const out: Array<[number, number]> = [];
  for (const row of left.values) {
    const t = row[0] as number;
    const a = row[1] as number;
    const b = r.get(t);
    if (a === null || b === undefined || b === null) continue;
    const v = operator === '-' ? a - b : operator === '+' ? a + b : operator === '*' ? a * b : a / b;
    out.push([t, v]);
  }
  return out;
}
