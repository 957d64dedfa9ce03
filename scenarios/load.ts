// load: a steady number of concurrent valid sessions (each holds its socket, streams audio,
// then ends cleanly with 1000, and the VU opens the next), plus background no_token and
// invalid traffic at constant arrival rates.

import type { Options } from 'k6/options';
import { durationMs } from '../lib/config.ts';
import { backgroundScenarios, classesOf, gracefulStop, SUMMARY_TREND_STATS, summaryInfo } from '../lib/profile.ts';
import { PROFILE_DEFAULTS } from '../lib/profile-defaults.ts';
import { buildSummary, type SummaryData } from '../lib/summary.ts';
import { baseThresholds } from '../lib/thresholds.ts';
import { initTraffic, NO_TOKEN_VARIANTS } from '../lib/traffic.ts';

const DEFAULTS = PROFILE_DEFAULTS['load'] ?? {};
const lengthMs = durationMs(__ENV['VOICE_DURATION'] ?? DEFAULTS['VOICE_DURATION'] ?? '5m');
const traffic = initTraffic('load', DEFAULTS, { scenarioLengthMs: { valid: lengthMs } });
const cfg = traffic.cfg;
const variants = { noToken: NO_TOKEN_VARIANTS, invalid: traffic.invalidVariants };

const scenarios: NonNullable<Options['scenarios']> = {
  valid: {
    executor: 'constant-vus',
    exec: 'valid',
    vus: cfg.sessions,
    duration: cfg.duration,
    gracefulStop: gracefulStop(cfg),
  },
  ...(backgroundScenarios(cfg, cfg.duration, traffic.cases.length) as unknown as NonNullable<Options['scenarios']>),
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
  return buildSummary(data, summaryInfo('load', cfg, variants, scenarios));
}
