// The thresholds every profile shares, built from the config and the variant list. Pure.
// The per-variant thresholds also make k6 keep those submetrics in the end-of-test data,
// which is how lib/summary.ts can say which variant got in.

import type { VoiceConfig } from './config.ts';

export type ThresholdSpec = string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string };
export type Thresholds = Record<string, ThresholdSpec[]>;

function num(x: number): string {
  return String(Number(x.toFixed(6)));
}

/**
 * Upgrade statuses that are never a correct refusal. k6 tags its own `ws_sessions` with the
 * status of the real upgrade, which the script cannot read; thresholds on these submetrics
 * catch a server whose status probe answer (e.g. 403) differs from what the socket got (e.g. 503).
 */
export const UPGRADE_ERROR_STATUSES = [429, 500, 502, 503, 504] as const;

export interface VariantLists {
  noToken: readonly string[];
  invalid: readonly string[];
}

export interface ThresholdOptions {
  /** Add abortOnFail to the security thresholds (capacity: stop at the first bypass). */
  abortOnSecurity?: boolean;
  /** Classes this profile sends; thresholds of absent classes are left out. */
  classes?: { valid: boolean; noToken: boolean; invalid: boolean };
}

export function baseThresholds(cfg: VoiceConfig, variants: VariantLists, o: ThresholdOptions = {}): Thresholds {
  const classes = o.classes ?? { valid: true, noToken: true, invalid: true };
  const sec = (expr: string): ThresholdSpec => (o.abortOnSecurity ? { threshold: expr, abortOnFail: true } : expr);
  const minRejected = `rate>=${num(1 - cfg.errorRateMax)}`;
  const t: Thresholds = {
    voice_auth_bypass: [sec('count==0')],
    voice_rejection_mismatch: ['count==0'],
    voice_unexpected_close: [`count<=${cfg.unexpectedCloseMax}`],
    voice_rejection_unverified: [`count<=${cfg.unverifiedMax}`],
  };
  if (classes.valid) {
    t['voice_rejected{auth_case:valid}'] = [`rate<=${num(cfg.falseRejectMax)}`];
    t['voice_attempt_errors{auth_case:valid}'] = [`rate<=${num(cfg.errorRateMax)}`];
    t['voice_handshake_duration{auth_case:valid}'] = [`p(95)<${num(cfg.handshakeP95Ms)}`];
    t['voice_token_unavailable'] = ['count==0'];
    if (cfg.attribution !== 'off') {
      t['voice_attribution_errors'] = [sec('rate==0')];
      t['voice_attribution_errors{attribution:poc_fallback}'] = ['rate==0'];
      t['voice_attribution_errors{attribution:wrong_user}'] = ['rate==0'];
      if (cfg.sessionIdPath !== '') t['voice_attribution_errors{attribution:wrong_session}'] = ['rate==0'];
      if (cfg.attribution === 'http') t['voice_attribution_errors{attribution:forbidden}'] = ['rate==0'];
      t['voice_attribution_unverified'] = [`count<=${cfg.unverifiedMax}`];
    }
  }
  const perVariant = (authCase: string, list: readonly string[]): void => {
    t[`voice_rejected{auth_case:${authCase}}`] = [minRejected];
    t[`voice_attempt_errors{auth_case:${authCase}}`] = [`rate<=${num(cfg.errorRateMax)}`];
    if (cfg.errorRateMax === 0) {
      // No error allowed (smoke): none of the real upgrades may have been answered with these,
      // whatever the status probe said. (With a tolerance, only voice_attempt_errors applies.)
      for (const st of UPGRADE_ERROR_STATUSES) t[`ws_sessions{auth_case:${authCase},status:${st}}`] = ['count==0'];
    }
    for (const v of list) {
      t[`voice_rejected{variant:${v}}`] = [minRejected];
      t[`voice_auth_bypass{variant:${v}}`] = ['count==0'];
      t[`voice_rejection_mismatch{variant:${v}}`] = ['count==0'];
    }
  };
  if (classes.noToken) perVariant('no_token', variants.noToken);
  if (classes.invalid) perVariant('invalid', variants.invalid);
  return t;
}
