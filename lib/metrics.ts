// The custom metrics: exactly the names and types of contract §4, plus a few clearly named
// extras the thresholds and the summary need. Declared once, in the init context.

import { Counter, Rate, Trend } from 'k6/metrics';

export const handshakeDuration = new Trend('voice_handshake_duration', true);
export const rejected = new Rate('voice_rejected');
export const rejectionMismatch = new Counter('voice_rejection_mismatch');
export const authBypass = new Counter('voice_auth_bypass');
export const attributionErrors = new Rate('voice_attribution_errors');
export const attributionUnverified = new Counter('voice_attribution_unverified');
export const firstEventDuration = new Trend('voice_first_event_duration', true);
export const agentResponseDuration = new Trend('voice_agent_response_duration', true);
export const unexpectedClose = new Counter('voice_unexpected_close');
export const sessionsOpened = new Counter('voice_sessions_opened');
export const sessionsClosed = new Counter('voice_sessions_closed');

// Extras (not in the contract; named so nobody mistakes them for contract metrics).
/** Per attempt: 1 when it ended as `error` (refused connection, 5xx, 429, 1011, 1013, …). */
export const attemptErrors = new Rate('voice_attempt_errors');
/** Refusals whose HTTP status is unknown (status probe turned off): never verified-correct. */
export const rejectionUnverified = new Counter('voice_rejection_unverified');
/** Per valid attempt: 1 when it opened, held, was not misattributed and closed as planned. */
export const sessionSuccess = new Rate('voice_session_success');
/** Valid attempts skipped because no pool token was valid for at least the margin. */
export const tokenUnavailable = new Counter('voice_token_unavailable');
/** Valid sessions started with a token that expires (minus margin) before the session ends. */
export const tokenOutlived = new Counter('voice_token_outlived');

export const METRIC_NAMES = [
  'voice_handshake_duration',
  'voice_rejected',
  'voice_rejection_mismatch',
  'voice_auth_bypass',
  'voice_attribution_errors',
  'voice_attribution_unverified',
  'voice_first_event_duration',
  'voice_agent_response_duration',
  'voice_unexpected_close',
  'voice_sessions_opened',
  'voice_sessions_closed',
  'voice_attempt_errors',
  'voice_rejection_unverified',
  'voice_session_success',
  'voice_token_unavailable',
  'voice_token_outlived',
] as const;
