// The throwaway influxd the dashboard tests use: loopback only, reporting off, its own
// temporary directory removed afterwards, and a missing binary failing in CI.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { influxdSkipReason, startInfluxd } from '../helpers/influxd.ts';

describe('test/helpers/influxd.ts', () => {
  it('a missing influxd fails in CI and skips with a message locally', () => {
    const saved = { PATH: process.env.PATH, INFLUXD_BIN: process.env.INFLUXD_BIN, CI: process.env.CI };
    try {
      process.env.PATH = '/nonexistent-dir';
      delete process.env.INFLUXD_BIN;
      process.env.CI = 'true';
      assert.throws(() => influxdSkipReason(), /not found[^]*CI=true: this is a failure/);
      delete process.env.CI;
      assert.match(influxdSkipReason() ?? '', /influxd \(InfluxDB 1\.x\) not found/);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('starts on loopback with every listener loopback or off, answers queries, cleans up', { skip: influxdSkipReason() }, async () => {
    const influx = await startInfluxd();
    try {
      assert.match(influx.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const config = readFileSync(influx.configPath, 'utf8');
      assert.match(config, /^reporting-enabled = false$/m);
      const binds = [...config.matchAll(/bind-address = "([^"]*)"/g)].map((m) => m[1]!);
      assert.ok(binds.length >= 2);
      for (const b of binds) assert.match(b, /^127\.0\.0\.1:\d+$/);
      for (const section of ['graphite', 'collectd', 'opentsdb', 'udp']) assert.match(config, new RegExp(`\\[\\[${section}\\]\\]\\n\\s+enabled = false`));
      await influx.query('CREATE DATABASE t');
      await influx.write('t', ['m,a=x value=1 1000', 'm,a=x value=2 2000']);
      const res = await influx.query('SELECT sum("value") FROM "m"', 't');
      assert.equal(res[0]?.series?.[0]?.values[0]?.[1], 3);
      await assert.rejects(influx.query('SELECT FROM nothing', 't'), /influx/);
    } finally {
      await influx.stop();
    }
    assert.equal(existsSync(influx.dir), false, 'the temporary directory is removed');
    await assert.rejects(fetch(`${influx.url}/ping`, { signal: AbortSignal.timeout(1000) }));
  });
});
