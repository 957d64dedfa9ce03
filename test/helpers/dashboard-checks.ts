// Executes every panel query of a dashboard against an InfluxDB holding one run, the way
// Grafana would send it, and checks the numbers against that run's own k6 summary.
// One check per panel title: a panel without a check is a failure, so a new panel must come
// with its proof.
import type { RunningInfluxd, InfluxSeries } from './influxd.ts';
import {
  calculateInterval,
  dataPanels,
  interpolateQuery,
  type Dashboard,
  type Frame,
  type Json,
  type VariableValue,
  calculateBinary,
} from './dashboard-grafana.ts';

// ------------------------------------------------------------------ summary access

export type SummaryValues = Record<string, number>;

/**
 * Reads one metric (or submetric, e.g. `voice_rejected{auth_case:valid}`) from a k6 summary:
 * either `--summary-export` (flat values) or handleSummary's data (`{ values }`).
 */
export function summaryMetric(summary: Json, name: string): SummaryValues | undefined {
  const m = summary?.metrics?.[name];
  if (!m) return undefined;
  return (m.values ?? m) as SummaryValues;
}

function counterTotal(summary: Json, name: string): number {
  return summaryMetric(summary, name)?.count ?? 0;
}

function ratePasses(summary: Json, name: string): number {
  const m = summaryMetric(summary, name);
  if (!m) return 0;
  if (typeof m.passes === 'number') return m.passes;
  throw new Error(`summary ${name} has no passes`);
}

function rateTotal(summary: Json, name: string): number {
  const m = summaryMetric(summary, name);
  if (!m) return 0;
  return (m.passes ?? 0) + (m.fails ?? 0);
}

// ------------------------------------------------------------------ percentile tolerance

/** InfluxDB 1.x percentile(): nearest rank. */
export function influxPercentile(sorted: number[], p: number): number {
  const n = sorted.length;
  let i = Math.floor((n * p) / 100 + 0.5) - 1;
  if (i < 0) i = 0;
  if (i >= n) i = n - 1;
  return sorted[i]!;
}

/** The interval of raw values a correct p-th percentile may lie in (any interpolation). */
export function percentileBracket(sorted: number[], p: number): [number, number] {
  const n = sorted.length;
  const pos = ((n - 1) * p) / 100;
  const lo = Math.max(0, Math.floor(pos) - 1);
  const hi = Math.min(n - 1, Math.ceil(pos) + 1);
  return [sorted[lo]!, sorted[hi]!];
}

const EPS = 1e-6;
const close = (a: number, b: number, eps = EPS) => Math.abs(a - b) <= eps * Math.max(1, Math.abs(a), Math.abs(b));

// ------------------------------------------------------------------ execution

export interface RunSelection {
  db: string;
  testid: string;
  fromMs: number;
  toMs: number;
  /** All scenario and auth_case values present (the "All" option). */
  scenarios: string[];
  authCases: string[];
  /** Grafana's max data points for the realistic rendering (panel width in px). */
  maxDataPoints?: number;
  /** The datasource's min interval (provisioned timeInterval). */
  minIntervalMs?: number;
}

export interface PanelReport {
  id: number;
  title: string;
  /** refId -> number of rows returned at the realistic interval. */
  rows: Record<string, number>;
  problems: string[];
}

/** One bucket for the whole range: GROUP BY time(10000d). */
const WHOLE_MS = 10000 * 86400000;

export class DashboardRunner {
  constructor(
    readonly influx: RunningInfluxd,
    readonly sel: RunSelection,
  ) {}

  variables(): Record<string, VariableValue> {
    return {
      datasource: { value: 'voice-influxdb', multi: false, includeAll: false },
      testid: { value: [this.sel.testid], multi: true, includeAll: true },
      scenario: { value: this.sel.scenarios, multi: true, includeAll: true },
      auth_case: { value: this.sel.authCases, multi: true, includeAll: true },
    };
  }

  realisticIntervalMs(): number {
    return calculateInterval(this.sel.fromMs, this.sel.toMs, this.sel.maxDataPoints ?? 1000, this.sel.minIntervalMs ?? 1000);
  }

