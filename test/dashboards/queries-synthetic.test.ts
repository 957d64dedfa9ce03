// The query machinery on a synthetic run in k6's schema: every panel's every query returns
// data and the numbers match the run's summary; a wrong summary or a broken query fails.
// (The proof on a real engine run is in real-run.test.ts.)
import { strict as assert } from 'node:assert';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkDashboard, DashboardRunner, formatProblems } from '../helpers/dashboard-checks.ts';
import { dataPanels, loadDashboard } from '../helpers/dashboard-grafana.ts';
import { syntheticRun } from '../helpers/dashboard-synthetic.ts';
import { influxdSkipReason, startInfluxd, type RunningInfluxd } from '../helpers/influxd.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dashboard = loadDashboard(join(root, 'dashboards/voice-sessions.json'));
const DB = 'k6synthetic';

describe('dashboard queries on a synthetic k6 run', { skip: influxdSkipReason() }, () => {
  let influx: RunningInfluxd;
  const run = syntheticRun({ testid: 'synthetic-a', startMs: Date.now() - 120_000, attempts: 400 });
  // A second run in the same database: its data must not leak into the first's panels.
  const other = syntheticRun({ testid: 'synthetic-b', startMs: Date.now() - 110_000, attempts: 150, seed: 7 });
  const runner = () =>
    new DashboardRunner(influx, { db: DB, testid: 'synthetic-a', fromMs: run.fromMs, toMs: run.toMs, scenarios: run.scenarios, authCases: run.authCases });

  before(async () => {
    influx = await startInfluxd();
    await influx.query(`CREATE DATABASE "${DB}"`);
    for (let i = 0; i < run.lines.length; i += 5000) await influx.write(DB, run.lines.slice(i, i + 5000), 'ns');
    await influx.write(DB, other.lines, 'ns');
  });
  after(async () => {
    await influx?.stop();
  });

  it('every panel query returns data and matches the summary', async () => {
    const reports = await checkDashboard(runner(), dashboard, run.summary);
    assert.equal(reports.length, dataPanels(dashboard).length);
    assert.equal(formatProblems(reports), '');
    for (const r of reports) for (const [refId, n] of Object.entries(r.rows)) assert.ok(n > 0, `panel ${r.id} "${r.title}" ${refId} returned nothing`);
    // The verdict panels really counted something here.
    const bypass = run.summary.metrics.voice_auth_bypass.count;
    assert.ok(bypass > 0);
  });

  it('a wrong number fails: the summary disagrees with the stored data', async () => {
    const tampered = structuredClone(run.summary);
    tampered.metrics.voice_auth_bypass.count += 1;
    tampered.metrics.ws_msgs_sent.count -= 1;
    tampered.metrics.voice_handshake_duration['p(95)'] *= 1.5;
    const out = formatProblems(await checkDashboard(runner(), dashboard, tampered));
    assert.match(out, /Auth bypasses/);
    assert.match(out, /ws_msgs_sent/);
    assert.match(out, /p\(95\)/);
  });

  it('a query that returns nothing fails', async () => {
    const broken = structuredClone(dashboard);
    const p = dataPanels(broken).find((x) => x.title === 'Attempts')!;
    p.targets[0].query = p.targets[0].query.replace('"voice_rejected"', '"voice_rejectd"');
    const q = dataPanels(broken).find((x) => x.title === 'Agent-response latency (p50 / p95 / p99)')!;
    q.targets[1].query = q.targets[1].query.replace('"testid" =~', '"test_id" =~');
    const out = formatProblems(await checkDashboard(runner(), broken, run.summary));
    assert.match(out, /"Attempts":\n  - attempts: the query returned nothing/);
    assert.match(out, /Agent-response latency[^]*B \(p95\): no data/);
  });
});
