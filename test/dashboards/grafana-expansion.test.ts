// The Grafana expansion the query tests rely on: intervals, macros and variable formatting
// for the InfluxDB (InfluxQL) data source.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { calculateInterval, describeInterval, formatInfluxValue, interpolateQuery, referencedVariables, regexEscape, roundInterval } from '../helpers/dashboard-grafana.ts';

describe('Grafana query expansion (InfluxQL)', () => {
  it('rounds intervals to Grafana\'s steps and honours the min interval', () => {
    assert.equal(roundInterval(12), 10);
    assert.equal(roundInterval(900), 1000);
    assert.equal(roundInterval(4000), 5000);
    assert.equal(roundInterval(80_000), 60_000);
    // 15 minutes over 900 points = 1 s; 6 hours over 900 points = 24 s → 20 s
    assert.equal(calculateInterval(0, 15 * 60_000, 900), 1000);
    assert.equal(calculateInterval(0, 6 * 3_600_000, 900), 20_000);
    // a 20 s run over 1000 points would be 20 ms: the data source's 1 s minimum wins
    assert.equal(calculateInterval(0, 20_000, 1000, 1000), 1000);
    assert.equal(describeInterval(500), '500ms');
    assert.equal(describeInterval(20_000), '20s');
    assert.equal(describeInterval(120_000), '2m');
    assert.equal(describeInterval(86_400_000 * 10000), '10000d');
  });

  it('formats variables as the InfluxDB data source does', () => {
    assert.equal(regexEscape('a.b/c(d)|e'), 'a\\.b\\/c\\(d\\)\\|e');
    assert.equal(formatInfluxValue({ value: ['valid'], multi: true, includeAll: true }), 'valid');
    assert.equal(formatInfluxValue({ value: ['no_token', 'valid'], multi: true, includeAll: true }), '(no_token|valid)');
    assert.equal(formatInfluxValue({ value: ['run.1', 'run/2'], multi: true, includeAll: false }), '(run\\.1|run\\/2)');
    assert.equal(formatInfluxValue({ value: 'x.y', multi: false, includeAll: false }), 'x.y');
  });

  it('expands $timeFilter, $__interval, $__interval_ms, $interval and variables', () => {
    const q = interpolateQuery(
      'SELECT count("value") * 1000 / $__interval_ms FROM "m" WHERE "testid" =~ /^$testid$/ AND "auth_case" =~ /^${auth_case}$/ AND $timeFilter GROUP BY time($__interval), time($interval)',
      {
        fromMs: 1000,
        toMs: 61_000,
        intervalMs: 2000,
        variables: {
          testid: { value: ['run-a'], multi: true, includeAll: true },
          auth_case: { value: ['invalid', 'valid'], multi: true, includeAll: true },
        },
      },
    );
    assert.equal(
      q,
      'SELECT count("value") * 1000 / 2000 FROM "m" WHERE "testid" =~ /^run-a$/ AND "auth_case" =~ /^(invalid|valid)$/ AND time >= 1000ms and time <= 61000ms GROUP BY time(2s), time(2s)',
    );
  });

  it('refuses to leave a variable unexpanded, but keeps $tag_ aliases', () => {
    assert.throws(() => interpolateQuery('SELECT 1 FROM m WHERE x =~ /^$nope$/ AND $timeFilter', { fromMs: 0, toMs: 1, intervalMs: 1000, variables: {} }), /unexpanded variables \$nope/);
    assert.deepEqual(referencedVariables('p95 $tag_auth_case ${a} [[b]] $c'), ['tag_auth_case', 'a', 'b', 'c']);
  });
});
