// The three traffic classes as k6 exec functions, shared by every profile. A profile calls
// initTraffic() in its init context, then exports the functions its k6 scenarios name in
// `exec`, plus setup() (the run id) and handleSummary (lib/summary).

import exec from 'k6/execution';
import { defaultExpectation, type Expectation } from './classify.ts';
import { loadConfig, type VoiceConfig } from './config.ts';
import * as m from './metrics.ts';
import { makeSessionId, randomRunId, scenarioCode } from './session-id.ts';
import type { InvalidTokenCase, PoolUser } from './token-pool-format.ts';
import { pickUser } from './token-select.ts';
import { loadInvalidCases, loadPool } from './tokens.ts';
import { runAttempt } from './voicelive-client.ts';

export const NO_TOKEN_VARIANTS = ['missing', 'empty'] as const;
export const VALID_VARIANT = 'valid';

export interface RunData {
  runId: string;
}

export interface TrafficOptions {
  /** k6 scenario name → its length in ms (duration-based executors): sessions end before it. */
  scenarioLengthMs?: Record<string, number>;
  /** Extra tags for every voice metric of the current iteration (soak phase, capacity stage). */
  extraTags?: () => Record<string, string>;
}

export interface Traffic {
  cfg: VoiceConfig;
  users: PoolUser[];
  cases: InvalidTokenCase[];
  invalidVariants: string[];
  setup(): RunData;
  valid(data: RunData): Promise<void>;
  noToken(data: RunData): Promise<void>;
  invalid(data: RunData): Promise<void>;
}

function runIdOf(cfg: VoiceConfig): string {
  if (cfg.runId !== '') return cfg.runId;
  return randomRunId((n) => {
    const b = new Uint8Array(n);
    crypto.getRandomValues(b);
    return b;
  });
}

/** Init context only: reads and validates the config and the token files. */
export function initTraffic(profile: string, profileDefaults: Record<string, string>, opts: TrafficOptions = {}): Traffic {
  let cfg: VoiceConfig;
  try {
    cfg = loadConfig(__ENV, profileDefaults);
  } catch (err) {
    // One clear line; k6 reports an init exception and exits 107.
    throw new Error(`voicelive ${profile}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const users = loadPool(cfg.tokenPool);
  const cases = loadInvalidCases(cfg.invalidTokens);
  const invalidVariants: string[] = [];
  for (let i = 0; i < cases.length; i++) invalidVariants.push((cases[i] as InvalidTokenCase).variant);

  const tags = (): Record<string, string> => (opts.extraTags ? opts.extraTags() : {});

  /** Milliseconds left before the current scenario ends (Infinity for iteration-based ones). */
  const remainingMs = (): number => {
    const len = opts.scenarioLengthMs?.[exec.scenario.name];
    if (len === undefined) return Number.POSITIVE_INFINITY;
    return exec.scenario.startTime + len - Date.now();
  };

  const idFor = (data: RunData, userIndex: number | null): string =>
    makeSessionId({
      runId: data.runId,
      userIndex,
      scenarioCode: scenarioCode(exec.scenario.name),
      iterationInTest: exec.scenario.iterationInTest,
      vuIdInTest: exec.vu.idInTest,
    });

  return {
    cfg,
    users,
    cases,
    invalidVariants,
    setup: () => ({ runId: runIdOf(cfg) }),

    async valid(data: RunData): Promise<void> {
      // Every session is held for the full configured time and closed (1000) at least 1 s
      // before its scenario ends. One that could not be held that long is not started: a
      // shortened session (down to a few ms) is a different workload and can end before the
      // server has shown whose it is (counted unverified against a correct server).
      const holdMs = cfg.holdSeconds * 1000;
      const left = remainingMs() - 1000;
      if (left < holdMs) {
        // Looping VUs (constant-vus) would otherwise spin empty iterations until the end:
        // wait it out on a timer instead (arrival-rate executors just skip).
        const ex = exec.scenario.executor;
        if (Number.isFinite(left) && (ex === 'constant-vus' || ex === 'ramping-vus')) {
          await new Promise<void>((resolve) => setTimeout(() => resolve(), Math.max(0, left + 1000)));
        }
        return;
      }
      const extra = tags();
      const nowSec = Date.now() / 1000;
      const pick = pickUser(users.length, (i) => users[i] as PoolUser, exec.scenario.iterationInTest, nowSec, holdMs / 1000, cfg.tokenMarginSeconds);
      if (!pick) {
        m.tokenUnavailable.add(1, { auth_case: 'valid', variant: VALID_VARIANT, ...extra });
        return;
      }
      const user = users[pick.userIndex] as PoolUser;
      const tok = user.tokens[pick.tokenIndex];
      if (!tok) return;
      if (pick.outlives) m.tokenOutlived.add(1, { auth_case: 'valid', variant: VALID_VARIANT, ...extra });
      await runAttempt({
        cfg,
        authCase: 'valid',
        variant: VALID_VARIANT,
        sessionId: idFor(data, pick.userIndex),
        token: tok.token,
        expectation: defaultExpectation('valid', VALID_VARIANT, cfg.rejectStyle),
        holdMs,
        expectedOid: user.oid,
        iterationInTest: exec.scenario.iterationInTest,
        extraTags: extra,
      });
    },

    async noToken(data: RunData): Promise<void> {
      const variant = NO_TOKEN_VARIANTS[exec.scenario.iterationInTest % NO_TOKEN_VARIANTS.length] as string;
      await runAttempt({
        cfg,
        authCase: 'no_token',
        variant,
        sessionId: idFor(data, null),
        token: variant === 'missing' ? null : '',
        expectation: defaultExpectation('no_token', variant, cfg.rejectStyle),
        holdMs: 0,
        iterationInTest: exec.scenario.iterationInTest,
        extraTags: tags(),
      });
    },

    async invalid(data: RunData): Promise<void> {
      if (cases.length === 0) return;
      const c = cases[exec.scenario.iterationInTest % cases.length] as InvalidTokenCase;
      const expectation: Expectation = {
        authCase: 'invalid',
        variant: c.variant,
        reason: c.expected.reason,
        closeCode: c.expected.closeCode,
        httpStatuses: c.expected.httpStatuses,
        style: cfg.rejectStyle,
      };
      await runAttempt({
        cfg,
        authCase: 'invalid',
        variant: c.variant,
        sessionId: idFor(data, null),
        token: c.token,
        expectation,
        holdMs: 0,
        iterationInTest: exec.scenario.iterationInTest,
        extraTags: tags(),
      });
    },
  };
}
