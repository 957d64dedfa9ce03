// Every knob of the scenarios: one table (name, default, meaning), read from __ENV with the
// VOICE_ prefix, validated once at init. Pure: no k6 module, no k6 global, so Node tests and
// the docs generator import it too. A bad value throws an Error whose message is one line
// naming the variable, what is wrong and what would be right.

export type RejectStyle = 'any' | 'close' | 'http';
export type AudioFormat = 'binary' | 'json' | 'off';
export type AttributionMode = 'event' | 'http' | 'off';

export interface VoiceConfig {
  target: string;
  tokenPool: string;
  invalidTokens: string;
  runId: string;
  rejectStyle: RejectStyle;
  probeStatus: boolean;
  rejectWaitMs: number;
  holdSeconds: number;
  agentId: string;
  agentAckType: string;
  audio: AudioFormat;
  audioRate: number;
  audioFrameMs: number;
  attribution: AttributionMode;
  attributionPath: string;
  sessionIdPath: string;
  attributionSample: number;
  memoryPath: string;
  memoryUserPath: string;
  pocUserIds: string[];
  tokenMarginSeconds: number;
  handshakeP95Ms: number;
  falseRejectMax: number;
  errorRateMax: number;
  unverifiedMax: number;
  unexpectedCloseMax: number;
  resultsDir: string;
  logLimit: number;
  // profile shape
  vus: number;
  sessions: number;
  duration: string;
  noTokenRate: number;
  invalidRate: number;
  spikeBase: number;
  spikePeak: number;
  spikeRamp: string;
  spikeHold: string;
  capacityStartRate: number;
  capacityStep: number;
  capacityStages: number;
  capacityStageDuration: string;
  capacityMaxVus: number;
  capacitySuccessMin: number;
  driftWindow: string;
  driftP95Ms: number;
  driftMaxRatio: number;
}

type Kind = 'string' | 'url' | 'int' | 'number' | 'fraction' | 'bool' | 'duration' | 'list' | 'runid' | { oneOf: readonly string[] };

export interface Knob {
  env: string;
  key: keyof VoiceConfig;
  kind: Kind;
  default: string;
  meaning: string;
  /** Profiles that read it; empty = all. */
  profiles?: readonly string[];
  min?: number;
  max?: number;
}

