// Fault injection: parsing of the repeatable `--fault NAME[=VALUE]` flags into one plain
// object. Pure: no I/O. The meaning of each fault is in FAULT_HELP (printed by --help and
// copied into docs/target.md).

import { UserError } from '../tools/common/cli.ts';
import { KIND_VARIANTS } from './auth/classify.ts';

export interface Faults {
  /** Invalid-token variants to accept as if valid ('all' = every kind). */
  acceptInvalid: Set<string> | 'all' | null;
  /** Accept connections without a token (as the POC user). */
  acceptMissing: boolean;
  /** Fraction of valid sessions attributed to another known user. */
  misattribute: number;
  /** Fraction of valid sessions attributed to the POC fallback user. */
  pocFallback: number;
  /** Delay before answering any upgrade, plus up to `jitterMs` more (uniform). */
  handshakeDelay: { ms: number; jitterMs: number } | null;
  /** Fraction of accepted sessions closed with 1011 after `afterMs` (±50 % jitter). */
  drop: { rate: number; afterMs: number } | null;
  /** Maximum open sessions; more are refused with 1013 (close style) or 503 (http style). */
  capacity: number | null;
  /** Close sessions with 1008 when their token's exp passes. */
  expireClose: boolean;
}

export const NO_FAULTS: Faults = {
  acceptInvalid: null,
  acceptMissing: false,
  misattribute: 0,
  pocFallback: 0,
  handshakeDelay: null,
  drop: null,
  capacity: null,
  expireClose: false,
};

export const FAULT_HELP = `Faults (repeatable --fault NAME[=VALUE]; each proves the tool detects something):
  accept-invalid=VARIANT|all  accept invalid tokens of that variant (comma-separated list ok)
                              as if valid: an auth bypass. The variant is the target's own
                              classification of why verification failed (see docs/target.md).
  accept-missing              accept connections without a token (missing or empty ?token=)
                              as the POC user: a no-token bypass.
  misattribute=RATE           attribute that fraction (0..1) of valid sessions to another
                              known user (from pool.json), as a concurrency bug would.
  poc-fallback=RATE           attribute that fraction of valid sessions to the POC user.
  handshake-delay=MS[,JITTER] wait MS (+ up to JITTER) ms before answering every upgrade.
  drop=RATE[,AFTER_MS]        close that fraction of accepted sessions with 1011 after
                              AFTER_MS ms (default 2000, +-50 % jitter).
  capacity=N                  refuse sessions beyond N open ones: 1013 "Try Again Later"
                              after accept (close style) or HTTP 503 (http style).
  expire-close                close sessions with 1008 "Token expired" when the token's exp
                              passes.`;

function rate(name: string, raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') throw new UserError(`--fault ${name} needs a rate, e.g. ${name}=0.1`);
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new UserError(`--fault ${name}=${raw}: the rate must be a number from 0 to 1`);
  return n;
}

/** Longest injected wait: an hour (Node timers overflow past 2^31-1 ms and would fire at once). */
const MAX_MS = 3_600_000;

function nonNegInt(what: string, raw: string | undefined): number {
  if (raw === undefined || !/^\d+$/.test(raw.trim())) throw new UserError(`--fault ${what}: expected a whole number of milliseconds, got "${raw ?? ''}"`);
  const n = Number(raw);
  if (n > MAX_MS) throw new UserError(`--fault ${what}: at most ${MAX_MS} ms (one hour), got ${raw.trim()}`);
  return n;
}

/** Every variant name accept-invalid can match (the target's failure kinds cover these). */
const KNOWN_VARIANTS: ReadonlySet<string> = new Set(Object.values(KIND_VARIANTS).flat());

export function parseFaults(specs: readonly string[]): Faults {
  const f: Faults = { ...NO_FAULTS };
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = (eq < 0 ? spec : spec.slice(0, eq)).trim();
    const value = eq < 0 ? undefined : spec.slice(eq + 1).trim();
    switch (name) {
      case 'accept-invalid': {
        if (!value) throw new UserError('--fault accept-invalid needs a variant or "all", e.g. accept-invalid=expired');
        if (value === 'all') f.acceptInvalid = 'all';
        else {
          const set = f.acceptInvalid instanceof Set ? f.acceptInvalid : new Set<string>();
          for (const v of value.split(',')) {
            if (!KNOWN_VARIANTS.has(v)) throw new UserError(`--fault accept-invalid=${value}: "${v}" is not a variant the target recognises; known: ${[...KNOWN_VARIANTS].join(', ')}`);
            set.add(v);
          }
          if (f.acceptInvalid !== 'all') f.acceptInvalid = set;
        }
        break;
      }
      case 'accept-missing':
        if (value !== undefined) throw new UserError('--fault accept-missing takes no value');
        f.acceptMissing = true;
        break;
      case 'misattribute':
        f.misattribute = rate(name, value);
        break;
      case 'poc-fallback':
        f.pocFallback = rate(name, value);
        break;
      case 'handshake-delay': {
        const [ms, jitter] = (value ?? '').split(',');
        f.handshakeDelay = { ms: nonNegInt('handshake-delay', ms), jitterMs: jitter === undefined ? 0 : nonNegInt('handshake-delay jitter', jitter) };
        break;
      }
      case 'drop': {
        const [r, after] = (value ?? '').split(',');
        f.drop = { rate: rate(name, r), afterMs: after === undefined ? 2000 : nonNegInt('drop AFTER_MS', after) };
        break;
      }
      case 'capacity': {
        if (value === undefined || !/^\d+$/.test(value)) throw new UserError(`--fault capacity needs a whole number of sessions, e.g. capacity=100`);
        f.capacity = Number(value);
        break;
      }
      case 'expire-close':
        if (value !== undefined) throw new UserError('--fault expire-close takes no value');
        f.expireClose = true;
        break;
      default:
        throw new UserError(`unknown --fault "${name}"; known: accept-invalid, accept-missing, misattribute, poc-fallback, handshake-delay, drop, capacity, expire-close`);
    }
  }
  return f;
}

/** A short description of the active faults for the startup line and /stats. */
export function describeFaults(f: Faults): string[] {
  const out: string[] = [];
  if (f.acceptInvalid) out.push(`accept-invalid=${f.acceptInvalid === 'all' ? 'all' : [...f.acceptInvalid].join(',')}`);
  if (f.acceptMissing) out.push('accept-missing');
  if (f.misattribute > 0) out.push(`misattribute=${f.misattribute}`);
  if (f.pocFallback > 0) out.push(`poc-fallback=${f.pocFallback}`);
  if (f.handshakeDelay) out.push(`handshake-delay=${f.handshakeDelay.ms},${f.handshakeDelay.jitterMs}`);
  if (f.drop) out.push(`drop=${f.drop.rate},${f.drop.afterMs}`);
  if (f.capacity !== null) out.push(`capacity=${f.capacity}`);
  if (f.expireClose) out.push('expire-close');
  return out;
}
