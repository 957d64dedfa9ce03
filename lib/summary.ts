// handleSummary: the end-of-test text on stdout that names what went wrong, plus
// <resultsDir>/summary.json and <resultsDir>/junit.xml for CI. Pure: it reads only k6's
// summary data (metric names, tag values we chose, numbers), so no token can reach it.

import { UPGRADE_ERROR_STATUSES, type VariantLists } from './thresholds.ts';

export interface MetricData {
  type: 'counter' | 'gauge' | 'rate' | 'trend';
  contains?: string;
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

export interface SummaryData {
  metrics: Record<string, MetricData>;
  state?: { testRunDurationMs?: number };
}

export interface CapacityStage {
  name: string;
  /** New sessions per second at the stage's plateau. */
  rate: number;
  /** Little's law estimate: rate × (hold + handshake) seconds. */
  concurrent: number;
}

export interface SummaryInfo {
  profile: string;
  resultsDir: string;
  variants: VariantLists;
  classes: { valid: boolean; noToken: boolean; invalid: boolean };
  /** Smoke: every variant must have been attempted. */
  requireAllVariants: boolean;
  attribution: string;
  probeStatus: boolean;
  capacity?: { stages: CapacityStage[] };
  drift?: { maxRatio: number };
}

export interface ThresholdResult {
  metric: string;
  expression: string;
  ok: boolean;
}

export interface VariantRow {
  authCase: string;
  variant: string;
  attempts: number;
  rejected: number;
  bypass: number;
  mismatch: number;
  ok: boolean;
}

export interface SummaryReport {
  profile: string;
  verdict: 'pass' | 'fail';
  durationMs: number;
  thresholds: ThresholdResult[];
  variants: VariantRow[];
  valid: {
    attempts: number;
    falseRejections: number;
    errors: number;
    attributionChecked: number;
    attributionErrors: number;
    pocFallback: number;
    wrongUser: number;
    wrongSession: number;
    forbidden: number;
    attributionUnverified: number;
    unexpectedCloses: number;
    handshakeP95Ms: number | null;
    sessionsOpened: number;
    tokenUnavailable: number;
    tokenOutlived: number;
  };
  totals: { bypass: number; mismatch: number; rejectionUnverified: number; noTokenErrors: number; invalidErrors: number };
  problems: string[];
  capacity?: { stages: Array<CapacityStage & { held: boolean; attempts: number; successRate: number | null; p95: number | null }>; highestHeld: CapacityStage | null };
  drift?: { earlyP95: number | null; lateP95: number | null; ratio: number | null; maxRatio: number; drifted: boolean };
}

/** Valid handshakes of soak's early and late windows: the submetrics its thresholds name. */
export const DRIFT_EARLY = 'voice_handshake_duration{auth_case:valid,phase:early}';
export const DRIFT_LATE = 'voice_handshake_duration{auth_case:valid,phase:late}';

const val = (d: SummaryData, name: string, key: string): number => d.metrics[name]?.values[key] ?? 0;
const opt = (d: SummaryData, name: string, key: string): number | null => {
  const x = d.metrics[name]?.values[key];
  return typeof x === 'number' ? x : null;
};
const rateCount = (d: SummaryData, name: string): number => val(d, name, 'passes') + val(d, name, 'fails');

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function analyse(d: SummaryData, info: SummaryInfo): SummaryReport {
  const thresholds: ThresholdResult[] = [];
  for (const name of Object.keys(d.metrics).sort()) {
    const th = d.metrics[name]?.thresholds;
    if (!th) continue;
    for (const expr of Object.keys(th)) thresholds.push({ metric: name, expression: expr, ok: th[expr]?.ok !== false });
  }
  const problems: string[] = [];
  const variants: VariantRow[] = [];
  const addRows = (authCase: string, list: readonly string[]): void => {
    for (const v of list) {
      const attempts = rateCount(d, `voice_rejected{variant:${v}}`);
      const row: VariantRow = {
        authCase,
        variant: v,
        attempts,
        rejected: val(d, `voice_rejected{variant:${v}}`, 'passes'),
        bypass: val(d, `voice_auth_bypass{variant:${v}}`, 'count'),
        mismatch: val(d, `voice_rejection_mismatch{variant:${v}}`, 'count'),
        ok: true,
      };
      const failing = thresholds.filter((t) => !t.ok && t.metric.endsWith(`{variant:${v}}`));
      row.ok = failing.length === 0 && !(info.requireAllVariants && attempts === 0);
      variants.push(row);
      if (row.bypass > 0) problems.push(`BYPASS: ${authCase}/${v} was accepted in ${row.bypass} of ${plural(attempts, 'attempt')}`);
      if (row.mismatch > 0) problems.push(`MISMATCH: ${authCase}/${v} was refused with the wrong close code, HTTP status, reason or style in ${row.mismatch} of ${plural(attempts, 'attempt')} (details in the "voicelive: MISMATCH" log lines)`);
      const notRejected = attempts - row.rejected - row.bypass;
      if (notRejected > 0 && row.mismatch === 0) problems.push(`NOT REFUSED CORRECTLY: ${authCase}/${v}: ${notRejected} of ${plural(attempts, 'attempt')} ended in an error instead of a refusal (e.g. HTTP 503/429, 1011, 1013, refused connection)`);
      if (info.requireAllVariants && attempts === 0) problems.push(`NOT ATTEMPTED: ${authCase}/${v} never ran`);
    }
  };
  if (info.classes.noToken) addRows('no_token', info.variants.noToken);
  if (info.classes.invalid) addRows('invalid', info.variants.invalid);
  for (const authCase of ['no_token', 'invalid']) {
    for (const st of UPGRADE_ERROR_STATUSES) {
      const n = val(d, `ws_sessions{auth_case:${authCase},status:${st}}`, 'count');
      if (n > 0) problems.push(`HTTP ${st} ON THE UPGRADE: ${plural(n, `${authCase} upgrade`)} answered ${st} (k6's status tag of the socket itself); never a correct rejection, whatever the status probe saw`);
    }
  }

  const validAttempts = rateCount(d, 'voice_rejected{auth_case:valid}');
  const valid = {
    attempts: validAttempts,
    falseRejections: val(d, 'voice_rejected{auth_case:valid}', 'passes'),
    errors: val(d, 'voice_attempt_errors{auth_case:valid}', 'passes'),
    attributionChecked: rateCount(d, 'voice_attribution_errors'),
    attributionErrors: val(d, 'voice_attribution_errors', 'passes'),
    pocFallback: val(d, 'voice_attribution_errors{attribution:poc_fallback}', 'passes'),
    wrongUser: val(d, 'voice_attribution_errors{attribution:wrong_user}', 'passes'),
    wrongSession: val(d, 'voice_attribution_errors{attribution:wrong_session}', 'passes'),
    forbidden: val(d, 'voice_attribution_errors{attribution:forbidden}', 'passes'),
    attributionUnverified: val(d, 'voice_attribution_unverified', 'count'),
    unexpectedCloses: val(d, 'voice_unexpected_close', 'count'),
    handshakeP95Ms: opt(d, 'voice_handshake_duration{auth_case:valid}', 'p(95)'),
    sessionsOpened: val(d, 'voice_sessions_opened', 'count'),
    tokenUnavailable: val(d, 'voice_token_unavailable', 'count'),
    tokenOutlived: val(d, 'voice_token_outlived', 'count'),
  };
  const totals = {
    bypass: val(d, 'voice_auth_bypass', 'count'),
    mismatch: val(d, 'voice_rejection_mismatch', 'count'),
    rejectionUnverified: val(d, 'voice_rejection_unverified', 'count'),
    noTokenErrors: val(d, 'voice_attempt_errors{auth_case:no_token}', 'passes'),
    invalidErrors: val(d, 'voice_attempt_errors{auth_case:invalid}', 'passes'),
  };
  if (valid.attributionErrors > 0) {
    const parts = [valid.pocFallback > 0 ? `${valid.pocFallback} to the POC fallback user` : '', valid.wrongUser > 0 ? `${valid.wrongUser} to another user` : '', valid.wrongSession > 0 ? `${valid.wrongSession} the right user but another session id in the server's events or record; if the backend names sessions its own way, set VOICE_SESSION_ID_PATH=` : '', valid.forbidden > 0 ? `${valid.forbidden} refused to their own token by the memory endpoint (403)` : ''].filter((s) => s !== '');
    problems.push(`MISATTRIBUTED: ${valid.attributionErrors} of ${plural(valid.attributionChecked, 'verified valid session')} belonged to someone other than the token's oid${parts.length ? ` (${parts.join(', ')})` : ''}`);
  }
  if (info.attribution !== 'off' && valid.attributionUnverified > 0) problems.push(`UNVERIFIED ATTRIBUTION: ${plural(valid.attributionUnverified, 'valid session')} showed no user id (${info.attribution} mode); never counted as correct`);
  if (valid.falseRejections > 0) problems.push(`FALSE REJECTIONS: ${valid.falseRejections} of ${plural(validAttempts, 'valid-token attempt')} were refused`);
  if (valid.errors > 0) problems.push(`ERRORS: ${valid.errors} of ${plural(validAttempts, 'valid-token attempt')} ended in an error (5xx/429, 1011/1013, refused or dropped connection)`);
  if (valid.unexpectedCloses > 0) problems.push(`UNEXPECTED CLOSES: the server closed ${plural(valid.unexpectedCloses, 'valid session')} before the client ended it (codes in the "voicelive: UNEXPECTED CLOSE" log lines)`);
  if (valid.tokenUnavailable > 0) problems.push(`NO VALID TOKEN: ${plural(valid.tokenUnavailable, 'valid attempt')} skipped: no pool token valid long enough (mint a fresh pool or more windows)`);
  if (valid.tokenOutlived > 0) problems.push(`TOKEN OUTLIVED: ${plural(valid.tokenOutlived, 'session')} started with a token that expires before the session ends`);
  if (totals.rejectionUnverified > 0) problems.push(`UNVERIFIED REFUSALS: ${plural(totals.rejectionUnverified, 'refused upgrade')} with an unknown HTTP status (VOICE_PROBE_STATUS=false); a 503 cannot be told from a 403`);
  for (const t of thresholds) {
    if (!t.ok && t.metric === 'voice_handshake_duration{auth_case:valid}') problems.push(`SLOW HANDSHAKES: valid p95 ${valid.handshakeP95Ms?.toFixed(0) ?? '?'} ms broke "${t.expression}"`);
  }

  const report: SummaryReport = {
    profile: info.profile,
    verdict: thresholds.every((t) => t.ok) ? 'pass' : 'fail',
    durationMs: d.state?.testRunDurationMs ?? 0,
    thresholds,
    variants,
    valid,
    totals,
    problems,
  };

  if (info.capacity) {
    const stages = info.capacity.stages.map((s) => {
      const succ = `voice_session_success{stage:${s.name}}`;
      const hs = `voice_handshake_duration{stage:${s.name}}`;
      const attempts = rateCount(d, succ);
      const okThresholds = [succ, hs].every((n) => Object.values(d.metrics[n]?.thresholds ?? {}).every((x) => x.ok));
      return { ...s, attempts, successRate: opt(d, succ, 'rate'), p95: opt(d, hs, 'p(95)'), held: attempts > 0 && okThresholds };
    });
    let highest: CapacityStage | null = null;
    for (const s of stages) {
      if (!s.held) break;
      highest = { name: s.name, rate: s.rate, concurrent: s.concurrent };
    }
    report.capacity = { stages, highestHeld: highest };
  }
  if (info.drift) {
    // The submetrics soak's thresholds reference (only those exist in the end-of-test data).
    const early = opt(d, DRIFT_EARLY, 'p(95)');
    const late = opt(d, DRIFT_LATE, 'p(95)');
    const ratio = early !== null && late !== null && early > 0 ? late / early : null;
    const drifted = ratio !== null && ratio > info.drift.maxRatio;
    report.drift = { earlyP95: early, lateP95: late, ratio, maxRatio: info.drift.maxRatio, drifted };
    if (drifted) problems.push(`DRIFT: p95 handshake went from ${early?.toFixed(0)} ms (early window) to ${late?.toFixed(0)} ms (late window), ratio ${ratio?.toFixed(2)} > ${info.drift.maxRatio} (reported only; the exit code follows the thresholds)`);
  }
  return report;
}

function fmtMs(x: number | null): string {
  return x === null ? '-' : `${x.toFixed(1)} ms`;
}

export function textReport(r: SummaryReport): string {
  const L: string[] = [];
  L.push('');
  L.push(`voicelive ${r.profile}: ${r.verdict === 'pass' ? 'PASS' : 'FAIL'} (${(r.durationMs / 1000).toFixed(1)} s)`);
  L.push('');
  const v = r.valid;
  L.push('valid tokens');
  L.push(`  attempts ${v.attempts}  false rejections ${v.falseRejections}  errors ${v.errors}  unexpected closes ${v.unexpectedCloses}  (sockets upgraded, all classes: ${v.sessionsOpened})`);
  L.push(`  handshake p95 ${fmtMs(v.handshakeP95Ms)}  attribution: ${v.attributionChecked} checked, ${v.attributionErrors} wrong (POC ${v.pocFallback}, other user ${v.wrongUser}, other session ${v.wrongSession}), ${v.attributionUnverified} unverified`);
  if (r.variants.length > 0) {
    L.push('');
    L.push(`    ${'refusals'.padEnd(34)}${'attempts'.padStart(9)}${'rejected'.padStart(10)}${'bypass'.padStart(8)}${'mismatch'.padStart(10)}`);
    for (const row of r.variants) {
      const name = `${row.authCase}/${row.variant}`;
      L.push(`  ${row.ok ? ' ' : '✗'} ${name.padEnd(34)}${String(row.attempts).padStart(9)}${String(row.rejected).padStart(10)}${String(row.bypass).padStart(8)}${String(row.mismatch).padStart(10)}`);
    }
    // Where every variant is not required (all profiles but smoke), say which were not exercised.
    const unexercised = r.variants.filter((row) => row.attempts === 0 && row.ok).map((row) => row.variant);
    if (unexercised.length > 0) {
      L.push(`  not exercised in this run (${unexercised.length}): ${unexercised.join(', ')}; run longer or raise VOICE_INVALID_RATE / VOICE_NO_TOKEN_RATE`);
    }
  }
  if (r.capacity) {
    L.push('');
    L.push('capacity stages (sessions/s, est. concurrent, attempts, success, p95)');
    for (const s of r.capacity.stages) {
      L.push(`  ${s.held ? '✓' : '✗'} ${s.name.padEnd(4)} ${String(s.rate).padStart(8)}/s ${String(Math.round(s.concurrent)).padStart(7)} ${String(s.attempts).padStart(7)} ${s.successRate === null ? '     -' : `${(s.successRate * 100).toFixed(1)}%`.padStart(6)} ${fmtMs(s.p95)}`);
    }
    const h = r.capacity.highestHeld;
    const all = r.capacity.stages.length > 0 && r.capacity.stages.every((s) => s.held);
    if (!h) L.push('  no stage held its thresholds');
    else if (all) L.push(`  every stage held up to ${h.name}: ${h.rate} new sessions/s, about ${Math.round(h.concurrent)} concurrent sessions; no breakpoint found (raise VOICE_CAPACITY_STAGES or VOICE_CAPACITY_STEP to find it)`);
    else L.push(`  highest stage that held: ${h.name}: ${h.rate} new sessions/s, about ${Math.round(h.concurrent)} concurrent sessions`);
  }
  if (r.drift) {
    L.push('');
    L.push(`drift: p95 handshake early ${fmtMs(r.drift.earlyP95)}, late ${fmtMs(r.drift.lateP95)}, ratio ${r.drift.ratio === null ? '-' : r.drift.ratio.toFixed(2)} (report above ${r.drift.maxRatio})`);
  }
  L.push('');
  if (r.problems.length > 0) {
    L.push('what went wrong');
    for (const p of r.problems) L.push(`  - ${p}`);
    L.push('');
  }
  L.push('thresholds');
  for (const t of r.thresholds) L.push(`  ${t.ok ? '✓' : '✗'} ${t.metric} ${t.expression}`);
  L.push('');
  return L.join('\n');
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function junitReport(r: SummaryReport): string {
  const cases: string[] = [];
  let failures = 0;
  for (const t of r.thresholds) {
    const name = `${t.metric} ${t.expression}`;
    if (t.ok) cases.push(`    <testcase classname="voicelive.${r.profile}.thresholds" name="${xml(name)}"/>`);
    else {
      failures++;
      cases.push(`    <testcase classname="voicelive.${r.profile}.thresholds" name="${xml(name)}"><failure message="${xml(`threshold crossed: ${name}`)}"/></testcase>`);
    }
  }
  const vcase = (name: string, ok: boolean, msg: string): void => {
    if (ok) cases.push(`    <testcase classname="voicelive.${r.profile}.traffic" name="${xml(name)}"/>`);
    else {
      failures++;
      cases.push(`    <testcase classname="voicelive.${r.profile}.traffic" name="${xml(name)}"><failure message="${xml(msg)}"/></testcase>`);
    }
  };
  const v = r.valid;
  const validOk = v.falseRejections === 0 && v.attributionErrors === 0 && r.thresholds.filter((t) => /auth_case:valid|attribution|unexpected_close/.test(t.metric)).every((t) => t.ok);
  vcase('valid/valid', validOk, `attempts ${v.attempts}, false rejections ${v.falseRejections}, errors ${v.errors}, misattributed ${v.attributionErrors}, unverified ${v.attributionUnverified}, unexpected closes ${v.unexpectedCloses}`);
  for (const row of r.variants) {
    vcase(`${row.authCase}/${row.variant}`, row.ok, `attempts ${row.attempts}, rejected ${row.rejected}, bypass ${row.bypass}, mismatch ${row.mismatch}`);
  }
  if (r.drift) vcase('soak/drift', !r.drift.drifted, `p95 late/early ratio ${r.drift.ratio?.toFixed(2)} above ${r.drift.maxRatio}`);
  const total = cases.length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="voicelive" tests="${total}" failures="${failures}">`,
    `  <testsuite name="voicelive ${xml(r.profile)}" tests="${total}" failures="${failures}" time="${(r.durationMs / 1000).toFixed(3)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** The handleSummary body: text on stdout plus the two files (none when resultsDir is ''). */
export function buildSummary(data: SummaryData, info: SummaryInfo): Record<string, string> {
  const r = analyse(data, info);
  const out: Record<string, string> = { stdout: textReport(r) };
  if (info.resultsDir !== '') {
    const dir = info.resultsDir.replace(/\/+$/, '');
    out[`${dir}/summary.json`] = `${JSON.stringify(r, null, 2)}\n`;
    out[`${dir}/junit.xml`] = junitReport(r);
  }
  return out;
}
