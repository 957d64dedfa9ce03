// Per-profile defaults that differ from the knob table in lib/config.ts, and the short
// "smoke parameters" of every profile (seconds-long runs used by tests and CI). One source:
// the scenarios, the main job (tools/run) and scenarios/catalog.json (checked by a test)
// agree with this file. Pure.

export const PROFILE_DEFAULTS: Record<string, Record<string, string>> = {
  smoke: { VOICE_HOLD_SECONDS: '3', VOICE_ERROR_RATE_MAX: '0', VOICE_FALSE_REJECT_MAX: '0' },
  load: { VOICE_SESSIONS: '20', VOICE_DURATION: '5m', VOICE_HOLD_SECONDS: '30' },
  spike: { VOICE_HOLD_SECONDS: '20' },
  soak: { VOICE_SESSIONS: '20', VOICE_DURATION: '4h', VOICE_HOLD_SECONDS: '60', VOICE_NO_TOKEN_RATE: '0.2', VOICE_INVALID_RATE: '0.5' },
  capacity: { VOICE_HOLD_SECONDS: '30', VOICE_NO_TOKEN_RATE: '0.5', VOICE_INVALID_RATE: '1' },
};

/** Seconds-long forms of each profile (the catalogue's `short` parameters). */
export const SHORT_FORMS: Record<string, Record<string, string>> = {
  smoke: { VOICE_HOLD_SECONDS: '1', VOICE_SESSIONS: '3', VOICE_REJECT_WAIT_MS: '600', VOICE_AUDIO_FRAME_MS: '100' },
  load: { VOICE_DURATION: '3s', VOICE_SESSIONS: '2', VOICE_HOLD_SECONDS: '1', VOICE_NO_TOKEN_RATE: '2', VOICE_INVALID_RATE: '6', VOICE_REJECT_WAIT_MS: '600', VOICE_AUDIO_FRAME_MS: '100' },
  spike: { VOICE_SPIKE_BASE: '1', VOICE_SPIKE_PEAK: '4', VOICE_SPIKE_RAMP: '1s', VOICE_SPIKE_HOLD: '1s', VOICE_HOLD_SECONDS: '1', VOICE_NO_TOKEN_RATE: '1', VOICE_INVALID_RATE: '2', VOICE_REJECT_WAIT_MS: '600', VOICE_AUDIO_FRAME_MS: '100' },
  soak: { VOICE_DURATION: '6s', VOICE_DRIFT_WINDOW: '3s', VOICE_SESSIONS: '2', VOICE_HOLD_SECONDS: '1', VOICE_NO_TOKEN_RATE: '1', VOICE_INVALID_RATE: '2', VOICE_REJECT_WAIT_MS: '600', VOICE_AUDIO_FRAME_MS: '100' },
  capacity: { VOICE_CAPACITY_START_RATE: '1', VOICE_CAPACITY_STEP: '2', VOICE_CAPACITY_STAGES: '2', VOICE_CAPACITY_STAGE_DURATION: '3s', VOICE_HOLD_SECONDS: '1', VOICE_NO_TOKEN_RATE: '1', VOICE_INVALID_RATE: '1', VOICE_REJECT_WAIT_MS: '600', VOICE_AUDIO_FRAME_MS: '100' },
};
