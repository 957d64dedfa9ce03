// capacity: a breakpoint search. New valid sessions arrive at a rate that steps up stage by
// stage (ramping-arrival-rate); each session holds for VOICE_HOLD_SECONDS. Every sample is
// tagged with its stage (s1, s2, …); per-stage thresholds on session success and p95
// handshake carry abortOnFail, so the run stops at the first stage that breaks. The summary
// names the highest stage that held (new sessions/s and, by Little's law, concurrent
// sessions). A run that finds its breakpoint therefore exits 99 by design; exit 0 means
// every stage held and the ceiling is above the last one.

import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { loadConfig } from '../lib/config.ts';
import { backgroundScenarios, capacityPlan, classesOf, gracefulStop, perMinute, stageAt, SUMMARY_TREND_STATS, summaryInfo, vusFor } from '../lib/profile.ts';
import { PROFILE_DEFAULTS } from '../lib/profile-defaults.ts';
import { buildSummary, type SummaryData } from '../lib/summary.ts';
import { baseThresholds } from '../lib/thresholds.ts';
import { initTraffic, NO_TOKEN_VARIANTS } from '../lib/traffic.ts';

const DEFAULTS = PROFILE_DEFAULTS['capacity'] ?? {};
const pre = (() => {
  try {
    return loadConfig(__ENV, DEFAULTS);
  } catch {
    return null; // initTraffic below reports the bad value in one line
  }
})();
const plan = pre ? capacityPlan(pre) : { stages: [], stageNames: [], stageMs: 1000, totalMs: 1000 };
const traffic = initTraffic('capacity', DEFAULTS, {
  scenarioLengthMs: { valid_capacity: plan.totalMs },
  extraTags: () => ({ stage: stageAt(Date.now() - exec.scenario.startTime, plan.stageMs, plan.stageNames.length) }),
});
const cfg = traffic.cfg;
// Sessions start only when they can be held in full and end 1 s before the scenario does:
// a stage no longer than that would leave the last stage without a single session.
if (plan.stageMs <= cfg.holdSeconds * 1000 + 1000) {
  throw new Error(`voicelive capacity: VOICE_CAPACITY_STAGE_DURATION=${cfg.capacityStageDuration} must be longer than VOICE_HOLD_SECONDS + 1 s (${cfg.holdSeconds + 1} s), or the last stage starts no session`);
}
const variants = { noToken: NO_TOKEN_VARIANTS, invalid: traffic.invalidVariants };

const scenarios: NonNullable<Options['scenarios']> = {
  valid_capacity: {
    executor: 'ramping-arrival-rate',
    exec: 'valid',
    startRate: perMinute(cfg.capacityStartRate),
    timeUnit: '1m',
    stages: plan.stages,
    preAllocatedVUs: Math.min(cfg.capacityMaxVus, vusFor(cfg.capacityStartRate, cfg.holdSeconds + 1, 2)),
    maxVUs: cfg.capacityMaxVus,
    gracefulStop: gracefulStop(cfg),
  },
  ...(backgroundScenarios(cfg, `${plan.totalMs}ms`, traffic.cases.length) as unknown as NonNullable<Options['scenarios']>),
};
const classes = classesOf(scenarios);
const thresholds = baseThresholds(cfg, variants, { classes, abortOnSecurity: true });
for (const s of plan.stageNames) {
  thresholds[`voice_session_success{stage:${s.name}}`] = [{ threshold: `rate>=${cfg.capacitySuccessMin}`, abortOnFail: true }];
  thresholds[`voice_handshake_duration{stage:${s.name}}`] = [{ threshold: `p(95)<${cfg.handshakeP95Ms}`, abortOnFail: true }];
}

export const options: Options = {
  scenarios,
  thresholds,
  summaryTrendStats: SUMMARY_TREND_STATS,
};

// The k6 entry points: setup() (the run id) and one exec function per traffic class.
export const { setup, valid, noToken, invalid } = traffic;
export function handleSummary(data: SummaryData): Record<string, string> {
  return buildSummary(data, summaryInfo('capacity', cfg, variants, scenarios, { capacity: { stages: plan.stageNames } }));
}
