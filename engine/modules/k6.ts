// `k6`: check, group, sleep, fail, randomSeed (k6 internal/js/modules/k6/k6.go).
import type { GroupNode } from '../context.ts';
import { newGroup } from '../context.ts';
import type { ModuleFactory, VuRuntime } from '../types.ts';
import { engineVu, userTags } from './engine-vu.ts';
import { nowMs } from '../metrics.ts';

function groupAt(root: GroupNode, path: string): GroupNode {
  if (path === '') return root;
  let node = root;
  let acc = '';
  for (const part of path.split('::').slice(1)) {
    acc = `${acc}::${part}`;
    let next = node.groups.get(part);
    if (!next) {
      next = newGroup(part, acc);
      node.groups.set(part, next);
    }
    node = next;
  }
  return node;
}

function isAsyncFn(f: unknown): boolean {
  return typeof f === 'function' && (f as { constructor?: { name?: string } }).constructor?.name === 'AsyncFunction';
}

export const createK6Module = ((rt: VuRuntime) => {
  const vu = engineVu(rt);
  const ctx = vu.ctx;
  // Seedable PRNG for randomSeed (mulberry32); Math.random is per-realm, so seeding swaps it.
  const randomSeed = (seed: number) => {
    let a = Math.trunc(Number(seed)) >>> 0;
    vu.realm.Object.defineProperty((ctx.script.globals as { Math: object }).Math, 'random', {
      configurable: true,
      writable: true,
      value: () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      },
    });
  };
  return {
    sleep(secs: unknown) {
      vu.sleep(Number(secs));
    },
    fail(msg?: unknown): never {
      throw new vu.realm.Error(msg === undefined ? '' : String(msg));
    },
    randomSeed,
    group<RT>(name: string, fn: () => RT): RT {
      if (vu.inInit) throw new vu.realm.Error('Using group() in the init context is not supported');
      if (typeof fn !== 'function') throw new vu.realm.Error('group() requires a callback as a second argument');
      if (isAsyncFn(fn)) {
        throw new vu.realm.Error(
          'group() does not support async functions as arguments, please see https://grafana.com/docs/k6/latest/javascript-api/k6/group/ for more info',
        );
      }
      const n = String(name);
      if (n.includes('::')) throw new vu.realm.Error("group and check names may not contain '::'");
      const old = vu.groupPath;
      vu.groupPath = `${old}::${n}`;
      groupAt(ctx.rootGroup, vu.groupPath);
      const start = nowMs();
      try {
        return fn();
      } finally {
        const end = nowMs();
        ctx.registry.push({ metric: ctx.builtins.groupDuration, time: end, value: end - start, tags: vu.tags(), metadata: vu.metadata() });
        vu.groupPath = old;
      }
    },
    check(val: unknown, checks: unknown, tags?: unknown) {
      if (vu.inInit) throw new vu.realm.Error('Using check() in the init context is not supported');
      if (checks === undefined || checks === null) throw new vu.realm.Error('no checks provided to `check`');
      const base = { ...vu.tags(), ...userTags(vu, tags, '') };
      const metadata = vu.metadata();
      const group = groupAt(ctx.rootGroup, vu.groupPath);
      const t = nowMs();
      let succ = true;
      for (const name of Object.keys(checks as object)) {
        if (name.includes('::')) throw new vu.realm.Error("group and check names may not contain '::'");
        let v = (checks as Record<string, unknown>)[name];
        if (isAsyncFn(v)) {
          throw new vu.realm.Error(
            'the built-in check() does not support async functions as arguments. Use the JavaScript utils library as a replacement. Refer to https://grafana.com/docs/k6/latest/javascript-api/jslib/utils/check/ for more info',
          );
        }
        let exc: unknown;
        let threw = false;
        if (typeof v === 'function') {
          try {
            v = (v as (x: unknown) => unknown)(val);
          } catch (e) {
            v = false;
            exc = e;
            threw = true;
          }
        }
        const ok = Boolean(v);
        if (!ok) succ = false;
        const sampleTags = ctx.systemTags.has('check') ? { ...base, check: name } : base;
        ctx.registry.push({ metric: ctx.builtins.checks, time: t, value: ok ? 1 : 0, tags: sampleTags, metadata });
        let rec = group.checks.get(name);
        if (!rec) {
          rec = { name, path: `${group.path}::${name}`, passes: 0, fails: 0 };
          group.checks.set(name, rec);
        }
        if (ok) rec.passes++;
        else rec.fails++;
        if (threw) throw exc;
      }
      return succ;
    },
  };
}) satisfies ModuleFactory;
