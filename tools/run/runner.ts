// Which runner executes a bundle (a real k6 or the in-process engine) and the command line
// it gets. Pure apart from the PATH lookup, so tests check the arguments.

import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const PROFILES = ['smoke', 'load', 'spike', 'soak', 'capacity'] as const;
export type Profile = (typeof PROFILES)[number];

export interface Runner {
  kind: 'k6' | 'engine';
  command: string;
  /** Arguments before `run` (the engine needs node's tsx loader and its CLI file). */
  prefix: string[];
  describe: string;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** K6_BIN, else `k6` on PATH, else null. */
export function findK6(env: NodeJS.ProcessEnv = process.env): string | null {
  const explicit = env['K6_BIN'];
  if (explicit && explicit.trim() !== '') return explicit;
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, 'k6');
    if (executable(p)) return p;
  }
  return null;
}

export function engineRunner(): Runner {
  return {
    kind: 'engine',
    command: process.execPath,
    // tsx resolved from this repository, so the job works from any working directory.
    prefix: ['--import', import.meta.resolve('tsx'), join(ROOT, 'engine', 'cli.ts')],
    describe: 'the in-process engine (no k6 binary found; set K6_BIN to use one)',
  };
}

export function chooseRunner(choice: 'auto' | 'k6' | 'engine', env: NodeJS.ProcessEnv = process.env): Runner {
  if (choice === 'engine') return { ...engineRunner(), describe: 'the in-process engine (--runner engine)' };
  const k6 = findK6(env);
  if (k6) return { kind: 'k6', command: k6, prefix: [], describe: `k6 at ${k6}` };
  if (choice === 'k6') throw new Error('no k6 binary: set K6_BIN or put k6 on PATH, or use --runner engine');
  return engineRunner();
}

export interface RunArgs {
  bundle: string;
  env: Record<string, string>;
  tags: Record<string, string>;
  outs: string[];
  extra: string[];
}

/** `run` plus k6 flags; env values go as -e KEY=VALUE (never a token: paths only). */
export function runArgs(r: Runner, a: RunArgs): string[] {
  const args = [...r.prefix, 'run'];
  for (const [k, v] of Object.entries(a.tags)) args.push('--tag', `${k}=${v}`);
  for (const [k, v] of Object.entries(a.env)) args.push('-e', `${k}=${v}`);
  for (const o of a.outs) args.push('--out', o);
  args.push(...a.extra, a.bundle);
  return args;
}