  expand(query: string, intervalMs: number): string {
    return interpolateQuery(query, { fromMs: this.sel.fromMs, toMs: this.sel.toMs, intervalMs, variables: this.variables() });
  }

  async run(query: string, intervalMs: number): Promise<Frame[]> {
    const results = await this.influx.query(this.expand(query, intervalMs), this.sel.db);
    const series: InfluxSeries[] = results.flatMap((r) => r.series ?? []);
    return series.map((s) => ({ name: s.name, tags: s.tags ?? {}, columns: s.columns, values: s.values }));
  }

  /** Sorted raw values of a measurement for this run (optionally one tag value). */
  async raw(measurement: string, where = ''): Promise<number[]> {
    const q = `SELECT "value" FROM "${measurement}" WHERE "testid" = '${this.sel.testid}'${where ? ` AND ${where}` : ''} AND time >= ${this.sel.fromMs}ms and time <= ${this.sel.toMs}ms`;
    const res = await this.influx.query(q, this.sel.db);
    const vals = res.flatMap((r) => r.series ?? []).flatMap((s) => s.values.map((v) => v[1] as number));
    return vals.sort((a, b) => a - b);
  }
}

/** Numbers in one column over all rows of all frames (nulls skipped). */
function column(frames: Frame[], col = 1): number[] {
  return frames.flatMap((f) => f.values.map((r) => r[col] as number | null)).filter((v): v is number => typeof v === 'number');
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

type Check = (ctx: CheckContext) => Promise<void>;

interface CheckContext {
  runner: DashboardRunner;
  summary: Json;
  panel: Json;
  /** Executes the panel's target (by refId) at the realistic or the whole-range interval. */
  q(refId: string, whole?: boolean): Promise<Frame[]>;
  problem(msg: string): void;
  /** Expect a total: empty result is acceptable only for 0 on a panel that shows 0 for no data. */
  expectTotal(what: string, frames: Frame[], got: number, want: number): void;
}

async function checkPercentilePanel(ctx: CheckContext, measurement: string, groupTag: string | null, extraWhere = ''): Promise<void> {
  const trend = summaryMetric(ctx.summary, measurement);
  const all = await ctx.runner.raw(measurement, extraWhere);
  if (!trend) {
    if (all.length) ctx.problem(`${measurement}: InfluxDB has ${all.length} values but the summary has no such metric`);
    return;
  }
  if (!all.length) return ctx.problem(`${measurement}: in the summary but not one value in InfluxDB`);
  // The stored data is the run's data: min/max exact, summary percentiles bracketed.
  if (!close(all[0]!, trend.min!)) ctx.problem(`${measurement}: min ${all[0]} in InfluxDB, ${trend.min} in the summary`);
  if (!close(all[all.length - 1]!, trend.max!)) ctx.problem(`${measurement}: max ${all[all.length - 1]} in InfluxDB, ${trend.max} in the summary`);
  for (const [key, p] of [
    ['med', 50],
    ['p(90)', 90],
    ['p(95)', 95],
    ['p(99)', 99],
  ] as const) {
    const s = trend[key];
    if (typeof s !== 'number') continue;
    const [lo, hi] = percentileBracket(all, p);
    if (s < lo - EPS || s > hi + EPS) ctx.problem(`${measurement}: summary ${key}=${s} outside the stored values' bracket [${lo}, ${hi}]`);
  }
  const refs = (ctx.panel.targets as Json[]).map((t) => t.refId as string);
  const percentOf = (refId: string): number => {
    const m = /percentile\("value", (\d+)\)/.exec((ctx.panel.targets as Json[]).find((t) => t.refId === refId)!.query);
    return Number(m![1]);
  };
  for (const refId of refs) {
    const p = percentOf(refId);
    const realistic = await ctx.q(refId);
    if (!realistic.length) ctx.problem(`${refId} (p${p}): no data at the dashboard's interval`);
    for (const v of column(realistic)) {
      if (v < all[0]! - EPS || v > all[all.length - 1]! + EPS) ctx.problem(`${refId}: p${p} bucket value ${v} outside [min, max] of the run`);
    }
    const whole = await ctx.q(refId, true);
    if (groupTag === null) {
      const vals = column(whole);
      if (vals.length !== 1) {
        ctx.problem(`${refId}: expected one whole-range value, got ${vals.length}`);
        continue;
      }
      const got = vals[0]!;
      if (!close(got, influxPercentile(all, p))) ctx.problem(`${refId}: p${p}=${got}, nearest-rank of the stored values is ${influxPercentile(all, p)}`);
      const key = p === 50 ? 'med' : `p(${p})`;
      const s = trend[key];
      if (typeof s === 'number') {
        const [lo, hi] = percentileBracket(all, p);
        if (got < lo - EPS || got > hi + EPS || s < lo - EPS || s > hi + EPS) {
          ctx.problem(`${refId}: p${p} panel ${got} vs summary ${key} ${s}: not within one rank [${lo}, ${hi}]`);
        }
      }
    } else {
      const groups = new Set<string>();
      for (const f of whole) {
        const tagValue = f.tags[groupTag];
        if (tagValue === undefined) {
          ctx.problem(`${refId}: series without a ${groupTag} tag`);
          continue;
        }
        groups.add(tagValue);
        const vals = column([f]);
        const groupVals = await ctx.runner.raw(measurement, `"${groupTag}" = '${tagValue.replace(/'/g, "\\'")}'${extraWhere ? ` AND ${extraWhere}` : ''}`);
        if (vals.length !== 1 || !groupVals.length) {
          ctx.problem(`${refId} ${groupTag}=${tagValue}: no whole-range value`);
          continue;
        }
        if (!close(vals[0]!, influxPercentile(groupVals, p))) ctx.problem(`${refId} ${groupTag}=${tagValue}: p${p}=${vals[0]} but nearest-rank of its values is ${influxPercentile(groupVals, p)}`);
        const sub = summaryMetric(ctx.summary, `${measurement}{${groupTag}:${tagValue}}`);
        const key = p === 50 ? 'med' : `p(${p})`;
        if (sub && typeof sub[key] === 'number') {
          const [lo, hi] = percentileBracket(groupVals, p);
          if (sub[key]! < lo - EPS || sub[key]! > hi + EPS) ctx.problem(`${refId} ${groupTag}=${tagValue}: summary ${key} ${sub[key]} not within one rank of the panel's data [${lo}, ${hi}]`);
        }
      }
      // Every value of the tag present in the stored data has a series.
      const res = await ctx.runner.influx.query(
        `SHOW TAG VALUES FROM "${measurement}" WITH KEY = "${groupTag}" WHERE "testid" = '${ctx.runner.sel.testid}'`,
        ctx.runner.sel.db,
      );
      const stored = new Set(res.flatMap((r) => r.series ?? []).flatMap((s) => s.values.map((v) => String(v[1]))));
      for (const v of stored) if (!groups.has(v)) ctx.problem(`${refId}: no series for ${groupTag}=${v}`);
    }
  }
}

/** Σ over buckets of (per-second rate × bucket seconds) = the total. */
function rateTotalFromFrames(frames: Frame[], intervalMs: number): number {
  return sum(column(frames)) * (intervalMs / 1000);
}

const CHECKS: Record<string, Check> = {
  'Auth bypasses': async (c) => {
    const f = await c.q('A');
    c.expectTotal('bypasses', f, sum(column(f)), counterTotal(c.summary, 'voice_auth_bypass'));
  },
  'Attribution errors': async (c) => {
    const f = await c.q('A');
    c.expectTotal('attribution errors', f, sum(column(f)), ratePasses(c.summary, 'voice_attribution_errors'));
  },
  'False rejections (valid tokens)': async (c) => {
    const f = await c.q('A');
    const sub = summaryMetric(c.summary, 'voice_rejected{auth_case:valid}');
    if (!sub) return c.problem('the summary has no voice_rejected{auth_case:valid} submetric to check against');
    c.expectTotal('false rejections', f, sum(column(f)), sub.passes ?? 0);
  },
  'Rejection mismatches': async (c) => {
    const f = await c.q('A');
    c.expectTotal('rejection mismatches', f, sum(column(f)), counterTotal(c.summary, 'voice_rejection_mismatch'));
  },
  'Unverified attributions': async (c) => {
    const f = await c.q('A');
    c.expectTotal('unverified attributions', f, sum(column(f)), counterTotal(c.summary, 'voice_attribution_unverified'));
  },
  Attempts: async (c) => {
    const f = await c.q('A');
    c.expectTotal('attempts', f, sum(column(f)), rateTotal(c.summary, 'voice_rejected'));
  },
  'Handshake latency by traffic class (p50 / p95 / p99)': (c) => checkPercentilePanel(c, 'voice_handshake_duration', 'auth_case'),
  'Handshake latency by outcome (p50 / p95 / p99)': (c) => checkPercentilePanel(c, 'voice_handshake_duration', 'outcome'),
  'Attempts per second by outcome': async (c) => {
    const iv = c.runner.realisticIntervalMs();
    const f = await c.q('A');
    c.expectTotal('attempts (rate × interval)', f, rateTotalFromFrames(f, iv), rateTotal(c.summary, 'voice_rejected'));
    for (const fr of f) if (!fr.tags.outcome) c.problem('a series without an outcome tag');
  },
  'Rejection rate by class and variant': async (c) => {
    const whole = await c.q('A', true);
    const realistic = await c.q('A');
    if (!realistic.length && rateTotal(c.summary, 'voice_rejected') > 0) c.problem('no data at the dashboard interval');
    for (const v of column(realistic)) if (v < 0 || v > 1) c.problem(`rate ${v} outside [0, 1]`);
    // Σ(mean × attempts) per (auth_case, variant) = rejected attempts.
    let rejected = 0;
    for (const fr of whole) {
      const where = `"auth_case" = '${fr.tags.auth_case}' AND "variant" = '${fr.tags.variant}'`;
      const n = (await c.runner.raw('voice_rejected', where)).length;
      rejected += (column([fr])[0] ?? 0) * n;
    }
    c.expectTotal('rejected (Σ rate × attempts)', whole, Math.round(rejected * 1e6) / 1e6, ratePasses(c.summary, 'voice_rejected'));
  },
  'Rejections per class and variant (whole range)': async (c) => {
    const f = await c.q('A');
    const col = (name: string) => f.flatMap((fr) => fr.values.map((r) => r[fr.columns.indexOf(name)] as number));
    c.expectTotal('attempts', f, sum(col('attempts')), rateTotal(c.summary, 'voice_rejected'));
    c.expectTotal('rejected', f, sum(col('rejected')), ratePasses(c.summary, 'voice_rejected'));
    for (const fr of f) {
      for (const r of fr.values) {
        const [a, rj, rate] = ['attempts', 'rejected', 'rejection_rate'].map((k) => r[fr.columns.indexOf(k)] as number);
        if (!close(rate!, rj! / a!)) c.problem(`${JSON.stringify(fr.tags)}: rate ${rate} ≠ ${rj}/${a}`);
      }
      const sub = summaryMetric(c.summary, `voice_rejected{auth_case:${fr.tags.auth_case}}`);
      void sub; // per-class totals are checked below across rows
    }
    for (const cls of new Set(f.map((fr) => fr.tags.auth_case!))) {
      const sub = summaryMetric(c.summary, `voice_rejected{auth_case:${cls}}`);
      if (!sub) continue;
      const rows = f.filter((fr) => fr.tags.auth_case === cls);
      const got = sum(rows.flatMap((fr) => fr.values.map((r) => r[fr.columns.indexOf('rejected')] as number)));
      if (got !== (sub.passes ?? 0)) c.problem(`auth_case=${cls}: ${got} rejected in the table, ${sub.passes} in the summary`);
    }
  },
  'k6 ws_connecting beside voice_handshake_duration (p95)': async (c) => {
    for (const [refId, m] of [
      ['A', 'ws_connecting'],
      ['B', 'voice_handshake_duration'],
    ] as const) {
      const trend = summaryMetric(c.summary, m);
      const vals = await c.runner.raw(m);
      const f = await c.q(refId, true);
      const got = column(f);
      if (!trend) {
        c.expectTotal(`${m} values`, f, got.length, 0);
        continue;
      }
      if (got.length !== 1) {
        c.problem(`${refId}: expected one whole-range p95, got ${got.length}`);
        continue;
      }
      const [lo, hi] = percentileBracket(vals, 95);
      if (got[0]! < lo - EPS || got[0]! > hi + EPS) c.problem(`${refId}: p95 ${got[0]} outside one rank [${lo}, ${hi}]`);
      const s = trend['p(95)'];
      if (typeof s === 'number' && (s < lo - EPS || s > hi + EPS)) c.problem(`${refId}: summary p(95) ${s} vs panel ${got[0]}: not within one rank [${lo}, ${hi}]`);
      if (!(await c.q(refId)).length) c.problem(`${refId}: no data at the dashboard interval`);
    }
  },
  'Open sessions': async (c) => {
    const opened = counterTotal(c.summary, 'voice_sessions_opened');
    const closed = counterTotal(c.summary, 'voice_sessions_closed');
    const a = await c.q('A');
    const b = await c.q('B');
    const last = (f: Frame[]) => {
      const v = column(f);
      return v.length ? v[v.length - 1]! : 0;
    };
    c.expectTotal('opened (final cumulative)', a, last(a), opened);
    c.expectTotal('closed (final cumulative)', b, last(b), closed);
    const tr = (c.panel.transformations as Json[] | undefined)?.find((t) => t.id === 'calculateField');
    if (!tr) return c.problem('no calculateField transformation');
    if (a.length === 1 && b.length === 1) {
      const open = calculateBinary(a[0]!, b[0]!, tr.options.binary.operator);
      if (!open.length) c.problem('open sessions: the transformation yields nothing');
      for (const [t, v] of open) if (v < 0) c.problem(`open sessions negative (${v}) at ${t}`);
      const final = open.length ? open[open.length - 1]![1] : 0;
      if (final !== opened - closed) c.problem(`open sessions at the end ${final}, expected ${opened - closed}`);
    } else if (opened > 0) {
      c.problem(`expected one opened and one closed series, got ${a.length} and ${b.length}`);
    }
  },
  'Unexpected closes by close code': async (c) => {
    const f = await c.q('A');
    c.expectTotal('unexpected closes', f, sum(column(f)), counterTotal(c.summary, 'voice_unexpected_close'));
    for (const fr of f) if (!fr.tags.close_code) c.problem('a series without a close_code tag');
  },
  'First-event latency (p50 / p95 / p99)': (c) => checkPercentilePanel(c, 'voice_first_event_duration', null),
  'Agent-response latency (p50 / p95 / p99)': (c) => checkPercentilePanel(c, 'voice_agent_response_duration', null),
  'WebSocket messages per second (audio frames and events)': async (c) => {
    const iv = c.runner.realisticIntervalMs();
    const a = await c.q('A');
    c.expectTotal('ws_msgs_sent', a, Math.round(rateTotalFromFrames(a, iv) * 1e6) / 1e6, counterTotal(c.summary, 'ws_msgs_sent'));
    const b = await c.q('B');
    c.expectTotal('ws_msgs_received', b, Math.round(rateTotalFromFrames(b, iv) * 1e6) / 1e6, counterTotal(c.summary, 'ws_msgs_received'));
  },
  'VUs and dropped iterations': async (c) => {
    const a = await c.q('A');
    const vus = summaryMetric(c.summary, 'vus');
    const maxVus = column(a).reduce((m, v) => Math.max(m, v), 0);
    if (vus) c.expectTotal('max VUs', a, maxVus, vus.max ?? vus.value!);
    else c.problem('the summary has no vus gauge');
    const b = await c.q('B');
    c.expectTotal('dropped iterations', b, sum(column(b)), counterTotal(c.summary, 'dropped_iterations'));
  },
  'Runs in range: handshakes per run': async (c) => {
    const a = await c.q('A');
    const b = await c.q('B');
    const rowOf = (f: Frame[]) => {
      const fr = f.find((x) => x.tags.testid === c.runner.sel.testid);
      return fr ? Object.fromEntries(fr.columns.map((k, i) => [k, fr.values[0]![i] as number])) : undefined;
    };
    const ra = rowOf(a);
    const rb = rowOf(b);
    if (!ra || !rb) return c.problem(`no row for testid ${c.runner.sel.testid}`);
    const vals = await c.runner.raw('voice_handshake_duration');
    if (ra.attempts !== vals.length) c.problem(`handshakes ${ra.attempts}, stored values ${vals.length}`);
    const trend = summaryMetric(c.summary, 'voice_handshake_duration');
    const [lo, hi] = percentileBracket(vals, 95);
    if (ra.p95! < lo - EPS || ra.p95! > hi + EPS) c.problem(`p95 ${ra.p95} outside one rank [${lo}, ${hi}]`);
    if (trend?.['p(95)'] !== undefined && (trend['p(95)'] < lo - EPS || trend['p(95)'] > hi + EPS)) c.problem(`summary p(95) ${trend['p(95)']} not within one rank of the panel's`);
    if (rb.rejected !== ratePasses(c.summary, 'voice_rejected')) c.problem(`rejected ${rb.rejected}, summary ${ratePasses(c.summary, 'voice_rejected')}`);
    if (rb.attempts !== rateTotal(c.summary, 'voice_rejected')) c.problem(`attempts ${rb.attempts}, summary ${rateTotal(c.summary, 'voice_rejected')}`);
  },
};

/** Runs every data panel's queries and its check. */
export async function checkDashboard(runner: DashboardRunner, dashboard: Dashboard, summary: Json): Promise<PanelReport[]> {
  const realisticMs = runner.realisticIntervalMs();
  // Panels are independent: run them concurrently (each panel's own queries stay in order).
  const one = async (panel: Json): Promise<PanelReport> => {
    const report: PanelReport = { id: panel.id, title: panel.title, rows: {}, problems: [] };
    const check = CHECKS[panel.title];
    if (!check) {
      report.problems.push('no check defined for this panel (test/helpers/dashboard-checks.ts)');
      return report;
    }
    const targets = new Map<string, string>((panel.targets as Json[]).map((t) => [t.refId, t.query]));
    // Every target is executed at the dashboard's interval, whatever the check looks at.
    for (const [refId, query] of targets) {
      try {
        const frames = await runner.run(query, realisticMs);
        report.rows[refId] = frames.reduce((n, f) => n + f.values.length, 0);
      } catch (err) {
        report.problems.push(`${refId}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    const ctx: CheckContext = {
      runner,
      summary,
      panel,
      q: (refId, whole = false) => {
        const query = targets.get(refId);
        if (!query) throw new Error(`panel has no target ${refId}`);
        return runner.run(query, whole ? WHOLE_MS : realisticMs);
      },
      problem: (msg) => report.problems.push(msg),
      expectTotal: (what, frames, got, want) => {
        if (!frames.length) {
          if (want !== 0) report.problems.push(`${what}: the query returned nothing, the summary says ${want}`);
          else if (panel.type === 'stat' && panel.fieldConfig?.defaults?.noValue !== '0') report.problems.push(`${what}: no data and no "0" shown for it`);
          return;
        }
        if (!close(got, want)) report.problems.push(`${what}: the panel says ${got}, the summary says ${want}`);
      },
    };
    try {
      await check(ctx);
    } catch (err) {
      report.problems.push(`check failed: ${(err as Error).message.split('\n')[0]}`);
    }
    return report;
  };
  return Promise.all(dataPanels(dashboard).map(one));
}

export function formatProblems(reports: PanelReport[]): string {
  return reports
    .filter((r) => r.problems.length)
    .map((r) => `panel ${r.id} "${r.title}":\n  - ${r.problems.join('\n  - ')}`)
    .join('\n');
}
