// Differential runs: the same small script under a real k6 binary (opt-in, K6_BIN) and under
// the in-process engine, both with `--out json=…`, reduced to what must agree: exit code,
// console lines, error/warning log lines, and per-metric sample counts by tag set.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runK6 } from '../../engine/index.ts';
import { spawnCapture, type Captured } from './spawn-capture.ts';

export interface DiffRun {
  exitCode: number;
  /** console.log/info lines, in order. */
  console: string[];
  /** level=error / level=warning messages (without fields), in order. */
  problems: string[];
  /** `metric {k=v,…}` → number of JSON Point lines (vus/vus_max left out: sampled by time). */
  counts: Map<string, number>;
  /** The raw JSON output lines. */
  lines: Array<Record<string, any>>;
  stdout: string;
}

export interface DiffOptions {
  env?: Record<string, string>;
  /** Extra CLI flags (k6 spelling), e.g. ['--execution-segment', '0:1/2']. */
  args?: string[];
  /** Tags left out of the count keys (e.g. url/name, which carry a port). */
  dropTags?: string[];
  timeoutMs?: number;
}

/** The k6 binary from K6_BIN, or undefined (then differential tests skip). */
export function k6Bin(): string | undefined {
  const b = process.env['K6_BIN'];
  return b && b.trim() !== '' ? b : undefined;
}

function parseLogLines(stderr: string): { console: string[]; problems: string[] } {
  const out = { console: [] as string[], problems: [] as string[] };
  for (const line of stderr.split('\n')) {
    const m = /level=(\w+) msg=("(?:[^"\\]|\\.)*"|\S*)(.*)$/.exec(line);
    if (!m) continue;
    const msg = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
    if (/source=console/.test(m[3] ?? '')) out.console.push(msg);
    else if (m[1] === 'error' || m[1] === 'warning') out.problems.push(`${m[1]}: ${msg}`);
  }
  return out;
}

function countPoints(lines: Array<Record<string, any>>, dropTags: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of lines) {
    if (l['type'] !== 'Point' || l['metric'] === 'vus' || l['metric'] === 'vus_max') continue;
    const tags = Object.entries((l['data']?.tags ?? {}) as Record<string, string>)
      .filter(([k]) => !dropTags.includes(k))
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join(',');
    const key = `${l['metric']} {${tags}}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

async function readJsonLines(file: string): Promise<Array<Record<string, any>>> {
  try {
    const text = await readFile(file, 'utf8');
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, any>);
  } catch {
    return [];
  }
}

function spawnK6(bin: string, args: string[], cwd: string, timeoutMs: number): Promise<Captured> {
  // A bare environment: no K6_* from the caller, no proxy, no cloud token, no usage report
  // (loopback only).
  return spawnCapture(bin, args, { cwd, timeoutMs, killedCode: -1, env: { PATH: process.env['PATH'] ?? '', HOME: cwd, K6_NO_USAGE_REPORT: 'true' } });
}

/** Parses `--flag value` pairs the engine's runK6 understands (the subset the tests use). */
function engineFlags(args: readonly string[]): { executionSegment?: string; executionSegmentSequence?: string; tags?: Record<string, string> } {
  const o: { executionSegment?: string; executionSegmentSequence?: string; tags?: Record<string, string> } = {};
  for (let i = 0; i < args.length; i += 2) {
    const v = args[i + 1] ?? '';
    if (args[i] === '--execution-segment') o.executionSegment = v;
    else if (args[i] === '--execution-segment-sequence') o.executionSegmentSequence = v;
    else if (args[i] === '--tag') {
      const [k, ...rest] = v.split('=');
      o.tags = { ...(o.tags ?? {}), [k!]: rest.join('=') };
    } else throw new Error(`engine-k6-diff: flag ${args[i]} not mapped`);
  }
  return o;
}

/** Runs `source` under real k6 (`bin`) and under the engine; both results, same reduction. */
export async function runBoth(bin: string, source: string, opts: DiffOptions = {}): Promise<{ k6: DiffRun; engine: DiffRun }> {
  const dir = await mkdtemp(join(tmpdir(), 'engine-k6-diff-'));
  const dropTags = opts.dropTags ?? [];
  try {
    const script = join(dir, 'script.js');
    await writeFile(script, source);
    const envArgs = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const k6Json = join(dir, 'k6.json');
    const k = await spawnK6(bin, ['run', '-q', ...envArgs, '--out', `json=${k6Json}`, ...(opts.args ?? []), script], dir, opts.timeoutMs ?? 30_000);
    const kLines = await readJsonLines(k6Json);
    const kLog = parseLogLines(k.stderr);

    const enJson = join(dir, 'engine.json');
    let stdout = '';
    let stderr = '';
    const r = await runK6({
      script,
      env: opts.env ?? {},
      includeSystemEnv: false,
      quiet: true,
      out: [`json=${enJson}`],
      ...engineFlags(opts.args ?? []),
      stdout: (s) => (stdout += s),
      stderr: (s) => (stderr += s),
      watchdogMarginMs: 10_000,
    });
    const eLines = await readJsonLines(enJson);
    const eLog = parseLogLines(stderr);
    return {
      k6: { exitCode: k.code, ...kLog, counts: countPoints(kLines, dropTags), lines: kLines, stdout: k.stdout },
      engine: { exitCode: r.exitCode, ...eLog, counts: countPoints(eLines, dropTags), lines: eLines, stdout },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Count map as sorted `N× key` lines, for readable assertion diffs. */
export function countLines(m: Map<string, number>): string[] {
  return [...m.entries()].map(([k, v]) => `${v}x ${k}`).sort();
}