/** The table of all knobs, in the order docs/scenarios.md lists them. */
export const KNOBS: readonly Knob[] = [
  { env: 'VOICE_TARGET', key: 'target', kind: 'url', default: 'ws://127.0.0.1:8080', meaning: 'Base URL of the voice backend (ws:// or wss://, optional path prefix); the client appends /api/v1/voice/voicelive/{session_id}' },
  { env: 'VOICE_TOKEN_POOL', key: 'tokenPool', kind: 'string', default: '../.tokens/pool.json', meaning: 'pool.json of valid test users (relative paths resolve against the bundle in dist/; prefer an absolute path)' },
  { env: 'VOICE_INVALID_TOKENS', key: 'invalidTokens', kind: 'string', default: '../.tokens/invalid.json', meaning: 'invalid.json catalogue of bad tokens, one variant each' },
  { env: 'VOICE_RUN_ID', key: 'runId', kind: 'runid', default: '', meaning: 'Run id in every session id (1-12 letters/digits); empty = random per k6 instance, made in setup()' },
  { env: 'VOICE_REJECT_STYLE', key: 'rejectStyle', kind: { oneOf: ['any', 'close', 'http'] }, default: 'any', meaning: 'How the backend must refuse: close (1008 after accept), http (401/403 on the upgrade) or any; the other style counts as a mismatch' },
  { env: 'VOICE_PROBE_STATUS', key: 'probeStatus', kind: 'bool', default: 'true', meaning: 'After a refused upgrade, repeat the handshake as a plain HTTP GET to learn the status (one extra request per refusal); false = such refusals are counted as rejected but unverified' },
  { env: 'VOICE_REJECT_WAIT_MS', key: 'rejectWaitMs', kind: 'int', default: '3000', min: 100, max: 600000, meaning: 'How long a no_token/invalid attempt that was upgraded waits for the server to close it before it counts as a bypass' },
  { env: 'VOICE_HOLD_SECONDS', key: 'holdSeconds', kind: 'number', default: '30', min: 0, max: 86400, meaning: 'How long each valid session stays open (streaming audio) before the client closes it with 1000' },
  { env: 'VOICE_AGENT_ID', key: 'agentId', kind: 'string', default: 'elena', meaning: 'Agent selected after open ({"type":"agent","agent_id":…}); empty = send none' },
  { env: 'VOICE_AGENT_ACK_TYPE', key: 'agentAckType', kind: 'string', default: 'agent.selected', meaning: 'Server event type that answers the agent selection (times voice_agent_response_duration)' },
  { env: 'VOICE_AUDIO', key: 'audio', kind: { oneOf: ['binary', 'json', 'off'] }, default: 'binary', meaning: 'Audio frames: binary PCM16, json ({"type":"input_audio_buffer.append","audio":<base64>}) or off' },
  { env: 'VOICE_AUDIO_RATE', key: 'audioRate', kind: 'int', default: '16000', min: 8000, max: 48000, meaning: 'PCM16 sample rate (Hz), mono' },
  { env: 'VOICE_AUDIO_FRAME_MS', key: 'audioFrameMs', kind: 'int', default: '40', min: 10, max: 1000, meaning: 'Audio frame length (ms); frames are sent at real-time pace' },
  { env: 'VOICE_ATTRIBUTION', key: 'attribution', kind: { oneOf: ['event', 'http', 'off'] }, default: 'event', meaning: 'Attribution check: event (user id in server events), http (memory endpoint with the same token), off' },
  { env: 'VOICE_ATTRIBUTION_PATH', key: 'attributionPath', kind: 'string', default: 'user_id', meaning: 'Dotted JSON path of the user id in server events (event mode); every event that carries it is checked' },
  { env: 'VOICE_SESSION_ID_PATH', key: 'sessionIdPath', kind: 'string', default: 'session_id', meaning: 'Dotted JSON path of the session id in server events and the memory record; a value other than the session the client opened is an attribution error (wrong_session); empty = not checked' },
  { env: 'VOICE_ATTRIBUTION_SAMPLE', key: 'attributionSample', kind: 'fraction', default: '1', meaning: 'Fraction of valid sessions checked through the memory endpoint (http mode)' },
  { env: 'VOICE_MEMORY_PATH', key: 'memoryPath', kind: 'string', default: '/api/v1/memory/sessions/{session_id}', meaning: 'Memory endpoint path (http mode); {session_id} is replaced' },
  { env: 'VOICE_MEMORY_USER_PATH', key: 'memoryUserPath', kind: 'string', default: 'user_id', meaning: 'Dotted JSON path of the user id in the memory record (http mode)' },
  { env: 'VOICE_POC_USER_IDS', key: 'pocUserIds', kind: 'list', default: 'poc-user,poc_user,poc,anonymous', meaning: 'Comma-separated user ids that mean "POC fallback user" (reported apart from other wrong users)' },
  { env: 'VOICE_TOKEN_MARGIN_SECONDS', key: 'tokenMarginSeconds', kind: 'int', default: '60', min: 0, max: 86400, meaning: 'A token is used only if it stays valid this long past the planned session end; rotation happens this long before exp' },
  { env: 'VOICE_HANDSHAKE_P95_MS', key: 'handshakeP95Ms', kind: 'number', default: '1000', min: 1, max: 600000, meaning: 'Threshold: p95 of voice_handshake_duration for valid sessions (ms)' },
  { env: 'VOICE_FALSE_REJECT_MAX', key: 'falseRejectMax', kind: 'fraction', default: '0.01', meaning: 'Threshold: largest allowed rate of rejected valid tokens' },
  { env: 'VOICE_ERROR_RATE_MAX', key: 'errorRateMax', kind: 'fraction', default: '0.01', meaning: 'Threshold: largest allowed rate of attempts ending in error (refused, 5xx, 429, 1011, 1013, timeouts), per class' },
  { env: 'VOICE_UNVERIFIED_MAX', key: 'unverifiedMax', kind: 'int', default: '0', min: 0, meaning: 'Threshold: largest allowed count of valid sessions whose attribution could not be checked (ignored when VOICE_ATTRIBUTION=off)' },
  { env: 'VOICE_UNEXPECTED_CLOSE_MAX', key: 'unexpectedCloseMax', kind: 'int', default: '0', min: 0, meaning: 'Threshold: largest allowed count of sessions the server closed before the client meant to end them' },
  { env: 'VOICE_RESULTS_DIR', key: 'resultsDir', kind: 'string', default: 'results', meaning: 'Folder (relative to the working directory) for summary.json and junit.xml; empty = write none' },
  { env: 'VOICE_LOG_LIMIT', key: 'logLimit', kind: 'int', default: '3', min: 0, max: 1000, meaning: 'Per VU, at most this many warning lines per kind of problem (bypass, mismatch, attribution, …)' },
  { env: 'VOICE_VUS', key: 'vus', kind: 'int', default: '2', min: 1, max: 100000, meaning: 'VUs for iteration-based classes (smoke) and pre-allocated VUs for arrival-rate classes', profiles: ['smoke', 'load', 'spike', 'soak'] },
  { env: 'VOICE_SESSIONS', key: 'sessions', kind: 'int', default: '4', min: 1, max: 1000000, meaning: 'smoke: full valid sessions; load/soak: concurrent valid sessions (VUs each holding one)', profiles: ['smoke', 'load', 'soak'] },
  { env: 'VOICE_DURATION', key: 'duration', kind: 'duration', default: '5m', meaning: 'Length of the steady phase (load, soak)', profiles: ['load', 'soak'] },
  { env: 'VOICE_NO_TOKEN_RATE', key: 'noTokenRate', kind: 'number', default: '1', min: 0, max: 100000, meaning: 'Background no_token attempts per second (0 = none)', profiles: ['load', 'spike', 'soak', 'capacity'] },
  { env: 'VOICE_INVALID_RATE', key: 'invalidRate', kind: 'number', default: '2', min: 0, max: 100000, meaning: 'Background invalid-token attempts per second, variants in turn (0 = none)', profiles: ['load', 'spike', 'soak', 'capacity'] },
  { env: 'VOICE_SPIKE_BASE', key: 'spikeBase', kind: 'number', default: '2', min: 0, max: 100000, meaning: 'New valid sessions per second before and after the spike', profiles: ['spike'] },
  { env: 'VOICE_SPIKE_PEAK', key: 'spikePeak', kind: 'number', default: '20', min: 1, max: 100000, meaning: 'New valid sessions per second at the peak', profiles: ['spike'] },
  { env: 'VOICE_SPIKE_RAMP', key: 'spikeRamp', kind: 'duration', default: '10s', meaning: 'Time to jump to the peak (and back)', profiles: ['spike'] },
  { env: 'VOICE_SPIKE_HOLD', key: 'spikeHold', kind: 'duration', default: '1m', meaning: 'Time at the peak; the base phases before and after last as long', profiles: ['spike'] },
  { env: 'VOICE_CAPACITY_START_RATE', key: 'capacityStartRate', kind: 'number', default: '1', min: 0.01, max: 100000, meaning: 'New sessions per second in the first stage', profiles: ['capacity'] },
  { env: 'VOICE_CAPACITY_STEP', key: 'capacityStep', kind: 'number', default: '2', min: 0.01, max: 100000, meaning: 'Added sessions per second per stage', profiles: ['capacity'] },
  { env: 'VOICE_CAPACITY_STAGES', key: 'capacityStages', kind: 'int', default: '10', min: 1, max: 50, meaning: 'Number of stages', profiles: ['capacity'] },
  { env: 'VOICE_CAPACITY_STAGE_DURATION', key: 'capacityStageDuration', kind: 'duration', default: '1m', meaning: 'Length of each stage (the rate ramps during its first tenth)', profiles: ['capacity'] },
  { env: 'VOICE_CAPACITY_MAX_VUS', key: 'capacityMaxVus', kind: 'int', default: '2000', min: 1, max: 100000, meaning: 'Most VUs the breakpoint search may use (each VU holds one session)', profiles: ['capacity'] },
  { env: 'VOICE_CAPACITY_SUCCESS_MIN', key: 'capacitySuccessMin', kind: 'fraction', default: '0.99', meaning: 'A stage holds when at least this fraction of its valid sessions succeeded and its p95 handshake is within VOICE_HANDSHAKE_P95_MS', profiles: ['capacity'] },
  { env: 'VOICE_DRIFT_WINDOW', key: 'driftWindow', kind: 'duration', default: '1h', meaning: 'Soak: length of the early window (from the start) and of the late window (before the end)', profiles: ['soak'] },
  { env: 'VOICE_DRIFT_P95_MS', key: 'driftP95Ms', kind: 'number', default: '1000', min: 1, max: 600000, meaning: 'Soak threshold: p95 handshake in the late window (ms)', profiles: ['soak'] },
  { env: 'VOICE_DRIFT_MAX_RATIO', key: 'driftMaxRatio', kind: 'number', default: '1.5', min: 1, max: 1000, meaning: 'Soak: late/early p95 ratio above which the summary reports drift (summary only; k6 thresholds cannot compare windows)', profiles: ['soak'] },
];

