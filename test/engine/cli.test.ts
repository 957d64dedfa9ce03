// The CLI: k6's `run [flags] SCRIPT` shape, the startup line, exit codes (internal/cmd/run.go).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withTempDir } from '../helpers/engine-run.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runCli(args: string[], timeoutMs = 25_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'engine/cli.ts'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cli timed out: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('engine CLI', () => {
  it('run -e/--tag/-i/--summary-export: exact startup line, exit 99 on a failed threshold, summary file written', async () => {
    await withTempDir(async (dir) => {
      const script = join(dir, 's.js');
      await writeFile(
        script,
        `import { Counter } from 'k6/metrics';
         const c = new Counter('env_seen');
         export const options = { thresholds: { 'env_seen{testid:abc}': ['count>100'] } };
         export default function () { if (__ENV.GREETING === 'hi') c.add(1); }`,
      );
      const r = await runCli(['run', '-e', 'GREETING=hi', '--tag', 'testid=abc', '-i', '3', '--summary-export', join(dir, 'sum.json'), script]);
      assert.equal(r.stderr.split('\n')[0], 'engine: in-process implementation of the k6 API (not k6), following k6 v2.2.0');
      assert.equal(r.code, 99, r.stderr);
      const { readFile } = await import('node:fs/promises');
      const sum = JSON.parse(await readFile(join(dir, 'sum.json'), 'utf8')) as { metrics: Record<string, { count?: number; thresholds?: Record<string, boolean> }> };
      assert.equal(sum.metrics.iterations?.count, 3);
      assert.deepEqual(sum.metrics['env_seen{testid:abc}']?.thresholds, { 'count>100': true });
      // k6's export keeps groups and checks as maps keyed by name (measured with k6 v2.2.0)
      assert.deepEqual((sum as unknown as { root_group: unknown }).root_group, { name: '', path: '', id: 'd41d8cd98f00b204e9800998ecf8427e', groups: {}, checks: {} });
      assert.match(r.stdout, /env_seen/);
    });
  });

  it('parses the k6 flags; a usage mistake is a one-line error (exit 2 from main)', async () => {
    const { parseRunArgs } = await import('../../engine/cli.ts');
    const o = parseRunArgs(['-e', 'A=1', '--env=B=2', '-u', '3', '-d', '10s', '--tag', 'testid=x', '-o', 'json=f.json', '--out', 'influxdb=http://127.0.0.1:1/db', '--execution-segment', '0:1/2', 's.js']);
    assert.deepEqual(o, {
      script: 's.js',
      env: { A: '1', B: '2' },
      vus: 3,
      duration: '10s',
      tags: { testid: 'x' },
      out: ['json=f.json', 'influxdb=http://127.0.0.1:1/db'],
      executionSegment: '0:1/2',
    });
    assert.throws(() => parseRunArgs(['--bogus', 'x.js']), /unknown flag: --bogus/);
    // k6's --include-system-env-vars is a boolean flag: it must not swallow the script argument.
    assert.deepEqual(parseRunArgs(['--include-system-env-vars', 's.js']), { script: 's.js', includeSystemEnv: true });
    assert.deepEqual(parseRunArgs(['--include-system-env-vars=false', 's.js']), { script: 's.js', includeSystemEnv: false });
    assert.deepEqual(parseRunArgs(['--no-color', '--no-usage-report', 's.js']), { script: 's.js', noColor: true });
    assert.throws(() => parseRunArgs(['-u', 'many', 'x.js']), /must be a whole number/);
    assert.throws(() => parseRunArgs([]), /needs a SCRIPT/);
  });
});
