// Building blocks of the profiles' k6 `options`: executors for the background refusal
// traffic, arrival rates, graceful stops, the summary info. Pure (no k6 import), so tests
// check the shapes in Node.

import { durationMs, msToDuration, type VoiceConfig } from './config.ts';
import type { SummaryInfo } from './summary.ts';
import type { VariantLists } from './thresholds.ts';

export type ScenarioConfig = Record<string, unknown>;

/** k6 arrival rates are whole numbers per timeUnit: express any rate per minute. */
export function perMinute(ratePerSecond: number): number {
  return Math.max(0, Math.round(ratePerSecond * 60));
}

/** Enough time after a scenario's end for a session to close (hold + refusal wait + slack). */
export function gracefulStop(cfg: VoiceConfig): string {
  return `${Math.ceil(cfg.holdSeconds + cfg.rejectWaitMs / 1000 + 10)}s`;
}

/** VUs an arrival rate needs when each iteration lasts `iterSeconds`. */
export function vusFor(ratePerSecond: number, iterSeconds: number, floor = 1): number {
  return Math.max(floor, Math.ceil(ratePerSecond * (iterSeconds + 1)));
}

/**
 * Background no_token and invalid traffic at constant arrival rates for `duration`.
 * A class with rate 0 is left out, and so is invalid traffic when the catalogue is empty.
 */
export function backgroundScenarios(cfg: VoiceConfig, duration: string, invalidCases = 1): Record<string, ScenarioConfig> {
  const out: Record<string, ScenarioConfig> = {};
  const wait = cfg.rejectWaitMs / 1000; // a bypassed attempt lasts this long
  const add = (name: string, execName: string, rate: number): void => {
    if (perMinute(rate) <= 0) return;
    out[name] = {
      executor: 'constant-arrival-rate',
      exec: execName,
      rate: perMinute(rate),
      timeUnit: '1m',
      duration,
      preAllocatedVUs: vusFor(rate, 0.5),
      maxVUs: vusFor(rate, wait + 2, 2),
      gracefulStop: gracefulStop(cfg),
    };
  };
  add('no_token', 'noToken', cfg.noTokenRate);
  if (invalidCases > 0) add('invalid', 'invalid', cfg.invalidRate);
  return out;
}

/** The end-of-test trend statistics every profile reports (k6's default set). */
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];

export function classesOf(scenarios: Record<string, unknown>): SummaryInfo['classes'] {
  return { valid: 'valid' in scenarios || Object.keys(scenarios).some((k) => k.startsWith('valid')), noToken: 'no_token' in scenarios, invalid: 'invalid' in scenarios };
}

export function summaryInfo(profile: string, cfg: VoiceConfig, variants: VariantLists, scenarios: Record<string, unknown>, extra: Partial<SummaryInfo> = {}): SummaryInfo {
  return {
    profile,
    resultsDir: cfg.resultsDir,
    variants,
    classes: classesOf(scenarios),
    requireAllVariants: false,
    attribution: cfg.attribution,
    probeStatus: cfg.probeStatus,
    ...extra,
  };
}

export interface CapacityPlan {
  stages: Array<{ duration: string; target: number }>;
  stageNames: Array<{ name: string; rate: number; concurrent: number }>;
  stageMs: number;
  totalMs: number;
}

/** Capacity stages: each ramps to its rate in its first tenth, then holds it. */
export function capacityPlan(cfg: VoiceConfig): CapacityPlan {
  const stageMs = durationMs(cfg.capacityStageDuration);
  const ramp = Math.max(1, Math.round(stageMs / 10));
  const stages: CapacityPlan['stages'] = [];
  const stageNames: CapacityPlan['stageNames'] = [];
  for (let i = 0; i < cfg.capacityStages; i++) {
    const rate = Number((cfg.capacityStartRate + i * cfg.capacityStep).toFixed(3));
    stages.push({ duration: msToDuration(ramp), target: perMinute(rate) });
    stages.push({ duration: msToDuration(stageMs - ramp), target: perMinute(rate) });
    stageNames.push({ name: `s${i + 1}`, rate, concurrent: rate * cfg.holdSeconds });
  }
  return { stages, stageNames, stageMs, totalMs: stageMs * cfg.capacityStages };
}

/** Which capacity stage an instant belongs to (1-based name), from the scenario's start. */
export function stageAt(elapsedMs: number, stageMs: number, count: number): string {
  const i = Math.min(count, Math.max(1, Math.floor(elapsedMs / stageMs) + 1));
  return `s${i}`;
}

/** Soak windows: early (from the start), late (before the end), middle otherwise. */
export function phaseAt(elapsedMs: number, totalMs: number, windowMs: number): 'early' | 'middle' | 'late' {
  if (elapsedMs < windowMs) return 'early';
  if (elapsedMs >= totalMs - windowMs) return 'late';
  return 'middle';
}
