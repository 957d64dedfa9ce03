// Runs a small k6 script through the in-process engine for conformance tests: writes the
// script (plain ESM JS, or TS bundled by the engine's own esbuild step) into a temp dir,
// captures stdout/stderr, and cleans up.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runK6, type RunOptions, type RunResult } from '../../engine/index.ts';

export interface EngineRun extends RunResult {
  stdout: string;
  stderr: string;
  dir: string;
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'engine-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `source` as script.js (or the given name) with extra files; returns exit code,
 * summary data and the captured streams. The temp dir is removed afterwards unless
 * `keep` is passed (then the caller removes result.dir).
 */
export async function runScript(
  source: string,
  opts: Omit<RunOptions, 'script'> & { files?: Record<string, string>; name?: string; keep?: boolean } = {},
): Promise<EngineRun> {
  const dir = await mkdtemp(join(tmpdir(), 'engine-test-'));
  try {
    const name = opts.name ?? 'script.js';
    await writeFile(join(dir, name), source);
    for (const [f, text] of Object.entries(opts.files ?? {})) await writeFile(join(dir, f), text);
    let stdout = '';
    let stderr = '';
    const { files: _f, name: _n, keep: _k, ...rest } = opts;
    const r = await runK6({
      includeSystemEnv: false,
      watchdogMarginMs: 15_000,
      ...rest,
      script: join(dir, name),
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
    });
    // k6 log lines JSON-escape quotes inside msg; tests match the plain text.
    return { ...r, stdout, stderr: stderr.replace(/\\"/g, '"'), dir };
  } finally {
    if (!opts.keep) await rm(dir, { recursive: true, force: true });
  }
}

/** A metric's values from the summary data (throws when the metric is absent). */
type KnownValues = Record<'count' | 'rate' | 'value' | 'min' | 'max' | 'avg' | 'med' | 'passes' | 'fails', number>;

export function metricValues(r: RunResult, name: string): KnownValues & Record<string, number> {
  const m = (r.summaryData?.metrics as Record<string, { values: Record<string, number> }> | undefined)?.[name];
  if (!m) throw new Error(`metric ${name} not in summary (have: ${Object.keys((r.summaryData?.metrics as object) ?? {}).join(', ')})`);
  return m.values as KnownValues & Record<string, number>;
}
