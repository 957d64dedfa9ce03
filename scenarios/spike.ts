// spike: new valid sessions arrive at a base rate, jump to a peak within VOICE_SPIKE_RAMP,
// stay there for VOICE_SPIKE_HOLD, drop back and recover at the base rate; background
// no_token and invalid traffic runs throughout.

import type { Options } from 'k6/options';
import { durationMs, loadConfig } from '../lib/config.ts';
import { backgroundScenarios, classesOf, gracefulStop, perMinute, SUMMARY_TREND_STATS, summaryInfo, vusFor } from '../lib/profile.ts';
import { PROFILE_DEFAULTS } from '../lib/profile-defaults.ts';
import { buildSummary, type SummaryData } from '../lib/summary.ts';
import { baseThresholds } from '../lib/thresholds.ts';
import { initTraffic, NO_TOKEN_VARIANTS } from '../lib/traffic.ts';

const DEFAULTS = PROFILE_DEFAULTS['spike'] ?? {};
// The stage plan needs the spike knobs before the traffic (and its deadlines) exists.
const pre = (() => {
  try {
    return loadConfig(__ENV, DEFAULTS);
  } catch {
    return null; // initTraffic below reports the bad value in one line
  }
})();
const ramp = pre ? durationMs(pre.spikeRamp) : 1000;
const hold = pre ? durationMs(pre.spikeHold) : 1000;
const totalMs = 3 * hold + 2 * ramp;
const traffic = initTraffic('spike', DEFAULTS, { scenarioLengthMs: { valid: totalMs } });
const cfg = traffic.cfg;
const variants = { noToken: NO_TOKEN_VARIANTS, invalid: traffic.invalidVariants };
const sessionSeconds = cfg.holdSeconds + 1;

const scenarios: NonNullable<Options['scenarios']> = {
  valid: {
    executor: 'ramping-arrival-rate',
    exec: 'valid',
    startRate: perMinute(cfg.spikeBase),
    timeUnit: '1m',
    stages: [
      { duration: cfg.spikeHold, target: perMinute(cfg.spikeBase) },
      { duration: cfg.spikeRamp, target: perMinute(cfg.spikePeak) },
      { duration: cfg.spikeHold, target: perMinute(cfg.spikePeak) },
      { duration: cfg.spikeRamp, target: perMinute(cfg.spikeBase) },
      { duration: cfg.spikeHold, target: perMinute(cfg.spikeBase) },
    ],
    preAllocatedVUs: vusFor(Math.max(cfg.spikeBase, 1), sessionSeconds),
    maxVUs: Math.ceil(vusFor(cfg.spikePeak, sessionSeconds) * 1.2) + 5,
    gracefulStop: gracefulStop(cfg),
  },
  ...(backgroundScenarios(cfg, `${totalMs}ms`, traffic.cases.length) as unknown as NonNullable<Options['scenarios']>),
};
const classes = classesOf(scenarios);
export const options: Options = {
  scenarios,
  thresholds: baseThresholds(cfg, variants, { classes }),
  summaryTrendStats: SUMMARY_TREND_STATS,
};

// The k6 entry points: setup() (the run id) and one exec function per traffic class.
export const { setup, valid, noToken, invalid } = traffic;
export function handleSummary(data: SummaryData): Record<string, string> {
  return buildSummary(data, summaryInfo('spike', cfg, variants, scenarios));
}
