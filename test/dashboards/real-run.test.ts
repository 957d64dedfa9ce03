// THE acceptance test of the dashboards: the real smoke bundle (dist/smoke.js) runs through
// the in-process engine with `--out influxdb=http://127.0.0.1:<port>/k6` and
// `--tag testid=<id>` against the reference target; then every panel's query from
// dashboards/voice-sessions.json runs against that influxd, expanded as Grafana would, and
// its numbers are checked against the run's own summary (handleSummary's data).
//
// Three runs in one database:
//   A: clean target, 2 sessions         B: clean target, 4 sessions (series must not grow)
//   C: a faulty target (accepts missing tokens, misattributes, drops sessions, refuses with
//      HTTP while the scenario expects close frames) so the verdict panels count real defects.
//   D: clean target, attribution read from a path the events do not carry (unverified).
// The database is then scanned for tokens (every tag value and every string field).
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkDashboard, DashboardRunner, formatProblems, type PanelReport } from '../helpers/dashboard-checks.ts';
import { dataPanels, interpolateQuery, loadDashboard, type Json } from '../helpers/dashboard-grafana.ts';
import { influxdSkipReason, startInfluxd, type RunningInfluxd } from '../helpers/influxd.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dashboard = loadDashboard(join(root, 'dashboards/voice-sessions.json'));
const bundle = join(root, 'dist/smoke.js');
const DB = 'k6';
const JWT_RE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.?[A-Za-z0-9_-]*/;

/**
 * Targets a healthy reference run cannot make non-empty, with where they are proven instead:
 * dropped_iterations needs an arrival-rate executor that runs out of VUs (smoke has none);
 * the synthetic test (queries-synthetic.test.ts) proves that query returns the right sum.
 */
const NEVER_NON_EMPTY_IN_SMOKE = new Set(['VUs and dropped iterations/B']);

type RunKey = 'a' | 'b' | 'c' | 'd';

interface RunOutcome {
  testid: string;
  exitCode: number;
  summary: Json;
  fromMs: number;
  toMs: number;
  error?: string;
}

/** What is missing for the real run, or undefined when everything is there. */
async function missingPieces(): Promise<string | undefined> {
  const missing: string[] = [];
  if (!existsSync(bundle)) missing.push('dist/smoke.js (run `npm run build`)');
  for (const f of ['engine/index.ts', 'target/server.ts', 'tools/tokens/index.ts']) if (!existsSync(join(root, f))) missing.push(f);
  return missing.length ? missing.join('; ') : undefined;
}

