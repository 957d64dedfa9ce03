// `k6/timers`: the same per-VU timers as the globals (k6 internal/js/modules/k6/timers).
import type { ModuleFactory, VuRuntime } from '../types.ts';
import { engineVu } from './engine-vu.ts';

export const createTimersModule = ((rt: VuRuntime) => {
  const vu = engineVu(rt);
  return {
    setTimeout: vu.setTimeout,
    clearTimeout: vu.clearTimeout,
    setInterval: vu.setInterval,
    clearInterval: vu.clearInterval,
  };
}) satisfies ModuleFactory;
