// The engine's own modules need the core VU (sleep, groups, scenario state); H4's modules
// use only the VuRuntime seam.
import type { VuRuntime } from '../types.ts';
import { VU } from '../vu.ts';

export function engineVu(vu: VuRuntime): VU {
  if (!(vu instanceof VU)) throw new Error('this module needs the engine VU');
  return vu;
}

/** k6 common.NewInitContextError-style failure when called outside VU code. */
export function notInInit(vu: VU, what: string): void {
  if (vu.inInit) throw new vu.realm.Error(`Using ${what} in the init context is not supported`);
}

/** Tags argument as k6 ApplyCustomUserTags accepts it: string, number, boolean values. */
export function userTags(vu: VU, raw: unknown, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object') throw new vu.realm.TypeError(`${prefix}: invalid tags argument`);
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else {
      throw new vu.realm.TypeError(
        `${prefix}invalid value for metric tag '${k}': only String, Boolean and Number types are accepted as a metric tag values`,
      );
    }
  }
  return out;
}
