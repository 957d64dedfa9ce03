// `k6/execution` (k6 internal/js/modules/k6/execution/execution.go): vu, scenario,
// instance and test, as accessor properties that throw in the init context.
import type { ModuleFactory, VuRuntime } from '../types.ts';
import { TestAbortError } from '../errors.ts';
import { engineVu } from './engine-vu.ts';
import type { VU } from '../vu.ts';

function infoObject(vu: VU, props: Record<string, () => unknown>): object {
  const o = new vu.realm.Object();
  for (const [k, get] of Object.entries(props)) Object.defineProperty(o, k, { get, enumerable: true, configurable: false });
  return o;
}

function tagsProxy(vu: VU, kind: 'tags' | 'metadata'): object {
  const read = () => (kind === 'tags' ? vu.tags() : vu.metadata());
  const bag = () => (kind === 'tags' ? vu.userTags : vu.userMetadata);
  return new Proxy(new vu.realm.Object(), {
    get(_t, p) {
      if (typeof p !== 'string') return undefined;
      return read()[p];
    },
    set(_t, p, v) {
      if (typeof p !== 'string') return false;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
        bag()[p] = String(v);
        return true;
      }
      throw new vu.realm.TypeError(
        `invalid value for metric ${kind === 'tags' ? 'tag' : 'metadata'} '${p}': only String, Boolean and Number types are accepted as a metric ${kind === 'tags' ? 'tag' : 'metadata'} values`,
      );
    },
    deleteProperty(_t, p) {
      if (typeof p === 'string') delete bag()[p];
      return true;
    },
    has(_t, p) {
      return typeof p === 'string' && p in read();
    },
    ownKeys() {
      return Object.keys(read());
    },
    getOwnPropertyDescriptor(_t, p) {
      if (typeof p !== 'string' || !(p in read())) return undefined;
      return { value: read()[p], writable: true, enumerable: true, configurable: true };
    },
  });
}

export const createExecutionModule = ((rt: VuRuntime) => {
  const vu = engineVu(rt);
  const ctx = vu.ctx;
  const guard = (msg: string) => {
    if (vu.inInit) throw new vu.realm.Error(msg);
  };
  let optionsObj: unknown;
  const exec = new vu.realm.Object();
  Object.defineProperty(exec, 'vu', {
    enumerable: true,
    get() {
      guard('getting VU information in the init context is not supported');
      const o = infoObject(vu, {
        idInInstance: () => vu.idInInstance,
        idInTest: () => vu.idInTest,
        iterationInInstance: () => vu.iteration,
        iterationInScenario: () => (vu.scenario ? (vu.scenarioIter.get(vu.scenario.name) ?? 0) : 0),
      });
      const tags = tagsProxy(vu, 'tags');
      Object.defineProperty(o, 'tags', { value: tags, enumerable: true });
      Object.defineProperty(o, 'metrics', {
        enumerable: true,
        value: infoObject(vu, { tags: () => tags, metadata: () => tagsProxy(vu, 'metadata') }),
      });
      return o;
    },
  });
  Object.defineProperty(exec, 'scenario', {
    enumerable: true,
    get() {
      guard('getting scenario information outside of the VU context is not supported');
      const sc = vu.scenario;
      if (!sc) throw new vu.realm.Error('getting scenario information outside of the VU context is not supported');
      return infoObject(vu, {
        name: () => sc.name,
        executor: () => sc.executor,
        startTime: () => sc.startTimeMs,
        progress: () => sc.progress(),
        iterationInInstance: () => vu.scIterLocal,
        iterationInTest: () => vu.scIterGlobal,
      });
    },
  });
  Object.defineProperty(exec, 'instance', {
    enumerable: true,
    get() {
      guard('getting instance information in the init context is not supported');
      return infoObject(vu, {
        currentTestRunDuration: () => (ctx.testStartMs ? Date.now() - ctx.testStartMs : 0),
        iterationsCompleted: () => ctx.counters.iterationsCompleted,
        iterationsInterrupted: () => ctx.counters.iterationsInterrupted,
        vusActive: () => ctx.counters.vusActive,
        vusInitialized: () => ctx.counters.vusInitialized,
      });
    },
  });
  Object.defineProperty(exec, 'test', {
    enumerable: true,
    get() {
      return infoObject(vu, {
        abort: () => (msg?: unknown): never => {
          const reason = msg === undefined || msg === null ? 'test aborted' : `test aborted: ${String(msg)}`;
          ctx.abortTest(reason);
          throw new TestAbortError(reason);
        },
        fail: () => (msg?: unknown) => {
          if (vu.inInit) throw new vu.realm.Error('execution.test.fail() called outside of VU context');
          const reason = msg === undefined || msg === null ? 'test marked as failed' : `test marked as failed: ${String(msg)}`;
          ctx.failTest(reason);
        },
        options: () => {
          guard('getting test options in the init context is not supported');
          if (optionsObj === undefined) {
            optionsObj = vu.realm.JSON.parse(JSON.stringify(ctx.options));
            deepFreeze(optionsObj);
          }
          return optionsObj;
        },
      });
    },
  });
  // `import exec from 'k6/execution'` gets the same object.
  const exports = accessors(exec);
  Object.defineProperty(exports, 'default', { value: exec, enumerable: false });
  return exports;
}) satisfies ModuleFactory;

function deepFreeze(o: unknown): void {
  if (o === null || typeof o !== 'object') return;
  Object.freeze(o);
  for (const v of Object.values(o)) deepFreeze(v);
}

/** Named imports (`import { vu } from 'k6/execution'`) read the accessors at import time in ESM→CJS. */
function accessors(exec: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['vu', 'scenario', 'instance', 'test']) {
    Object.defineProperty(out, k, { get: () => (exec as Record<string, unknown>)[k], enumerable: true });
  }
  return out;
}
