// The end-of-test summary: k6's legacy `data` object for handleSummary (k6
// internal/js/summary.go summarizeMetricsToObject), the --summary-export JSON, and a
// k6-like text summary.
import { createHash } from 'node:crypto';
import type { GroupNode } from './context.ts';
import type { MetricEntry, MetricRegistry, Sink } from './metrics.ts';
import type { ThresholdSet } from './thresholds.ts';

export const DEFAULT_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

export interface SummaryInput {
  registry: MetricRegistry;
  thresholds: readonly ThresholdSet[];
  rootGroup: GroupNode;
  trendStats: readonly string[];
  summaryTimeUnit: string;
  noColor: boolean;
  isStdOutTTY: boolean;
  isStdErrTTY: boolean;
  testRunDurationMs: number;
  setupData: unknown;
}

function exportGroup(g: GroupNode): Record<string, unknown> {
  return {
    name: g.name,
    path: g.path,
    id: md5(g.path),
    groups: [...g.groups.values()].map(exportGroup),
    checks: [...g.checks.values()].map((c) => ({ name: c.name, path: c.path, id: md5(c.path), passes: c.passes, fails: c.fails })),
  };
}

function sinkValues(m: MetricEntry, sink: Sink, d: number, stats: readonly string[]): Record<string, number> {
  return sink.values(d, stats);
}

/** k6's legacy summary data object (only observed metrics and threshold submetrics). */
export function buildSummaryData(inp: SummaryInput): Record<string, unknown> {
  const metrics: Record<string, unknown> = {};
  const d = inp.testRunDurationMs;
  const thresholdsFor = new Map<string, ThresholdSet>();
  for (const t of inp.thresholds) thresholdsFor.set(t.key, t);
  const add = (name: string, m: MetricEntry, sink: Sink) => {
    const entry: Record<string, unknown> = { type: m.type, contains: m.contains, values: sinkValues(m, sink, d, inp.trendStats) };
    const ts = thresholdsFor.get(name);
    if (ts) {
      const th: Record<string, { ok: boolean }> = {};
      for (const t of ts.thresholds) th[t.source] = { ok: !t.lastFailed };
      entry.thresholds = th;
    }
    metrics[name] = entry;
  };
  for (const m of inp.registry.metrics.values()) {
    if (m.sink.count > 0) add(m.name, m, m.sink);
    for (const sub of m.submetrics.values()) if (sub.sink.count > 0 || thresholdsFor.has(sub.name)) add(sub.name, m, sub.sink);
  }
  const data: Record<string, unknown> = {
    root_group: exportGroup(inp.rootGroup),
    options: { summaryTrendStats: [...inp.trendStats], summaryTimeUnit: inp.summaryTimeUnit, noColor: inp.noColor },
    state: { isStdOutTTY: inp.isStdOutTTY, isStdErrTTY: inp.isStdErrTTY, testRunDurationMs: d },
    metrics,
  };
  data.setup_data = inp.setupData;
  return data;
}

/** The --summary-export format (k6's old export: flattened values, thresholds as "failed" booleans). */
export function buildSummaryExport(data: Record<string, unknown>): Record<string, unknown> {
  const metrics: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(data.metrics as Record<string, Record<string, unknown>>)) {
    const values = { ...(raw.values as Record<string, number>) };
    const out: Record<string, unknown> = {};
    if (raw.type === 'rate') {
      out.passes = values.passes;
      out.fails = values.fails;
      out.value = values.rate;
    } else Object.assign(out, values);
    if (raw.thresholds) {
      const th: Record<string, boolean> = {};
      for (const [k, v] of Object.entries(raw.thresholds as Record<string, { ok: boolean }>)) th[k] = !v.ok;
      out.thresholds = th;
    }
    metrics[name] = out;
  }
  return { root_group: legacyExportGroup(data.root_group as ExportableGroup), metrics };
}

interface ExportableGroup {
  name: string;
  path: string;
  id: string;
  groups: ExportableGroup[];
  checks: Array<{ name: string }>;
}

/** k6's --summary-export keeps the old shape: groups and checks are maps keyed by name. */
function legacyExportGroup(g: ExportableGroup): Record<string, unknown> {
  const groups: Record<string, unknown> = {};
  for (const sub of g.groups ?? []) groups[sub.name] = legacyExportGroup(sub);
  const checks: Record<string, unknown> = {};
  for (const c of g.checks ?? []) checks[c.name] = c;
  return { name: g.name, path: g.path, id: g.id, groups, checks };
}

// ---- text --------------------------------------------------------------------------------