describe('dashboards on a real engine run (smoke bundle → influxdb output → every panel)', { skip: influxdSkipReason() }, () => {
  let influx: RunningInfluxd;
  let tmp: string;
  let tokens: { all: string[] } = { all: [] };
  const runs: Record<RunKey, RunOutcome | undefined> = { a: undefined, b: undefined, c: undefined, d: undefined };
  let setupError: string | undefined;

  before(async () => {
    influx = await startInfluxd();
    // No CREATE DATABASE here: the output creates it at start, as k6's does.
    const missing = await missingPieces();
    if (missing) {
      setupError = `the real run is impossible: missing ${missing}`;
      return;
    }
    await mkdir(join(root, 'tmp'), { recursive: true });
    tmp = await mkdtemp(join(root, 'tmp', 'dash-real-'));
    const { ensureTokens } = await import('../../tools/tokens/index.ts');
    const { startTarget } = await import('../../target/server.ts');
    const { NO_FAULTS } = await import('../../target/faults.ts');
    const { runK6 } = await import('../../engine/index.ts');
    const t0 = Date.now();
    // Cached under the git-ignored tmp/ folder and reused while valid (minting costs seconds).
    const tokDir = join(root, 'tmp', 'dashboards-test-tokens');
    const set = await ensureTokens(tokDir, { users: 4, minValidSeconds: 600, workers: 0 });
    if (process.env.DASH_TIMING) console.error(`tokens: ${Date.now() - t0} ms`);
    tokens = {
      all: [...set.pool.users.flatMap((u) => u.tokens.map((t) => t.token)), ...set.invalid.cases.map((c) => (c as { token: string }).token)].filter(
        (t) => typeof t === 'string' && t.length > 8,
      ),
    };
    const quiet = () => {};
    const clean = await startTarget({ host: '127.0.0.1', port: 0, tokensDir: tokDir, log: quiet });
    const faulty = await startTarget({
      host: '127.0.0.1',
      port: 0,
      tokensDir: tokDir,
      log: quiet,
      rejectStyle: 'http',
      // drop after 1200 ms ± 50 % (600–1800 ms): accepted no_token sessions outlive the 500 ms
      // reject wait (so they count as bypasses), valid sessions held 2 s are dropped first.
      faults: { ...NO_FAULTS, acceptMissing: true, misattribute: 0.5, drop: { rate: 0.5, afterMs: 1200 } },
      // Deterministic, well-spread draws (golden-ratio sequence) instead of Math.random, so
      // every run has some dropped and some misattributed sessions.
      random: (() => {
        let i = 0;
        return () => (++i * 0.6180339887) % 1;
      })(),
    });
    const runOne = async (key: RunKey, target: string, env: Record<string, string>): Promise<void> => {
      const testid = `dash-${key}-${Math.floor(Date.now()).toString(36)}`;
      const fromMs = Math.floor(Date.now()) - 1000;
      let stderr = '';
      const res = await runK6({
        script: bundle,
        env: {
          VOICE_TARGET: target,
          VOICE_TOKEN_POOL: join(tokDir, 'pool.json'),
          VOICE_INVALID_TOKENS: join(tokDir, 'invalid.json'),
          VOICE_RESULTS_DIR: '',
          VOICE_HOLD_SECONDS: '0.5',
          VOICE_REJECT_WAIT_MS: '300',
          VOICE_AUDIO_FRAME_MS: '100',
          ...env,
        },
        includeSystemEnv: false,
        tags: { testid },
        out: [`influxdb=${influx.url}/${DB}`],
        quiet: true,
        noSummary: true,
        stdout: quiet,
        stderr: (s) => {
          stderr += s;
        },
        watchdogMarginMs: 10_000,
      });
      const toMs = Math.ceil(Date.now()) + 1000;
      if (process.env.DASH_TIMING) console.error(`run ${key}: ${toMs - fromMs - 2000} ms`);
      if (/invalid output type 'influxdb'/.test(`${res.error ?? ''}${stderr}`)) {
        setupError =
          "the real run is impossible: the engine has no influxdb output yet (engine/outputs/index.ts must accept `-o influxdb=URL` and write k6's v1 schema)";
      }
      runs[key] = {
        testid,
        exitCode: res.exitCode,
        summary: res.summaryData ?? {},
        fromMs,
        toMs,
        ...(res.error || !res.summaryData ? { error: `${res.error ?? 'no summary data'}\n${stderr.slice(-2000)}` } : {}),
      };
    };
    try {
      await runOne('a', clean.wsUrl, { VOICE_SESSIONS: '2' });
      await runOne('b', clean.wsUrl, { VOICE_SESSIONS: '4' });
      await runOne('c', faulty.wsUrl, {
        VOICE_SESSIONS: '6',
        VOICE_VUS: '6',
        VOICE_HOLD_SECONDS: '2',
        VOICE_REJECT_STYLE: 'close',
        VOICE_PROBE_STATUS: 'true',
        VOICE_REJECT_WAIT_MS: '500',
      });
      await runOne('d', clean.wsUrl, { VOICE_SESSIONS: '1', VOICE_ATTRIBUTION_PATH: 'no.such.path' });
    } finally {
      const tc = Date.now();
      await clean.close();
      await faulty.close();
      if (process.env.DASH_TIMING) console.error(`targets closed in ${Date.now() - tc} ms; before() took ${Date.now() - t0} ms`);
    }
  });

  after(async () => {
    const ta = Date.now();
    await influx?.stop();
    if (process.env.DASH_TIMING) console.error(`influxd stopped in ${Date.now() - ta} ms`);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  function requireRuns(): Record<RunKey, RunOutcome> {
    assert.equal(setupError, undefined, setupError);
    for (const [k, r] of Object.entries(runs)) {
      assert.ok(r, `run ${k} did not happen`);
      assert.equal(r.error, undefined, `run ${k} (${r.testid}) failed: exit ${r.exitCode} ${r.error}`);
    }
    return runs as Record<RunKey, RunOutcome>;
  }

  /** The dashboard's own variable query, expanded for a run: what Grafana offers as "All". */
  async function variableOptions(name: string, r: RunOutcome): Promise<string[]> {
    const v = dashboard.templating.list.find((x) => x.name === name)!;
    const q = interpolateQuery(v.query, {
      fromMs: r.fromMs,
      toMs: r.toMs,
      intervalMs: 1000,
      variables: { testid: { value: [r.testid], multi: true, includeAll: true } },
    });
    const res = await influx.query(q, DB);
    return [...new Set(res.flatMap((x) => x.series ?? []).flatMap((s) => s.values.map((row) => String(row[1]))))].sort();
  }

  async function panelsFor(r: RunOutcome): Promise<PanelReport[]> {
    const testids = await variableOptions('testid', r);
    assert.ok(testids.includes(r.testid), `the run variable offers ${r.testid} (got ${testids.join(', ')})`);
    const scenarios = await variableOptions('scenario', r);
    const authCases = await variableOptions('auth_case', r);
    assert.ok(scenarios.length > 0 && authCases.length > 0, 'scenario and traffic class variables have options');
    const runner = new DashboardRunner(influx, { db: DB, testid: r.testid, fromMs: r.fromMs, toMs: r.toMs, scenarios, authCases });
    return checkDashboard(runner, dashboard, r.summary);
  }

  const nonEmpty = new Set<string>();

  for (const key of ['a', 'b', 'c', 'd'] as const) {
    it(`run ${key}: every panel's numbers match the run's summary`, async () => {
      const r = requireRuns()[key];
      const reports = await panelsFor(r);
      assert.equal(reports.length, dataPanels(dashboard).length);
      for (const rep of reports) for (const [refId, n] of Object.entries(rep.rows)) if (n > 0) nonEmpty.add(`${rep.title}/${refId}`);
      assert.equal(formatProblems(reports), '', `testid ${r.testid}`);
    });
  }

  it('run c (faulty target) shows the defects in the verdict row; runs a and b show none', () => {
    const r = requireRuns();
    const m = (run: RunOutcome, name: string) => (run.summary.metrics?.[name]?.values ?? {}) as Record<string, number>;
    assert.ok((m(r.c, 'voice_auth_bypass').count ?? 0) > 0, `the faulty target let no_token attempts in: ${JSON.stringify(Object.fromEntries(Object.entries(r.c.summary.metrics ?? {}).filter(([k]) => /no_token|missing|empty|bypass/.test(k)).map(([k, v]) => [k, (v as Json).values])))}`);
    assert.ok((m(r.c, 'voice_rejection_mismatch').count ?? 0) > 0, 'HTTP refusals while close frames were expected');
    assert.ok((m(r.c, 'voice_sessions_opened').count ?? 0) > 0);
    assert.ok((m(r.d, 'voice_attribution_unverified').count ?? 0) > 0, 'run d could not verify attribution');
    for (const run of [r.a, r.b]) {
      assert.equal(m(run, 'voice_auth_bypass').count ?? 0, 0);
      assert.equal(m(run, 'voice_attribution_errors').passes ?? 0, 0);
    }
  });

  it('every panel query returned data on at least one real run', () => {
    requireRuns();
    const empty: string[] = [];
    for (const p of dataPanels(dashboard)) {
      for (const t of p.targets as Json[]) {
        const k = `${p.title}/${t.refId}`;
        if (!nonEmpty.has(k) && !NEVER_NON_EMPTY_IN_SMOKE.has(k)) empty.push(k);
      }
    }
    assert.deepEqual(empty, []);
  });

  it('no token is stored in InfluxDB (every tag value and every string field scanned)', async () => {
    requireRuns();
    assert.ok(tokens.all.length > 4, 'the scan knows the real token strings');
    const measurements = (await influx.query('SHOW MEASUREMENTS', DB)).flatMap((x) => x.series ?? []).flatMap((s) => s.values.map((v) => String(v[0])));
    assert.ok(measurements.includes('voice_handshake_duration') && measurements.includes('ws_connecting'), measurements.join(','));
    let scanned = 0;
    const leaks: string[] = [];
    const inspect = (where: string, value: string) => {
      scanned++;
      if (JWT_RE.test(value) || /[?&]token=[^&\s]/.test(value) || tokens.all.some((t) => value.includes(t) || (t.length > 40 && value.includes(t.slice(-40))))) {
        leaks.push(`${where}: ${value.slice(0, 60)}…`);
      }
    };
    // Every tag value of every measurement, in one statement.
    const tagValues = await influx.query('SHOW TAG VALUES FROM /.*/ WITH KEY =~ /.*/', DB);
    for (const sr of tagValues.flatMap((x) => x.series ?? [])) for (const v of sr.values) inspect(`${sr.name} tag ${v[0]}`, String(v[1]));
    // Every string field (k6 writes url as a field by default).
    const fieldKeys = await influx.query('SHOW FIELD KEYS', DB);
    const stringFields = fieldKeys.flatMap((x) => x.series ?? []).flatMap((sr) => sr.values.filter((v) => v[1] === 'string').map((v) => [sr.name, String(v[0])] as const));
    await Promise.all(
      stringFields.map(async ([m, field]) => {
        const rows = await influx.query(`SELECT "${field}" FROM "${m}"`, DB);
        for (const sr of rows.flatMap((x) => x.series ?? [])) for (const v of sr.values) if (typeof v[1] === 'string') inspect(`${m} field ${field}`, v[1]);
      }),
    );
    assert.ok(scanned > 100, `scanned ${scanned} values`);
    assert.deepEqual(leaks, []);
  });

  it('sample times are finer than a millisecond (points of one series in the same ms would overwrite each other)', async () => {
    requireRuns();
    // InfluxDB keeps one point per series and timestamp: k6 stamps samples in nanoseconds, so
    // two messages of one socket in the same millisecond are two points. Whole-ms stamps lose
    // points, and the message and counter panels then undercount.
    const coarse: string[] = [];
    const measurements = (await influx.query('SHOW MEASUREMENTS', DB)).flatMap((x) => x.series ?? []).flatMap((s) => s.values.map((v) => String(v[0])));
    for (const m of measurements) {
      // JSON numbers lose ns digits beyond 2^53: read the timestamps as text.
      const text = await (await fetch(`${influx.url}/query?db=${DB}&epoch=ns&q=${encodeURIComponent(`SELECT "value" FROM "${m}"`)}`)).text();
      const stamps = [...text.matchAll(/\[(\d{16,20}),/g)].map((x) => x[1]!);
      if (stamps.length >= 5 && stamps.every((t) => t.endsWith('000000'))) coarse.push(`${m} (${stamps.length} points, all on whole milliseconds)`);
    }
    assert.deepEqual(coarse, [], 'the engine stamps these samples with Date.now() (whole ms) instead of a sub-millisecond clock');
  });

  it('the number of series does not grow with the number of sessions (run a: 2 sessions, run b: 4)', async () => {
    const r = requireRuns();
    const count = async (testid: string) => {
      const res = await influx.query(`SHOW SERIES WHERE "testid" = '${testid}'`, DB);
      const perMeasurement: Record<string, number> = {};
      for (const s of res.flatMap((x) => x.series ?? [])) {
        for (const v of s.values) {
          const m = String(v[0]).split(',')[0]!;
          perMeasurement[m] = (perMeasurement[m] ?? 0) + 1;
        }
      }
      return perMeasurement;
    };
    const sa = await count(r.a.testid);
    const sb = await count(r.b.testid);
    const opened = (run: RunOutcome) => (run.summary.metrics?.voice_sessions_opened?.values?.count ?? 0) as number;
    assert.ok(opened(r.b) > opened(r.a), `run b opened more sessions (${opened(r.b)} vs ${opened(r.a)})`);
    assert.ok(Object.keys(sa).length > 5, JSON.stringify(sa));
    assert.deepEqual(sb, sa);
  });
});
