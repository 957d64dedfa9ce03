// `k6/data`: SharedArray, built once per name for the whole process and shared by every
// VU (k6 internal/js/modules/k6/data/{data.go,share.go}). Only the JSON strings are stored;
// each read parses and deep-freezes the element in the reading VU's realm, as k6 does.
import type { ModuleFactory, VuRuntime } from '../types.ts';
import { engineVu } from './engine-vu.ts';
import type { VU } from '../vu.ts';

function deepFreeze(vu: VU, v: unknown): void {
  if (v === null || typeof v !== 'object') return;
  vu.realm.Object.freeze(v);
  for (const k of Object.keys(v as object)) {
    const p = (v as Record<string, unknown>)[k];
    if (p !== null && typeof p === 'object' && !Object.isFrozen(p)) deepFreeze(vu, p);
  }
}

function wrap(vu: VU, arr: readonly string[]): unknown {
  const immutable = () => {
    throw new vu.realm.TypeError('SharedArray is immutable');
  };
  const isIndex = (p: string | symbol): p is string => typeof p === 'string' && /^(0|[1-9]\d*)$/.test(p);
  const target = new vu.realm.Array();
  return new Proxy(target, {
    get(t, p, receiver) {
      if (p === 'length') return arr.length;
      if (isIndex(p)) {
        const i = Number(p);
        if (i >= arr.length) return undefined;
        const val = vu.realm.JSON.parse(arr[i] as string);
        deepFreeze(vu, val);
        return val;
      }
      return Reflect.get(t, p, receiver);
    },
    has(t, p) {
      if (isIndex(p)) return Number(p) < arr.length;
      return Reflect.has(t, p);
    },
    ownKeys() {
      return [...arr.keys()].map(String).concat(['length']);
    },
    getOwnPropertyDescriptor(t, p) {
      if (p === 'length') return { value: arr.length, writable: true, enumerable: false, configurable: false };
      if (isIndex(p) && Number(p) < arr.length) {
        const i = Number(p);
        const val = vu.realm.JSON.parse(arr[i] as string);
        deepFreeze(vu, val);
        void t;
        return { value: val, writable: false, enumerable: true, configurable: true };
      }
      return undefined;
    },
    set: immutable,
    defineProperty: immutable,
    deleteProperty: immutable,
    setPrototypeOf: immutable,
  });
}

export const createDataModule = ((rt: VuRuntime) => {
  const vu = engineVu(rt);
  const store = vu.ctx.sharedArrays;
  function SharedArray(name: unknown, fn: unknown) {
    if (!new.target) throw new vu.realm.TypeError("Class constructor SharedArray cannot be invoked without 'new'");
    if (!vu.inInit) throw new vu.realm.Error('new SharedArray must be called in the init context');
    if (typeof name !== 'string' || name === '') throw new vu.realm.Error("empty name provided to SharedArray's constructor");
    if (typeof fn === 'function' && (fn as { constructor?: { name?: string } }).constructor?.name === 'AsyncFunction') {
      throw new vu.realm.Error('SharedArray constructor does not support async functions as second argument');
    }
    if (typeof fn !== 'function') throw new vu.realm.Error("a function is expected as the second argument of SharedArray's constructor");
    let arr = store.get(name);
    if (!arr) {
      const made = (fn as () => unknown)();
      if (!Array.isArray(made)) throw new vu.realm.Error('only arrays can be made into SharedArray');
      arr = Object.freeze(made.map((el) => JSON.stringify(el) ?? 'null'));
      store.set(name, arr);
    }
    return wrap(vu, arr);
  }
  return { SharedArray };
}) satisfies ModuleFactory;
