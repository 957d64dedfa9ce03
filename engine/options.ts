// Options and scenario decoding with k6's rules (lib/executors.go, lib/executor/*.go,
// internal/cmd/config.go deriveScenariosFromShortcuts): strict scenario fields, executor
// defaults, validation messages, and the --vus/--duration/--iterations shortcuts.
import { parseDuration } from './duration.ts';
import { EngineError, ExitCode } from './errors.ts';

export interface Stage {
  durationMs: number;
  target: number;
}

interface Base {
  name: string;
  executor: string;
  startTimeMs: number;
  gracefulStopMs: number;
  env: Record<string, string>;
  exec: string;
  tags: Record<string, string>;
}
export type ScenarioConfig =
  | (Base & { executor: 'shared-iterations'; vus: number; iterations: number; maxDurationMs: number })
  | (Base & { executor: 'per-vu-iterations'; vus: number; iterations: number; maxDurationMs: number })
  | (Base & { executor: 'constant-vus'; vus: number; durationMs: number })
  | (Base & { executor: 'ramping-vus'; startVUs: number; stages: Stage[]; gracefulRampDownMs: number })
  | (Base & { executor: 'constant-arrival-rate'; rate: number; timeUnitMs: number; durationMs: number; preAllocatedVUs: number; maxVUs: number })
  | (Base & {
      executor: 'ramping-arrival-rate';
      startRate: number;
      timeUnitMs: number;
      stages: Stage[];
      preAllocatedVUs: number;
      maxVUs: number;
    });

const COMMON = ['executor', 'startTime', 'gracefulStop', 'env', 'exec', 'tags', 'options'];
const FIELDS: Record<string, string[]> = {
  'shared-iterations': ['vus', 'iterations', 'maxDuration'],
  'per-vu-iterations': ['vus', 'iterations', 'maxDuration'],
  'constant-vus': ['vus', 'duration'],
  'ramping-vus': ['startVUs', 'stages', 'gracefulRampDown'],
  'constant-arrival-rate': ['rate', 'timeUnit', 'duration', 'preAllocatedVUs', 'maxVUs'],
  'ramping-arrival-rate': ['startRate', 'timeUnit', 'stages', 'preAllocatedVUs', 'maxVUs'],
};

export const CONFIG_PROBLEMS = 'There were problems with the specified script configuration:';

function bad(msg: string): EngineError {
  return new EngineError(msg, ExitCode.invalidConfig);
}