function fmtNum(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toFixed(6)));
}
function fmtTime(ms: number, unit: string): string {
  if (unit) {
    const div: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
    return `${(ms / (div[unit] ?? 1)).toFixed(2)}${unit}`;
  }
  if (ms < 1) return `${(ms * 1000).toFixed(0)}µs`;
  if (ms < 1000) return `${Number(ms.toFixed(2))}ms`;
  if (ms < 60000) return `${Number((ms / 1000).toFixed(2))}s`;
  const m = Math.floor(ms / 60000);
  return `${m}m${Number(((ms - m * 60000) / 1000).toFixed(1))}s`;
}
function fmtData(b: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (b >= 1000 && i < units.length - 1) {
    b /= 1000;
    i++;
  }
  return `${i === 0 ? b.toFixed(0) : b.toFixed(1)} ${units[i]}`;
}

function fmtValue(contains: string, v: number, unit: string): string {
  if (contains === 'time') return fmtTime(v, unit);
  if (contains === 'data') return fmtData(v);
  return fmtNum(v);
}

function metricLine(name: string, m: Record<string, unknown>, unit: string): string {
  const v = m.values as Record<string, number>;
  const c = String(m.contains);
  let text: string;
  switch (m.type) {
    case 'counter':
      text = `${fmtValue(c, v.count ?? 0, unit)} ${c === 'data' ? `${fmtData(v.rate ?? 0)}/s` : `${fmtNum(Number((v.rate ?? 0).toFixed(6)))}/s`}`;
      break;
    case 'gauge':
      text = `${fmtValue(c, v.value ?? 0, unit)} min=${fmtValue(c, v.min ?? 0, unit)} max=${fmtValue(c, v.max ?? 0, unit)}`;
      break;
    case 'rate': {
      const total = (v.passes ?? 0) + (v.fails ?? 0);
      text = `${((v.rate ?? 0) * 100).toFixed(2)}% ${v.passes ?? 0} out of ${total}`;
      break;
    }
    default:
      text = Object.entries(v)
        .map(([k, x]) => `${k}=${fmtValue(c, x, unit)}`)
        .join(' ');
  }
  return `    ${`${name}`.padEnd(38, '.')}: ${text}`;
}

function checkLines(g: Record<string, any>, indent: string, out: string[]): void {
  for (const c of g.checks as { name: string; passes: number; fails: number }[]) {
    if (c.fails === 0) out.push(`${indent}✓ ${c.name}`);
    else {
      const total = c.passes + c.fails;
      out.push(`${indent}✗ ${c.name}`);
      out.push(`${indent}  ↳  ${Math.floor((c.passes / total) * 100)}% — ✓ ${c.passes} / ✗ ${c.fails}`);
    }
  }
  for (const sub of g.groups as Record<string, any>[]) {
    out.push('', `${indent}█ ${sub.name}`, '');
    checkLines(sub, `${indent}  `, out);
  }
}

/** A k6-like end-of-test text summary. */
export function textSummary(data: Record<string, any>): string {
  const out: string[] = [''];
  const unit = String(data.options?.summaryTimeUnit ?? '');
  const metrics = data.metrics as Record<string, Record<string, unknown>>;
  const withThresholds = Object.entries(metrics).filter(([, m]) => m.thresholds);
  if (withThresholds.length > 0) {
    out.push('  █ THRESHOLDS ', '');
    for (const [name, m] of withThresholds) {
      out.push(`    ${name}`);
      const v = m.values as Record<string, number>;
      for (const [expr, r] of Object.entries(m.thresholds as Record<string, { ok: boolean }>)) {
        const agg = expr.split(/[<>=!]/)[0]?.trim() ?? '';
        const shown = agg in v ? `${agg}=${m.type === 'rate' ? `${((v[agg] ?? 0) * 100).toFixed(2)}%` : fmtValue(String(m.contains), v[agg] ?? 0, unit)}` : '';
        out.push(`    ${r.ok ? '✓' : '✗'} '${expr}' ${shown}`.trimEnd());
      }
      out.push('');
    }
  }
  out.push('', '  █ TOTAL RESULTS ', '');
  const root = data.root_group as Record<string, any>;
  if ((root.checks as unknown[]).length > 0 || (root.groups as unknown[]).length > 0) {
    checkLines(root, '    ', out);
    out.push('');
  }
  for (const name of Object.keys(metrics).sort()) out.push(metricLine(name, metrics[name] as Record<string, unknown>, unit));
  out.push('', '');
  return out.join('\n');
}
