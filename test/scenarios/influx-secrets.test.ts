// Tokens never reach InfluxDB: the smoke bundle writes to a real influxd (1.x) through the
// runner's built-in output, then every point of every measurement is read back and scanned
// with a JWT pattern and the actual token strings.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SHORT_FORMS } from '../../lib/profile-defaults.ts';
import { createTokenSet, writeTokenSet } from '../../tools/tokens/index.ts';
import { influxdSkipReason, startInfluxd, type RunningInfluxd } from '../helpers/influxd.ts';
import { runCase } from '../helpers/scenario-run.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const skip = influxdSkipReason();
let work = '';
let influx: RunningInfluxd | null = null;
let tokens: string[] = [];

before(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), 'voicelive-influx-'));
  const set = await createTokenSet({ users: 4, workers: 0 });
  await writeTokenSet(join(work, 'tokens'), set);
  tokens = [...set.pool.users.flatMap((u) => u.tokens.map((t) => t.token)), ...set.invalid.cases.map((c) => c.token)].filter((t) => t.length >= 24);
  execFileSync(process.execPath, ['-e', `import(${JSON.stringify(join(ROOT, 'build.mjs'))}).then((m) => m.build({ outDir: ${JSON.stringify(join(work, 'dist'))} }))`], { stdio: 'inherit', timeout: 60_000 });
  influx = await startInfluxd();
});

after(async () => {
  await influx?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

test('no token in any InfluxDB point written by a smoke run (close and http styles)', { skip }, async () => {
  const inf = influx as RunningInfluxd;
  for (const style of ['close', 'http'] as const) {
    const db = `k6${style}`;
    const r = await runCase({
      bundle: join(work, 'dist', 'smoke.js'),
      tokensDir: join(work, 'tokens'),
      env: { ...SHORT_FORMS['smoke'], VOICE_HANDSHAKE_P95_MS: '20000' },
      rejectStyle: style,
      outs: [`influxdb=${inf.url}/${db}`],
    });
    assert.equal(r.exitCode, 0, `${style}\n${r.stdout}\n${r.stderr.slice(-1500)}`);
    const res = await inf.query('SELECT * FROM /.*/', db);
    const dump = JSON.stringify(res);
    assert.match(dump, /voice_handshake_duration/, 'the run wrote points');
    assert.match(dump, /voicelive\/\{session_id\}/, 'sockets are named by the template');
    assert.doesNotMatch(dump, /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/);
    assert.doesNotMatch(dump, /[?&]token=/);
    for (const t of tokens) {
      assert.ok(!dump.includes(t.slice(0, 40)), 'a token in InfluxDB');
      assert.ok(!dump.includes(encodeURIComponent(t).slice(0, 40)), 'an encoded token in InfluxDB');
    }
    const tagKeys = JSON.stringify(await inf.query('SHOW TAG VALUES WITH KEY IN ("url", "name")', db));
    assert.doesNotMatch(tagKeys, /token=/);
  }
});