function int(v: unknown, field: string, dflt: number | undefined, scenario: string): number {
  if (v === undefined || v === null) {
    if (dflt === undefined) return Number.NaN;
    return dflt;
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw bad(`scenario ${scenario}: json: cannot unmarshal ${typeof v} into Go struct field ${field} of type int64`);
  }
  return v;
}
function dur(v: unknown, field: string, dflt: number | undefined, scenario: string): number {
  if (v === undefined || v === null) return dflt ?? Number.NaN;
  try {
    return parseDuration(v, field);
  } catch (e) {
    throw bad(`scenario ${scenario}: ${(e as Error).message}`);
  }
}
function strMap(v: unknown, field: string, scenario: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(`scenario ${scenario}: ${field} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x !== 'string') throw bad(`scenario ${scenario}: json: cannot unmarshal ${typeof x} into Go value of type string (${field}.${k})`);
    out[k] = x;
  }
  return out;
}
function stages(v: unknown, scenario: string): Stage[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(`scenario ${scenario}: stages must be an array`);
  return v.map((s, i) => {
    if (!s || typeof s !== 'object') throw bad(`scenario ${scenario}: stage ${i} must be an object`);
    for (const k of Object.keys(s)) if (k !== 'duration' && k !== 'target') throw bad(`json: unknown field "${k}"`);
    const o = s as { duration?: unknown; target?: unknown };
    return { durationMs: dur(o.duration, 'duration', 0, scenario), target: int(o.target, 'target', 0, scenario) };
  });
}

/** Decodes one scenario strictly; returns the config or throws EngineError(104). */
export function decodeScenario(name: string, raw: unknown): ScenarioConfig {
  if (!/^[0-9a-zA-Z_-]+$/.test(name)) {
    throw bad(`scenario name should contain only numbers, latin letters, underscores, and dashes, got "${name}"`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad(`scenario ${name} must be an object`);
  const o = raw as Record<string, unknown>;
  const executor = o.executor;
  if (executor === undefined || executor === '') throw bad(`scenario ${name}: missing or empty type field`);
  if (typeof executor !== 'string' || !FIELDS[executor]) {
    if (executor === 'externally-controlled') {
      throw bad(`unknown executor type 'externally-controlled' (it was removed in k6 v2.0.0)`);
    }
    throw bad(`unknown executor type '${String(executor)}'`);
  }
  const allowed = new Set([...COMMON, ...(FIELDS[executor] ?? [])]);
  for (const k of Object.keys(o)) if (!allowed.has(k)) throw bad(`json: unknown field "${k}"`);
  if (o.options !== undefined) {
    const opt = o.options as Record<string, unknown>;
    for (const k of Object.keys(opt ?? {})) if (k !== 'browser') throw bad(`json: unknown field "${k}"`);
  }
  const base: Base = {
    name,
    executor,
    startTimeMs: dur(o.startTime, 'startTime', 0, name),
    gracefulStopMs: dur(o.gracefulStop, 'gracefulStop', 30_000, name),
    env: strMap(o.env, 'env', name),
    exec: o.exec === undefined ? 'default' : String(o.exec),
    tags: strMap(o.tags, 'tags', name),
  };
  const errs: string[] = [];
  if (o.exec !== undefined && o.exec === '') errs.push('exec value cannot be empty');
  if (base.startTimeMs < 0) errs.push("the startTime can't be negative");
  if (base.gracefulStopMs < 0) errs.push("the gracefulStop timeout can't be negative");
  let sc: ScenarioConfig;
  switch (executor) {
    case 'shared-iterations':
    case 'per-vu-iterations': {
      const vus = int(o.vus, 'vus', 1, name);
      const iterations = int(o.iterations, 'iterations', 1, name);
      const maxDurationMs = dur(o.maxDuration, 'maxDuration', 600_000, name);
      if (vus <= 0) errs.push('the number of VUs must be more than 0');
      if (iterations <= 0) errs.push('the number of iterations must be more than 0');
      if (executor === 'shared-iterations' && iterations < vus) {
        errs.push(`the number of iterations (${iterations}) can't be less than the number of VUs (${vus})`);
      }
      if (maxDurationMs < 1000) errs.push(`the maxDuration must be at least 1s, but is ${String(o.maxDuration)}`);
      sc = { ...base, executor, vus, iterations, maxDurationMs } as ScenarioConfig;
      break;
    }
    case 'constant-vus': {
      const vus = int(o.vus, 'vus', 1, name);
      const durationMs = dur(o.duration, 'duration', undefined, name);
      if (vus <= 0) errs.push('the number of VUs must be more than 0');
      if (Number.isNaN(durationMs)) errs.push('the duration is unspecified');
      else if (durationMs < 1000) errs.push(`the duration must be at least 1s, but is ${String(o.duration)}`);
      sc = { ...base, executor, vus, durationMs };
      break;
    }
    case 'ramping-vus': {
      const startVUs = int(o.startVUs, 'startVUs', 1, name);
      const st = stages(o.stages, name);
      if (startVUs < 0) errs.push("the number of start VUs can't be negative");
      if (startVUs === 0 && !st.some((s) => s.target > 0)) {
        errs.push("either startVUs or one of the stages' target values must be greater than 0");
      }
      if (st.length === 0) errs.push('at least one stage has to be specified');
      sc = { ...base, executor, startVUs, stages: st, gracefulRampDownMs: dur(o.gracefulRampDown, 'gracefulRampDown', 30_000, name) };
      break;
    }
    case 'constant-arrival-rate': {
      const rate = int(o.rate, 'rate', undefined, name);
      const timeUnitMs = dur(o.timeUnit, 'timeUnit', 1000, name);
      const durationMs = dur(o.duration, 'duration', undefined, name);
      const pre = int(o.preAllocatedVUs, 'preAllocatedVUs', undefined, name);
      const max = o.maxVUs === undefined ? pre : int(o.maxVUs, 'maxVUs', undefined, name);
      if (Number.isNaN(rate)) errs.push("the iteration rate isn't specified");
      else if (rate <= 0) errs.push('the iteration rate must be more than 0');
      if (timeUnitMs <= 0) errs.push('the timeUnit must be more than 0');
      if (Number.isNaN(durationMs)) errs.push('the duration is unspecified');
      else if (durationMs < 1000) errs.push(`the duration must be at least 1s, but is ${String(o.duration)}`);
      if (Number.isNaN(pre)) errs.push("the number of preAllocatedVUs isn't specified");
      else if (pre < 0) errs.push("the number of preAllocatedVUs can't be negative");
      if (max < pre) errs.push("maxVUs can't be less than preAllocatedVUs");
      sc = { ...base, executor, rate, timeUnitMs, durationMs, preAllocatedVUs: pre, maxVUs: max };
      break;
    }
    default: {
      const startRate = int(o.startRate, 'startRate', 0, name);
      const timeUnitMs = dur(o.timeUnit, 'timeUnit', 1000, name);
      const st = stages(o.stages, name);
      const pre = int(o.preAllocatedVUs, 'preAllocatedVUs', undefined, name);
      const max = o.maxVUs === undefined ? pre : int(o.maxVUs, 'maxVUs', undefined, name);
      if (startRate < 0) errs.push("the startRate value can't be negative");
      if (timeUnitMs <= 0) errs.push('the timeUnit must be more than 0');
      if (st.length === 0) errs.push('at least one stage has to be specified');
      if (Number.isNaN(pre)) errs.push("the number of preAllocatedVUs isn't specified");
      else if (pre < 0) errs.push("the number of preAllocatedVUs can't be negative");
      if (max < pre) errs.push("maxVUs can't be less than preAllocatedVUs");
      sc = { ...base, executor: 'ramping-arrival-rate', startRate, timeUnitMs, stages: st, preAllocatedVUs: pre, maxVUs: max };
    }
  }
  // k6 lib/executors.go + internal/cmd/config.go consolidateErrorMessage.
  if (errs.length > 0) throw bad(`${CONFIG_PROBLEMS}\n\t- scenario ${name} has configuration errors: ${errs.join(', ')}`);
  return sc;
}

