// smoke: the functional auth matrix in a minute or less. Every traffic class and every
// catalogue variant is attempted at least once, plus a handful of full valid sessions
// (agent selection, audio, attribution). Iteration-based executors: it ends as soon as the
// work is done.

import type { Options } from 'k6/options';
import { gracefulStop, SUMMARY_TREND_STATS, summaryInfo } from '../lib/profile.ts';
import { PROFILE_DEFAULTS } from '../lib/profile-defaults.ts';
import { buildSummary, type SummaryData } from '../lib/summary.ts';
import { baseThresholds } from '../lib/thresholds.ts';
import { initTraffic, NO_TOKEN_VARIANTS } from '../lib/traffic.ts';

const traffic = initTraffic('smoke', PROFILE_DEFAULTS['smoke'] ?? {});
const cfg = traffic.cfg;
const nInvalid = traffic.cases.length;
const variants = { noToken: NO_TOKEN_VARIANTS, invalid: traffic.invalidVariants };

const scenarios: NonNullable<Options['scenarios']> = {
  valid: {
    executor: 'shared-iterations',
    exec: 'valid',
    vus: Math.min(cfg.vus, cfg.sessions),
    iterations: cfg.sessions,
    maxDuration: '1m',
    gracefulStop: gracefulStop(cfg),
  },
  no_token: {
    executor: 'shared-iterations',
    exec: 'noToken',
    vus: NO_TOKEN_VARIANTS.length,
    iterations: NO_TOKEN_VARIANTS.length,
    maxDuration: '1m',
    gracefulStop: gracefulStop(cfg),
  },
};
if (nInvalid > 0) {
  scenarios['invalid'] = {
    executor: 'shared-iterations',
    exec: 'invalid',
    vus: Math.min(nInvalid, Math.max(cfg.vus, 4)),
    iterations: nInvalid,
    maxDuration: '1m',
    gracefulStop: gracefulStop(cfg),
  };
}

export const options: Options = {
  scenarios,
  thresholds: baseThresholds(cfg, variants, { classes: { valid: true, noToken: true, invalid: nInvalid > 0 } }),
  summaryTrendStats: SUMMARY_TREND_STATS,
};

// The k6 entry points: setup() (the run id) and one exec function per traffic class.
export const { setup, valid, noToken, invalid } = traffic;
export function handleSummary(data: SummaryData): Record<string, string> {
  return buildSummary(data, summaryInfo('smoke', cfg, variants, scenarios, { requireAllVariants: true }));
}