const DURATION_RE = /^(\d+(\.\d+)?(ms|s|m|h))+$/;

/** Parses a k6-style duration ("90s", "1m30s", "2h") to milliseconds; NaN if malformed. */
export function durationMs(s: string): number {
  if (!DURATION_RE.test(s)) return Number.NaN;
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const n = Number(m[1]);
    const unit = m[2];
    total += unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60000 : n * 3600000;
  }
  return total;
}

/** k6 duration string for a number of milliseconds (whole ms). */
export function msToDuration(ms: number): string {
  return `${Math.max(0, Math.round(ms))}ms`;
}

function bad(env: string, raw: string, what: string): Error {
  const shown = raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
  return new Error(`${env}="${shown}" is not valid: ${what}`);
}

function parseOne(k: Knob, raw: string): unknown {
  const v = raw.trim();
  const range = (n: number): number => {
    if (k.min !== undefined && n < k.min) throw bad(k.env, raw, `must be at least ${k.min}`);
    if (k.max !== undefined && n > k.max) throw bad(k.env, raw, `must be at most ${k.max}`);
    return n;
  };
  const kind = k.kind;
  if (typeof kind === 'object') {
    if (!kind.oneOf.includes(v)) throw bad(k.env, raw, `expected one of ${kind.oneOf.join(', ')}`);
    return v;
  }
  switch (kind) {
    case 'string':
      return v;
    case 'url': {
      const m = /^(wss?):\/\/([^/?#\s]+)(\/[^?#\s]*)?$/.exec(v);
      if (!m) throw bad(k.env, raw, 'expected ws://HOST[:PORT][/prefix] or wss://… with no query or fragment');
      return v.replace(/\/+$/, '');
    }
    case 'int': {
      if (!/^-?\d+$/.test(v)) throw bad(k.env, raw, 'expected a whole number');
      return range(Number(v));
    }
    case 'number': {
      const n = Number(v);
      if (v === '' || !Number.isFinite(n)) throw bad(k.env, raw, 'expected a number');
      return range(n);
    }
    case 'fraction': {
      const n = Number(v);
      if (v === '' || !Number.isFinite(n) || n < 0 || n > 1) throw bad(k.env, raw, 'expected a number from 0 to 1');
      return n;
    }
    case 'bool': {
      if (/^(true|1|yes|on)$/i.test(v)) return true;
      if (/^(false|0|no|off)$/i.test(v)) return false;
      throw bad(k.env, raw, 'expected true or false');
    }
    case 'duration': {
      const ms = durationMs(v);
      if (!Number.isFinite(ms) || ms <= 0) throw bad(k.env, raw, 'expected a k6 duration such as 30s, 5m or 1h30m');
      return v;
    }
    case 'list':
      return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'runid': {
      if (v !== '' && !/^[A-Za-z0-9]{1,12}$/.test(v)) throw bad(k.env, raw, 'expected 1 to 12 letters or digits');
      return v;
    }
  }
}

/**
 * Reads the knobs from env (k6: __ENV). `profileDefaults` overrides the table's defaults for
 * one profile (e.g. smoke holds sessions 2 s). Unknown VOICE_* variables are refused so a
 * typo does not silently fall back to a default.
 */
export function loadConfig(env: Record<string, string | undefined>, profileDefaults: Partial<Record<string, string>> = {}): VoiceConfig {
  const known = new Set(KNOBS.map((k) => k.env));
  for (const name of Object.keys(env)) {
    if (name.startsWith('VOICE_') && !known.has(name)) {
      throw new Error(`${name} is not a known setting; see docs/scenarios.md for the VOICE_* variables`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const k of KNOBS) {
    const given = env[k.env];
    const raw = given !== undefined ? given : (profileDefaults[k.env] ?? k.default);
    out[k.key] = parseOne(k, raw);
  }
  const c = out as unknown as VoiceConfig;
  if (c.spikeBase > c.spikePeak) throw new Error(`VOICE_SPIKE_BASE=${c.spikeBase} is above VOICE_SPIKE_PEAK=${c.spikePeak}: the peak must be the larger`);
  if (c.attributionPath === '') throw new Error('VOICE_ATTRIBUTION_PATH is empty: give a dotted JSON path such as user_id');
  return c;
}

/** Markdown table of the knobs (docs/scenarios.md embeds it; a test keeps the two in step). */
export function knobTable(): string {
  const rows = KNOBS.map((k) => `| \`${k.env}\` | \`${k.default}\` | ${k.profiles ? k.profiles.join(', ') : 'all'} | ${k.meaning} |`);
  return ['| variable | default | profiles | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