export interface Shortcuts {
  vus?: number;
  duration?: string;
  iterations?: number;
  stages?: unknown;
}

/**
 * k6's consolidation and DeriveScenariosFromShortcuts (lib/options.go Apply,
 * lib/executor/execution_config_shortcuts.go): a higher tier (environment, then CLI) that
 * sets duration/iterations/stages clears the script's duration/iterations/stages/scenarios;
 * then iterations → shared-iterations, duration → constant-vus, stages → ramping-vus,
 * vus alone → shared-iterations with iterations = vus (overriding scenarios, with a
 * warning), scenarios as given, else 1 VU × 1 iteration (per-vu-iterations).
 */
export function deriveScenarios(
  options: Record<string, unknown>,
  ...tiers: (Shortcuts & { warn?: (m: string) => void })[]
): ScenarioConfig[] {
  const o: Record<string, unknown> = { ...options };
  let warn: (m: string) => void = () => undefined;
  for (const t of tiers) {
    if (t.warn) warn = t.warn;
    if (t.duration !== undefined || t.iterations !== undefined || t.stages !== undefined) {
      delete o.duration;
      delete o.iterations;
      delete o.stages;
      delete o.scenarios;
    }
    for (const k of ['vus', 'duration', 'iterations', 'stages'] as const) if (t[k] !== undefined) o[k] = t[k];
  }
  const has = (k: string) => o[k] !== undefined && o[k] !== null;
  const stagesSet = Array.isArray(o.stages) && o.stages.length > 0;
  const vus = has('vus') ? o.vus : undefined;
  const withVus = (raw: Record<string, unknown>) => (vus === undefined ? raw : { ...raw, [raw.executor === 'ramping-vus' ? 'startVUs' : 'vus']: vus });
  if (has('iterations')) {
    if (stagesSet) throw bad('using `iterations` and `stages` options simultaneously is not allowed');
    if (has('scenarios')) throw bad('using `iterations` and `scenarios` options simultaneously is not allowed');
    const raw: Record<string, unknown> = { executor: 'shared-iterations', iterations: o.iterations };
    if (has('duration')) raw.maxDuration = o.duration;
    return [decodeScenario('default', withVus(raw))];
  }
  if (has('duration')) {
    if (stagesSet) throw bad('using `duration` and `stages` options simultaneously is not allowed');
    if (has('scenarios')) throw bad('using `duration` and `scenarios` options simultaneously is not allowed');
    let ms: number;
    try {
      ms = parseDuration(o.duration, 'duration');
    } catch (e) {
      throw bad((e as Error).message);
    }
    if (ms <= 0) throw bad('`duration` option should be more than 0, for infinite duration use the externally-controlled executor');
    return [decodeScenario('default', withVus({ executor: 'constant-vus', duration: o.duration }))];
  }
  if (stagesSet) {
    if (has('scenarios')) throw bad('using `stages` and `scenarios` options simultaneously is not allowed');
    return [decodeScenario('default', withVus({ executor: 'ramping-vus', stages: o.stages }))];
  }
  if (vus !== undefined && o.stages === undefined) {
    if (has('scenarios')) warn(`\`vus=${String(vus)}\` overrides scenarios configuration`);
    return [decodeScenario('default', { executor: 'shared-iterations', vus, iterations: vus })];
  }
  const scenarios = o.scenarios;
  if (scenarios !== undefined && scenarios !== null) {
    if (typeof scenarios !== 'object' || Array.isArray(scenarios)) throw bad('options.scenarios must be an object');
    const list = Object.entries(scenarios as Record<string, unknown>).map(([n, c]) => decodeScenario(n, c));
    if (list.length > 0) return list;
    warn('`scenarios` was explicitly set to an empty value, running the script with 1 iteration in 1 VU');
  }
  return [decodeScenario('default', { executor: 'per-vu-iterations' })];
}

/** How long a scenario can run, including its grace period (k6 GetMaxExecutorDuration). */
export function scenarioSpanMs(sc: ScenarioConfig): number {
  switch (sc.executor) {
    case 'shared-iterations':
    case 'per-vu-iterations':
      return sc.maxDurationMs + sc.gracefulStopMs;
    case 'constant-vus':
    case 'constant-arrival-rate':
      return sc.durationMs + sc.gracefulStopMs;
    case 'ramping-vus':
      return sc.stages.reduce((a, s) => a + s.durationMs, 0) + Math.max(sc.gracefulStopMs, sc.gracefulRampDownMs);
    case 'ramping-arrival-rate':
      return sc.stages.reduce((a, s) => a + s.durationMs, 0) + sc.gracefulStopMs;
  }
}

/** Most VUs a scenario can use (unscaled). */
export function scenarioMaxVUs(sc: ScenarioConfig): number {
  switch (sc.executor) {
    case 'shared-iterations':
    case 'per-vu-iterations':
    case 'constant-vus':
      return sc.vus;
    case 'ramping-vus':
      return Math.max(sc.startVUs, ...sc.stages.map((s) => s.target));
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return sc.maxVUs;
  }
}
