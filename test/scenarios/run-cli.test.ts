// The main job end to end (npm run smoke's entry point) and its flag errors.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { UserError } from '../../tools/common/cli.ts';
import { main } from '../../tools/run/cli.ts';
import { chooseRunner, runArgs } from '../../tools/run/runner.ts';
import { spawnCapture, type Captured } from '../helpers/spawn-capture.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'tools/run/cli.ts');
let work = '';
let closedPort = 0;
let tokensWithFiles = '';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'voicelive-run-'));
  // A loopback port with nothing listening: bind one, then close it.
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closedPort = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  // Only their presence is checked before the connection test.
  tokensWithFiles = join(work, 'present-tokens');
  await mkdir(tokensWithFiles);
  for (const f of ['pool.json', 'invalid.json']) await writeFile(join(tokensWithFiles, f), '{}');
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

function run(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000): Promise<Captured> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv['K6_BIN'];
  childEnv['PATH'] = (process.env['PATH'] ?? '').split(':').filter((d) => d !== '' && !d.includes('k6')).join(':');
  return spawnCapture(process.execPath, ['--import', import.meta.resolve('tsx'), CLI, ...args], { cwd: work, env: childEnv, timeoutMs });
}

test('bad flags are user errors naming the flag; the process prints one line and exits 2', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['smoke', '--bogus'], /^Unknown option '--bogus'; see --help$/],
    // Regression: these were silently overwritten by the main job's own values.
    [['smoke', '-e', 'VOICE_TARGET=ws://127.0.0.1:1'], /-e VOICE_TARGET is set by the main job; use --target URL instead/],
    [['smoke', '-e', 'VOICE_TOKEN_POOL=/x/pool.json'], /-e VOICE_TOKEN_POOL is set by the main job; use --tokens DIR instead/],
    [['smoke', '-e', 'VOICE_INVALID_TOKENS=/x/invalid.json'], /use --tokens DIR instead/],
    [['smoke', '-e', 'VOICE_RESULTS_DIR=/tmp/x', '--results', '/tmp/y'], /give the results folder once/],
    [['nosuch'], /^expected a profile \(smoke, load, spike, soak, capacity\), got "nosuch"/],
    [['smoke', '--reject-style', 'both'], /--reject-style must be close or http/],
    [['smoke', '--target', 'http://x'], /--target must be ws:/],
    [['smoke', '--target', 'ws://127.0.0.1:9', '--fault', 'drop=1'], /local target only/],
    [['smoke', '-e', 'VOICE_HOLD_SECONDS=abc'], /VOICE_HOLD_SECONDS="abc" is not valid/],
    [['smoke', '--users', '0'], /--users must be/],
    [['smoke', '--target', 'ws://127.0.0.1:9', '--tokens', join(tmpdir(), 'no-such-voicelive-dir')], /--target needs .*pool\.json/],
    // Regression: a target with nothing listening ran the whole profile and printed ~170 lines
    // of "ended in an error" without ever saying the connection was refused.
    [['smoke', '--target', `ws://127.0.0.1:${closedPort}`, '--tokens', tokensWithFiles], new RegExp(`cannot connect to ws://127\\.0\\.0\\.1:${closedPort} \\(connection refused\\)`)],
  ];
  for (const [args, re] of cases) {
    await assert.rejects(main(args), (err: Error) => {
      assert.ok(err instanceof UserError, `${args.join(' ')}: ${err.message}`);
      assert.match(err.message, re);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
  }
  const r = await run(['smoke', '--reject-style', 'both'], {}, 30_000);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'voicelive run: --reject-style must be close or http, got "both"\n');
});

test('npm run smoke -- --short: builds, mints tokens, starts the target, runs the engine, exits 0', async () => {
  // Regression: -e VOICE_RESULTS_DIR naming a folder that did not exist wrote no summary
  // (k6 creates no folders) and still exited 0; the main job now creates it.
  const results = join(work, 'results-env', 'nested');
  const r = await run(['smoke', '--short', '--runner', 'engine', '-e', 'VOICE_HANDSHAKE_P95_MS=20000', '--tokens', join(work, 'tokens'), '--users', '5', '-e', `VOICE_RESULTS_DIR=${results}`]);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /minted tokens in /);
  assert.match(r.stderr, /reference target on ws:\/\/127\.0\.0\.1:\d+/);
  assert.match(r.stderr, /with the in-process engine/);
  assert.match(r.stdout, /voicelive smoke: PASS/);
  const summary = JSON.parse(await readFile(join(results, 'summary.json'), 'utf8')) as { verdict: string };
  assert.equal(summary.verdict, 'pass');
  assert.match(await readFile(join(results, 'junit.xml'), 'utf8'), /<testsuites name="voicelive"/);
  assert.match(await readFile(join(results, 'target.log'), 'utf8'), /Authenticated user/);
  for (const text of [r.stdout, r.stderr, await readFile(join(results, 'target.log'), 'utf8')]) assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{8,}\./);
});

test('runner choice: K6_BIN wins, else the engine; env goes as -e, the run id as a tag', () => {
  assert.equal(chooseRunner('auto', { K6_BIN: '/opt/x/k6', PATH: '' }).command, '/opt/x/k6');
  assert.equal(chooseRunner('auto', { PATH: '' }).kind, 'engine');
  assert.equal(chooseRunner('engine', { K6_BIN: '/opt/x/k6' }).kind, 'engine');
  assert.throws(() => chooseRunner('k6', { PATH: '' }), /no k6 binary/);
  const args = runArgs({ kind: 'k6', command: 'k6', prefix: [], describe: '' }, { bundle: 'dist/smoke.js', env: { VOICE_TARGET: 'ws://h' }, tags: { testid: 'smoke-1' }, outs: ['json=o.json'], extra: [] });
  assert.deepEqual(args, ['run', '--tag', 'testid=smoke-1', '-e', 'VOICE_TARGET=ws://h', '--out', 'json=o.json', 'dist/smoke.js']);
});

test('a real k6 started by the main job is told not to send its usage report (regression: it reported to a public host)', async () => {
  // A stand-in k6 that records its environment and arguments, then exits 0.
  const fake = join(work, 'fake-k6.sh');
  const record = join(work, 'fake-k6.record');
  await writeFile(fake, `#!/bin/sh\nenv > "${record}"\necho "ARGS $*" >> "${record}"\nexit 0\n`, { mode: 0o755 });
  const env: NodeJS.ProcessEnv = { ...process.env, K6_BIN: fake };
  delete env['K6_NO_USAGE_REPORT'];
  const r = await spawnCapture(process.execPath, ['--import', import.meta.resolve('tsx'), CLI, 'smoke', '--short', '--runner', 'k6', '--tokens', join(work, 'tokens'), '--users', '5', '--results', join(work, 'results-k6')], { cwd: work, env, timeoutMs: 90_000 });
  assert.equal(r.code, 0, r.stderr);
  const seen = await readFile(record, 'utf8');
  assert.match(seen, /^K6_NO_USAGE_REPORT=true$/m);
  assert.match(seen, /^ARGS run .*dist\/smoke\.js$/m);
});
