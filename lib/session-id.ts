// Session ids (contract §6): unique across the whole run, also over several k6 instances;
// URL-safe; at most 64 characters; auditable (the test user's pool index is in the id).
//
//   r<run>-u<user>-<scenario code>-i<iterationInTest>-v<vu idInTest>
//   e.g. r7f3k2q-u42-va-i17-v3      (user index 42 of pool.json)
//        r7f3k2q-ux-in-i5-v2        (no pool user: a no_token or invalid attempt)
//
// Uniqueness: exec.scenario.iterationInTest is unique per scenario across instances that
// share one --execution-segment-sequence (k6-operator does); the scenario code keeps the
// scenarios apart; the run id keeps runs apart. When VOICE_RUN_ID is empty, setup() makes a
// random run id per instance, which also keeps instances apart when no shared sequence
// was given. Pure: no k6 import.

export const SESSION_ID_MAX = 64;

const KNOWN_CODES: Record<string, string> = {
  valid: 'va',
  no_token: 'nt',
  invalid: 'in',
  valid_spike: 'vs',
  valid_capacity: 'vc',
};

/** Short lowercase code of a k6 scenario name: a fixed one for ours, else a 4-char hash. */
export function scenarioCode(name: string): string {
  const known = KNOWN_CODES[name];
  if (known) return known;
  // FNV-1a 32-bit, base36, prefixed with 'z' so it never equals a fixed code.
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `z${h.toString(36).slice(0, 4)}`;
}

/** A random run id: 8 lowercase letters/digits from the given random bytes source. */
export function randomRunId(randomBytes: (n: number) => Uint8Array): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(8);
  let s = '';
  for (let i = 0; i < 8; i++) s += alphabet[(bytes[i] ?? 0) % alphabet.length];
  return s;
}

export interface SessionIdParts {
  runId: string;
  /** Pool index of the test user, or null for attempts without a pool user. */
  userIndex: number | null;
  scenarioCode: string;
  iterationInTest: number;
  vuIdInTest: number;
}

export function makeSessionId(p: SessionIdParts): string {
  if (!Number.isInteger(p.iterationInTest) || p.iterationInTest < 0 || !Number.isInteger(p.vuIdInTest) || p.vuIdInTest < 0) throw new Error('session id: iteration and VU id must be whole numbers');
  if (!/^[A-Za-z0-9]{1,12}$/.test(p.runId)) throw new Error(`session id: run id "${p.runId}" must be 1-12 letters or digits`);
  if (!/^[a-z][a-z0-9]{0,4}$/.test(p.scenarioCode)) throw new Error(`session id: scenario code "${p.scenarioCode}" is not 1-5 lowercase letters/digits`);
  const user = p.userIndex === null ? 'x' : String(p.userIndex);
  const id = `r${p.runId}-u${user}-${p.scenarioCode}-i${p.iterationInTest}-v${p.vuIdInTest}`;
  if (id.length > SESSION_ID_MAX) throw new Error(`session id would be ${id.length} characters, over ${SESSION_ID_MAX}`);
  return id;
}

const PARSE_RE = /^r([A-Za-z0-9]{1,12})-u(x|\d+)-([a-z][a-z0-9]{0,4})-i(\d+)-v(\d+)$/;

/** Reads an id back; null when it is not one of ours. */
export function parseSessionId(id: string): SessionIdParts | null {
  const m = PARSE_RE.exec(id);
  if (!m) return null;
  return {
    runId: m[1] as string,
    userIndex: m[2] === 'x' ? null : Number(m[2]),
    scenarioCode: m[3] as string,
    iterationInTest: Number(m[4]),
    vuIdInTest: Number(m[5]),
  };
}
