// `k6/metrics`: Counter, Gauge, Trend, Rate (k6 internal/js/modules/k6/metrics/metrics.go).
import type { MetricType } from '../types.ts';
import type { ModuleFactory, VuRuntime } from '../types.ts';
import { engineVu, userTags } from './engine-vu.ts';
import { nowMs } from '../metrics.ts';

function limitValue(v: string): string {
  const chars = [...v];
  if (chars.length < 100) return v;
  return `${chars.slice(0, 50).join('')}... omitting ${chars.length - 100} characters ...${chars.slice(-50).join('')}`;
}

export const createMetricsModule = ((rt: VuRuntime) => {
  const vu = engineVu(rt);
  const ctx = vu.ctx;
  const make = (type: MetricType) =>
    function Metric(this: unknown, name: unknown, isTime?: unknown) {
      if (!new.target) throw new vu.realm.TypeError(`Class constructor ${type} cannot be invoked without 'new'`);
      if (!vu.inInit) throw goErr(vu, 'metrics must be declared in the init context');
      let metric: ReturnType<typeof ctx.registry.metric>;
      try {
        metric = ctx.registry.metric(String(name), type, type === 'trend' && isTime === true ? 'time' : 'default');
      } catch (e) {
        throw goErr(vu, (e as Error).message);
      }
      const obj = new vu.realm.Object() as Record<string, unknown>;
      Object.defineProperty(obj, 'name', { value: metric.name, enumerable: true });
      obj.add = (value?: unknown, tags?: unknown): boolean => {
        if (vu.inInit) throw goErr(vu, 'metrics must be added in VU code, not the init context');
        const raise = (msg: string): boolean => {
          if (ctx.throwOnAddErrors) throw goErr(vu, msg);
          vu.warn(msg);
          return false;
        };
        if (arguments.length === 0 || value === undefined) {
          if (value === undefined && arguments.length > 0) {
            return raise(`'undefined' is an invalid value for metric '${metric.name}', a number or a boolean value is expected`);
          }
          return raise(`no value was provided for metric '${metric.name}', a number or a boolean value is expected`);
        }
        if (value === null) return raise(`'null' is an invalid value for metric '${metric.name}', a number or a boolean value is expected`);
        let v = Number(value);
        if (v === 0 && Boolean(value)) v = 1;
        if (Number.isNaN(v)) {
          return raise(`'${limitValue(String(value))}' is an invalid value for metric '${metric.name}', a number or a boolean value is expected`);
        }
        let extra: Record<string, string>;
        try {
          extra = userTags(vu, tags, '');
        } catch (e) {
          throw goErr(vu, `cannot add tags for the '${metric.name}' custom metric: ${(e as Error).message}`);
        }
        ctx.registry.push({ metric, time: nowMs(), value: v, tags: { ...vu.tags(), ...extra }, metadata: vu.metadata() });
        return true;
      };
      return obj;
    };
  return {
    Counter: make('counter'),
    Gauge: make('gauge'),
    Trend: make('trend'),
    Rate: make('rate'),
  };
}) satisfies ModuleFactory;

/** An error raised by k6's Go code: sobek shows it as "GoError: <message>". */
function goErr(vu: { realm?: { Error: ErrorConstructor } }, message: string): Error {
  const e = new (vu.realm?.Error ?? Error)(message);
  e.name = 'GoError';
  return e;
}
