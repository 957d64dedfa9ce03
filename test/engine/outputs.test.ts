// Outputs in k6's formats: JSON lines (internal/output/json/{json.go,wrapper.go}) and the
// InfluxDB line protocol with k6's schema (internal/output/influxdb/{config,output}.go),
// v1 against a real influxd, the xk6-influxdb v2 form against a recording HTTP server.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { toLine } from '../../engine/outputs/influxdb.ts';
import { influxdSkipReason, type RunningInfluxd, startInfluxd } from '../helpers/influxd.ts';
import { runScript, withTempDir } from '../helpers/engine-run.ts';

const SCRIPT = `
  import { Counter } from 'k6/metrics';
  import exec from 'k6/execution';
  const c = new Counter('voice_things');
  export const options = { iterations: 2, thresholds: { voice_things: ['count>0'] } };
  export default function () { exec.vu.metrics.metadata.session_id = 's-' + __ITER; c.add(1, { url: 'ws://h/x?y', 'sp ace': 'a,b=c' }); }
  export function handleSummary() { return {}; }
`;

describe('engine outputs', () => {
  it('json=FILE writes a Metric line once per metric, then Point lines with RFC 3339 time, tags and metadata (json.go, wrapper.go)', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'out.json');
      const r = await runScript(SCRIPT, { out: [`json=${file}`], tags: { testid: 't-1' } });
      assert.equal(r.exitCode, 0, r.stderr);
      const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      const metricLines = lines.filter((l) => l.type === 'Metric');
      const names = metricLines.map((l) => l.metric);
      assert.equal(new Set(names).size, names.length, 'one Metric line per metric');
      const vt = metricLines.find((l) => l.metric === 'voice_things');
      assert.deepEqual(vt, {
        type: 'Metric',
        data: { name: 'voice_things', type: 'counter', contains: 'default', thresholds: ['count>0'], submetrics: null },
        metric: 'voice_things',
      });
      const points = lines.filter((l) => l.type === 'Point' && l.metric === 'voice_things');
      assert.equal(points.length, 2);
      const p = points[0] as Record<string, any>;
      assert.deepEqual(Object.keys(p), ['metric', 'type', 'data']);
      assert.match(p.data.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      assert.equal(p.data.value, 1);
      assert.equal(p.data.tags.testid, 't-1');
      assert.equal(p.data.tags.scenario, 'default');
      assert.equal(p.data.tags.group, '');
      assert.equal(p.data.metadata.session_id, 's-0');
      assert.ok(lines.findIndex((l) => l.type === 'Metric' && l.metric === 'voice_things') < lines.findIndex((l) => l === p));
    });
  });

  it('Metric lines write a threshold as its source string, or as an object only with abortOnFail (k6 metrics/thresholds.go thresholdConfig.MarshalJSON; measured with k6 v2.2.0)', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'out.json');
      const r = await runScript(
        `export const options = { iterations: 1, thresholds: { iterations: ['count>0', { threshold: 'count<1000', abortOnFail: true, delayAbortEval: '90s' }, { threshold: 'count<999', abortOnFail: true }, { threshold: 'count<998', delayAbortEval: '1s' }] } };
         export default function () {}`,
        { out: [`json=${file}`] },
      );
      assert.equal(r.exitCode, 0, r.stderr);
      const line = (await readFile(file, 'utf8')).split('\n').find((l) => l.includes('"type":"Metric"') && l.includes('"name":"iterations"'));
      assert.deepEqual(JSON.parse(line ?? '{}').data.thresholds, [
        'count>0',
        { threshold: 'count<1000', abortOnFail: true, delayAbortEval: '1m30s' },
        { threshold: 'count<999', abortOnFail: true, delayAbortEval: null },
        'count<998',
      ]);
    });
  });

  it('--tag replaces the script\'s options.tags, and K6_TAGS does too; they are not merged (k6 lib/options.go Apply; measured with k6 v2.2.0)', async () => {
    const src = `export const options = { iterations: 1, tags: { run: 'r' } }; export default function () {}`;
    const tagsOf = async (extra: Parameters<typeof runScript>[1]) =>
      withTempDir(async (dir) => {
        const file = join(dir, 'out.json');
        const r = await runScript(src, { out: [`json=${file}`], processEnv: {}, ...extra });
        assert.equal(r.exitCode, 0, r.stderr);
        const p = (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.type === 'Point' && l.metric === 'iterations');
        return p.data.tags as Record<string, string>;
      });
    assert.deepEqual(await tagsOf({}), { group: '', run: 'r', scenario: 'default' });
    assert.deepEqual(await tagsOf({ tags: { testid: 't1' } }), { group: '', testid: 't1', scenario: 'default' });
    assert.deepEqual(await tagsOf({ processEnv: { K6_TAGS: 'testid=t2,x=y' } }), { group: '', testid: 't2', x: 'y', scenario: 'default' });
  });

  it('line protocol escapes measurement, tag and field text like the influxdb1 client', () => {
    const line = toLine(
      { metric: { name: 'm x', type: 'counter', contains: 'default' }, time: 1000.5, value: 2, tags: { b: 'x y', a: 'p,q=r', url: 'ws://h/"q"', empty: '' } },
      new Map([['url', 'string']]),
    );
    assert.equal(line, 'm\\ x,a=p\\,q\\=r,b=x\\ y url="ws://h/\\"q\\"",value=2 1000500000');
  });

  describe('influxdb v1 (real influxd)', { skip: influxdSkipReason() }, () => {
    let influx: RunningInfluxd;
    before(async () => {
      influx = await startInfluxd();
    });
    after(async () => {
      await influx?.stop();
    });
    it('creates the DB, writes measurement=metric name, tags, value field, url as a field; never metadata (output.go batchFromSamples)', async () => {
      const r = await runScript(SCRIPT, { out: [`influxdb=${influx.url}/k6conf`], tags: { testid: 'run-7' } });
      assert.equal(r.exitCode, 0, r.stderr);
      const res = await influx.query('SELECT * FROM voice_things', 'k6conf');
      const s = res[0]?.series?.[0];
      assert.ok(s, JSON.stringify(res));
      assert.deepEqual([...s.columns].sort(), ['scenario', 'sp ace', 'testid', 'time', 'url', 'value']);
      assert.equal(s.values.length, 2);
      const tagKeys = await influx.query('SHOW TAG KEYS FROM voice_things', 'k6conf');
      const keys = tagKeys[0]?.series?.[0]?.values.map((v) => v[0]);
      assert.deepEqual(keys, ['scenario', 'sp ace', 'testid'], 'url is a field (tagsAsFields default), group "" dropped, metadata never written');
    });
  });

  it('xk6-influxdb=URL posts to /api/v2/write with org, bucket and token (xk6-output-influxdb)', async () => {
    const got: { url: string; auth: string; body: string }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        got.push({ url: req.url ?? '', auth: String(req.headers.authorization ?? ''), body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const r = await runScript(SCRIPT, {
        out: [`xk6-influxdb=http://127.0.0.1:${port}`],
        processEnv: { K6_INFLUXDB_ORGANIZATION: 'org1', K6_INFLUXDB_BUCKET: 'b1', K6_INFLUXDB_TOKEN: 'tok' },
      });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.ok(got.length > 0);
      assert.equal(got[0]?.url, '/api/v2/write?org=org1&bucket=b1&precision=ns');
      assert.equal(got[0]?.auth, 'Token tok');
      assert.match(got.map((g) => g.body).join(''), /^voice_things,scenario=default,sp\\ ace=a\\,b\\=c url="ws:\/\/h\/x\?y",value=1 \d+$/m);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('an unreachable InfluxDB logs "Couldn\'t write stats" and the run still ends promptly with its own exit code (output.go flushMetrics)', async () => {
    const t0 = Date.now();
    const r = await runScript(SCRIPT, { out: ['influxdb=http://127.0.0.1:9/nodb'] });
    assert.equal(r.exitCode, 0);
    assert.match(r.stderr, /level=error msg="Couldn't write stats"/);
    assert.ok(Date.now() - t0 < 15_000);
  });

  it('an unknown output type fails at start (internal/cmd/outputs.go)', async () => {
    const r = await runScript(SCRIPT, { out: ['statsd=x'] });
    assert.notEqual(r.exitCode, 0);
    assert.match(r.stderr, /invalid output type 'statsd'/);
  });
});
