// The CLI: ready line and ready file, SIGTERM closing sessions with 1001, one-line user
// errors with exit 2, and --help naming every fault.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HELP, main } from '../../target/cli.ts';
import { UserError } from '../../tools/common/cli.ts';
import { attempt, waitClose } from '../helpers/target-client.ts';
import { assertNoSecrets } from '../helpers/target-harness.ts';
import { testTokens, type TestTokens } from '../helpers/target-tokens.ts';

let tk: TestTokens;
before(async () => {
  tk = await testTokens();
});
after(async () => {
  await tk.cleanup();
});

const TSX = ['--import', 'tsx', 'target/cli.ts'];

test('ready line, ready file, logs on stdout without tokens, SIGTERM closes sessions with 1001 and exits 0', async () => {
  const readyFile = join(tk.dir, 'ready.json');
  const child = spawn(process.execPath, [...TSX, '--tokens', tk.dir, '--port', '0', '--ready-file', readyFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    let out = '';
    child.stdout.on('data', (c) => (out += String(c)));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ready line: ${out}`)), 15_000);
      child.stdout.on('data', () => {
        const m = /voicelive target listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
    });
    const ready = JSON.parse(await readFile(readyFile, 'utf8')) as { url: string; wsUrl: string; port: number; pid: number };
    assert.equal(ready.url, url);
    assert.equal(ready.pid, child.pid);
    const a = await attempt(ready.wsUrl, 'cli-1', tk.valid(0));
    assert.equal(a.outcome, 'accepted');
    await attempt(ready.wsUrl, 'cli-2', tk.set.invalid.cases[0]!.token);
    if (a.outcome !== 'accepted') return;
    const closed = waitClose(a.ws);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.deepEqual(await closed, { code: 1001, reason: 'Server shutting down' });
    assert.equal(await exited, 0);
    const logLines = out.split('\n').filter((l) => l.startsWith('{'));
    assert.equal(logLines.length, 2);
    assertNoSecrets(out.split('\n'), [tk.valid(0), tk.set.invalid.cases[0]!.token]);
  } finally {
    clearTimeout(killTimer);
    child.kill('SIGKILL');
    await rm(readyFile, { force: true });
  }
});

test('bad flags: one line on stderr, exit 2 (one real process)', () => {
  const r = spawnSync(process.execPath, [...TSX, '--reject-style', 'maybe'], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.deepEqual(r.stderr.trim().split('\n'), ['target: --reject-style must be one of close|http, got "maybe"']);
});

test('bad flags are user errors naming the flag (in process)', async () => {
  for (const args of [['--bogus'], ['--auth-required', 'yes'], ['--port', 'x'], ['--port', '70000'], ['--fault', 'drop=7'], ['--tokens', join(tk.dir, 'nope')], ['--log', 'xml']]) {
    await assert.rejects(main(args), (e: Error) => e instanceof UserError && !e.message.includes('\n'), args.join(' '));
  }
});

test('--help describes every fault', async () => {
  for (const f of ['accept-invalid=', 'accept-missing', 'misattribute=', 'poc-fallback=', 'handshake-delay=', 'drop=', 'capacity=', 'expire-close', '--reject-style', '--auth-required', '--ping-interval', '--max-message-bytes', '--jwks']) {
    assert.ok(HELP.includes(f), f);
  }
});

test('an unwritable --ready-file is one line on stderr and exit 2, and the listening process does not hang', () => {
  const r = spawnSync(process.execPath, [...TSX, '--tokens', tk.dir, '--log', 'none', '--ready-file', join(tk.dir, 'no-such-dir', 'ready.json')], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(r.signal, null, 'the process exited by itself (it was killed by the test timeout)');
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^target: .*--ready-file/);
  assert.ok(!r.stdout.includes('listening on'), 'no ready line when the ready file could not be written');
});

test('a flag without its value, or a --host that is not an address, is a one-line user error', async () => {
  for (const args of [['--fault'], ['--port'], ['--host', 'nosuch.invalid'], ['--host', '']]) {
    await assert.rejects(main(['--tokens', tk.dir, ...args]), (e: Error) => e instanceof UserError && !e.message.includes('\n'), args.join(' '));
  }
});

