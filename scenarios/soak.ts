// soak: hours of churning valid sessions (constant VUs, each opening the next session when
// one ends) with background refusal traffic. Tokens are used only while valid: every
// session picks a pool token that outlives it by VOICE_TOKEN_MARGIN_SECONDS, so with a pool
// minted with several validity windows (npm run tokens -- --windows N) users rotate to their
// next token before exp - margin; sessions that would outlive every token are counted
// (voice_token_outlived) and attempts with no usable token are skipped and counted.
//
// Drift: k6 thresholds cannot compare two time windows. Every sample carries a `phase` tag
// (early = the first VOICE_DRIFT_WINDOW, late = the last, middle otherwise); a threshold
// bounds the late window's p95 handshake (VOICE_DRIFT_P95_MS), and the summary reports the
// late/early p95 ratio against VOICE_DRIFT_MAX_RATIO (reported, not part of the exit code).

import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { durationMs } from '../lib/config.ts';
import { backgroundScenarios, classesOf, gracefulStop, phaseAt, SUMMARY_TREND_STATS, summaryInfo } from '../lib/profile.ts';
import { PROFILE_DEFAULTS } from '../lib/profile-defaults.ts';
import { buildSummary, DRIFT_EARLY, DRIFT_LATE, type SummaryData } from '../lib/summary.ts';
import { baseThresholds } from '../lib/thresholds.ts';
import { initTraffic, NO_TOKEN_VARIANTS } from '../lib/traffic.ts';

const DEFAULTS = PROFILE_DEFAULTS['soak'] ?? {};
// Read lazily by the closures below; set from the validated config right after initTraffic.
let lengthMs = durationMs(DEFAULTS['VOICE_DURATION'] ?? '4h');
let windowMs = durationMs('1h');
const traffic = initTraffic('soak', DEFAULTS, {
  scenarioLengthMs: { get valid() { return lengthMs; } },
  extraTags: () => ({ phase: phaseAt(exec.instance.currentTestRunDuration, lengthMs, windowMs) }),
});
const cfg = traffic.cfg;
lengthMs = durationMs(cfg.duration);
windowMs = durationMs(cfg.driftWindow);
// A session starts only when it can be held in full and end 1 s before the run does, so the
// late window must be longer than that, and the two windows must not overlap.
if (windowMs <= cfg.holdSeconds * 1000 + 1000) {
  throw new Error(`voicelive soak: VOICE_DRIFT_WINDOW=${cfg.driftWindow} must be longer than VOICE_HOLD_SECONDS + 1 s (${cfg.holdSeconds + 1} s), or no session can start in the late window`);
}
if (2 * windowMs > lengthMs) {
  throw new Error(`voicelive soak: VOICE_DRIFT_WINDOW=${cfg.driftWindow} must be at most half of VOICE_DURATION=${cfg.duration}: the early and late windows would overlap`);
}
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
const thresholds = baseThresholds(cfg, variants, { classes });
thresholds[DRIFT_LATE] = [`p(95)<${cfg.driftP95Ms}`];
// Keeps the early window in the end-of-test data so the summary can compute the ratio.
thresholds[DRIFT_EARLY] = [`p(95)<${cfg.driftP95Ms}`];

export const options: Options = {
  scenarios,
  thresholds,
  summaryTrendStats: SUMMARY_TREND_STATS,
};

// The k6 entry points: setup() (the run id) and one exec function per traffic class.
export const { setup, valid, noToken, invalid } = traffic;
export function handleSummary(data: SummaryData): Record<string, string> {
  return buildSummary(data, summaryInfo('soak', cfg, variants, scenarios, { drift: { maxRatio: cfg.driftMaxRatio } }));
}
