// Runs one built scenario bundle against a fresh reference target, with the in-process
// engine (runK6) or, when K6_BIN is set and asked for, a real k6, capturing everything the
// run printed or wrote so tests can check verdicts and scan for tokens.

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runK6 } from '../../engine/index.ts';
import { parseFaults } from '../../target/faults.ts';
import { startTarget } from '../../target/server.ts';
import type { SummaryReport } from '../../lib/summary.ts';
import { spawnCapture, type Captured } from './spawn-capture.ts';

export interface CaseSpec {
  bundle: string;
  tokensDir: string;
  env?: Record<string, string>;
  rejectStyle?: 'close' | 'http';
  authRequired?: boolean;
  faults?: string[];
  /** Write a k6 JSON output file (`--out json=…`) too. */
  jsonOut?: boolean;
  /** More k6 outputs, e.g. `influxdb=http://127.0.0.1:PORT/db`. */
  outs?: string[];
  runner?: 'engine' | 'k6';
  timeoutMs?: number;
  /** Run against this backend (e.g. a rogue test server) instead of a fresh reference target. */
  target?: { wsUrl: string };
}

export interface CaseRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  report: SummaryReport | null;
  /** Every file the run wrote (results dir, JSON output), name → content. */
  files: Record<string, string>;
  targetLog: string;
}

async function readAll(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await readdir(dir)) out[f] = await readFile(join(dir, f), 'utf8');
  return out;
}

function runRealK6(bin: string, args: string[], timeoutMs: number): Promise<Captured> {
  return spawnCapture(bin, args, { timeoutMs, env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', K6_NO_USAGE_REPORT: 'true' } });
}

export async function runCase(spec: CaseSpec): Promise<CaseRun> {
  const dir = await mkdtemp(join(tmpdir(), 'voicelive-case-'));
  const logLines: string[] = [];
  const target = spec.target ? { wsUrl: spec.target.wsUrl, close: async () => {} } : await startTarget({
    tokensDir: spec.tokensDir,
    host: '127.0.0.1',
    port: 0,
    rejectStyle: spec.rejectStyle ?? 'close',
    authRequired: spec.authRequired ?? true,
    faults: parseFaults(spec.faults ?? []),
    log: (line) => logLines.push(line),
  });
  const env: Record<string, string> = {
    VOICE_TARGET: target.wsUrl,
    VOICE_TOKEN_POOL: join(spec.tokensDir, 'pool.json'),
    VOICE_INVALID_TOKENS: join(spec.tokensDir, 'invalid.json'),
    VOICE_RESULTS_DIR: dir,
    ...(spec.rejectStyle ? { VOICE_REJECT_STYLE: spec.rejectStyle } : {}),
    ...(spec.env ?? {}),
  };
  const out = [...(spec.jsonOut ? [`json=${join(dir, 'out.json')}`] : []), ...(spec.outs ?? [])];
  const timeoutMs = spec.timeoutMs ?? 60_000;
  try {
    let exitCode: number;
    let stdout = '';
    let stderr = '';
    if (spec.runner === 'k6') {
      const bin = process.env['K6_BIN'];
      if (!bin) throw new Error('runner k6 needs K6_BIN');
      const args = ['run', '--quiet', '--tag', 'testid=test'];
      for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
      for (const o of out) args.push('--out', o);
      args.push(spec.bundle);
      const r = await runRealK6(bin, args, timeoutMs);
      exitCode = r.code;
      stdout = r.stdout;
      stderr = r.stderr;
    } else {
      let timer: NodeJS.Timeout | undefined;
      const res = await Promise.race([
        runK6({
          script: spec.bundle,
          env,
          includeSystemEnv: false,
          tags: { testid: 'test' },
          out,
          quiet: true,
          stdout: (s) => (stdout += s),
          stderr: (s) => (stderr += s),
          watchdogMarginMs: 10_000,
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`engine run of ${spec.bundle} took over ${timeoutMs} ms`)), timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
      exitCode = res.exitCode;
    }
    const files = await readAll(dir);
    const report = files['summary.json'] ? (JSON.parse(files['summary.json']) as SummaryReport) : null;
    return { exitCode, stdout, stderr, report, files, targetLog: logLines.join('\n') };
  } finally {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs async jobs with at most `limit` in flight. */
export async function pool<T>(limit: number, jobs: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await (jobs[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}
