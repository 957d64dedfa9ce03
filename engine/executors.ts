// The six k6 executors (k6 lib/executor/*.go) over a shared VU pool. Each scenario gets a
// "soft" stop (no new iterations: duration / maxDuration reached) and a "hard" stop
// (soft + gracefulStop, or test abort) that interrupts running iterations.
import { setMaxListeners } from 'node:events';
import type { EngineContext } from './context.ts';
import type { ScenarioConfig, Stage } from './options.ts';
import type { ExecutionTuple, SegmentedIndex } from './segments.ts';
import type { ScenarioState, VU } from './vu.ts';
import { nowMs } from './metrics.ts';

export interface VuPool {
  /** A free initialized VU, or undefined. */
  take(): VU | undefined;
  give(vu: VU): void;
  /** Initializes one more VU (unplanned, arrival-rate executors). */
  grow(): Promise<VU>;
}

export interface ScenarioDeps {
  ctx: EngineContext;
  pool: VuPool;
  tuple: ExecutionTuple;
  /** Aborted when the whole test stops (abort, thresholds abortOnFail, watchdog). */
  testSignal: AbortSignal;
}

const tick = () => new Promise<void>((r) => setImmediate(r));
const sleepMs = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((r) => {
    if (signal?.aborted) return r();
    const t = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      r();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

class RunningScenario implements ScenarioState {
  readonly name: string;
  readonly executor: string;
  readonly exec: string;
  readonly env: Record<string, string>;
  readonly tags: Record<string, string>;
  startTimeMs = 0;
  localIterations = 0;
  readonly soft = new AbortController();
  readonly hard = new AbortController();
  progressFn: () => number = () => 0;
  constructor(
    cfg: ScenarioConfig,
    private readonly index: SegmentedIndex,
  ) {
    // Every running iteration listens on these (10k VUs → 10k listeners).
    setMaxListeners(0, this.soft.signal, this.hard.signal);
    this.name = cfg.name;
    this.executor = cfg.executor;
    this.exec = cfg.exec;
    this.env = cfg.env;
    this.tags = cfg.tags;
  }
  nextIterationCounters(): [number, number] {
    const [s, u] = this.index.next();
    return [s - 1, u - 1];
  }
  progress(): number {
    return Math.max(0, Math.min(1, this.progressFn()));
  }
}

/** Runs one scenario to completion (startTime already waited for by the caller). */
export async function runScenario(cfg: ScenarioConfig, deps: ScenarioDeps): Promise<void> {
  const { ctx, pool, tuple, testSignal } = deps;
  const iterTuple =
    cfg.executor === 'shared-iterations'
      ? (tuple.forValue(cfg.vus) ?? tuple)
      : cfg.executor === 'constant-arrival-rate' || cfg.executor === 'ramping-arrival-rate'
        ? (tuple.forValue(cfg.maxVUs) ?? tuple)
        : tuple;
  const sc = new RunningScenario(cfg, iterTuple.index0());
  sc.startTimeMs = Date.now();
  const onTestAbort = () => {
    sc.soft.abort();
    sc.hard.abort();
  };
  testSignal.addEventListener('abort', onTestAbort, { once: true });
  if (testSignal.aborted) onTestAbort();
  const timers: NodeJS.Timeout[] = [];
  const stopAt = (softMs: number, graceMs: number) => {
    timers.push(setTimeout(() => sc.soft.abort(), Math.max(0, softMs)));
    timers.push(setTimeout(() => sc.hard.abort(), Math.max(0, softMs + graceMs)));
  };
  const droppedTags = () => ({ ...ctx.runTags, ...cfg.tags, ...(ctx.systemTags.has('scenario') ? { scenario: cfg.name } : {}) });
  const dropped = (n: number) => {
    if (n > 0) ctx.registry.push({ metric: ctx.builtins.droppedIterations, time: nowMs(), value: n, tags: droppedTags() });
  };

  const held: VU[] = [];
  const acquire = async (): Promise<VU> => {
    const vu = pool.take() ?? (await pool.grow());
    held.push(vu);
    vu.activate(sc);
    return vu;
  };
  const releaseAll = () => {
    for (const vu of held.splice(0)) pool.give(vu);
  };
  /** One VU running iterations while `more()` says so. */
  const loop = async (vu: VU, more: () => boolean, stop: AbortSignal = sc.hard.signal): Promise<void> => {
    ctx.counters.vusActive++;
    try {
      while (!sc.soft.signal.aborted && !stop.aborted && more()) {
        await vu.runOnce(cfg.exec, stop);
        sc.localIterations++;
        await tick();
      }
    } finally {
      ctx.counters.vusActive--;
    }
  };

  try {
    switch (cfg.executor) {
      case 'shared-iterations': {
        const vus = tuple.scale(cfg.vus);
        const total = tuple.forValue(cfg.vus)?.scale(cfg.iterations) ?? 0;
        let claimed = 0;
        // k6 shared_iterations.go: iterations done (not started) over the total.
        sc.progressFn = () => (total ? sc.localIterations / total : 1);
        stopAt(cfg.maxDurationMs, cfg.gracefulStopMs);
        const vuList = await Promise.all(Array.from({ length: vus }, acquire));
        await Promise.all(
          vuList.map((vu) =>
            loop(vu, () => {
              if (claimed >= total) return false;
              claimed++;
              return true;
            }),
          ),
        );
        dropped(total - claimed);
        break;
      }
      case 'per-vu-iterations': {
        const vus = tuple.scale(cfg.vus);
        // k6 per_vu_iterations.go: iterations done (not started) over the total.
        sc.progressFn = () => sc.localIterations / Math.max(1, vus * cfg.iterations);
        stopAt(cfg.maxDurationMs, cfg.gracefulStopMs);
        const vuList = await Promise.all(Array.from({ length: vus }, acquire));
        await Promise.all(
          vuList.map(async (vu) => {
            let mine = 0;
            await loop(vu, () => {
              if (mine >= cfg.iterations) return false;
              mine++;
              return true;
            });
            dropped(cfg.iterations - mine);
          }),
        );
        break;
      }
      case 'constant-vus': {
        const vus = tuple.scale(cfg.vus);
        const t0 = Date.now();
        sc.progressFn = () => (Date.now() - t0) / cfg.durationMs;
        stopAt(cfg.durationMs, cfg.gracefulStopMs);
        const vuList = await Promise.all(Array.from({ length: vus }, acquire));
        await Promise.all(vuList.map((vu) => loop(vu, () => true)));
        break;
      }
      case 'ramping-vus':
        await rampingVus(cfg, sc, tuple, acquire, loop, stopAt);
        break;
      case 'constant-arrival-rate':
      case 'ramping-arrival-rate':
        await arrivalRate(cfg, sc, iterTuple, deps, acquire, dropped, stopAt);
        break;
    }
  } finally {
    for (const t of timers) clearTimeout(t);
    testSignal.removeEventListener('abort', onTestAbort);
    sc.soft.abort();
    sc.hard.abort();
    releaseAll();
  }
}

/** Target VUs at time t (ms) for a ramping-vus scenario, unscaled (k6 linear ramps). */
export function rampingTarget(start: number, stages: readonly Stage[], t: number): number | undefined {
  let from = start;
  let acc = 0;
  for (const s of stages) {
    if (t < acc + s.durationMs) {
      const f = (t - acc) / s.durationMs;
      const v = from + (s.target - from) * f;
      return s.target >= from ? Math.floor(v) : Math.ceil(v);
    }
    acc += s.durationMs;
    from = s.target;
  }
  return undefined;
}

async function rampingVus(
  cfg: Extract<ScenarioConfig, { executor: 'ramping-vus' }>,
  sc: RunningScenario,
  tuple: ExecutionTuple,
  acquire: () => Promise<VU>,
  loop: (vu: VU, more: () => boolean, stop?: AbortSignal) => Promise<void>,
  stopAt: (softMs: number, graceMs: number) => void,
): Promise<void> {
  const total = cfg.stages.reduce((a, s) => a + s.durationMs, 0);
  const t0 = Date.now();
  sc.progressFn = () => (Date.now() - t0) / Math.max(1, total);
  stopAt(total, cfg.gracefulStopMs);
  interface Slot {
    running: Promise<void>;
    stopping: boolean;
    ctrl: AbortController;
    timer?: NodeJS.Timeout;
  }
  const slots: Slot[] = [];
  const running: Promise<void>[] = [];
  const activeCount = () => slots.filter((s) => !s.stopping).length;
  while (!sc.soft.signal.aborted) {
    const t = Date.now() - t0;
    const raw = rampingTarget(cfg.startVUs, cfg.stages, t);
    if (raw === undefined) break;
    const target = tuple.scale(raw);
    while (activeCount() < target) {
      const ctrl = new AbortController();
      sc.hard.signal.addEventListener('abort', () => ctrl.abort(), { once: true });
      const slot: Slot = { running: Promise.resolve(), stopping: false, ctrl };
      slots.push(slot);
      slot.running = acquire().then((vu) => loop(vu, () => !slot.stopping, ctrl.signal));
      running.push(slot.running);
    }
    // Ramp down: the newest VUs stop after their current iteration, or are interrupted
    // once gracefulRampDown has passed.
    const active = slots.filter((s) => !s.stopping);
    for (let i = active.length - 1; i >= 0 && activeCount() > target; i--) {
      const s = active[i] as Slot;
      s.stopping = true;
      s.timer = setTimeout(() => s.ctrl.abort(), cfg.gracefulRampDownMs);
      void s.running.then(() => clearTimeout(s.timer));
    }
    await sleepMs(Math.min(100, Math.max(1, total - t)), sc.soft.signal);
  }
  sc.soft.abort();
  await Promise.all(running);
}

/** Start time (ms from scenario start) of the k-th (0-based) iteration, or undefined after the end. */
export function arrivalTime(
  cfg: Extract<ScenarioConfig, { executor: 'constant-arrival-rate' | 'ramping-arrival-rate' }>,
  k: number,
): number | undefined {
  if (cfg.executor === 'constant-arrival-rate') {
    const t = (k * cfg.timeUnitMs) / cfg.rate;
    return t < cfg.durationMs ? t : undefined;
  }
  let acc = 0;
  let count = 0;
  let from = cfg.startRate;
  for (const s of cfg.stages) {
    const r0 = from / cfg.timeUnitMs;
    const r1 = s.target / cfg.timeUnitMs;
    const d = s.durationMs;
    const inStage = ((r0 + r1) / 2) * d;
    if (count + inStage > k || (k === 0 && count === 0 && (r0 > 0 || r1 > 0))) {
      const need = k - count;
      // r0*t + (r1-r0)/(2d) * t^2 = need
      const a = (r1 - r0) / (2 * d);
      let t: number;
      if (Math.abs(a) < 1e-15) t = r0 > 0 ? need / r0 : 0;
      else {
        const disc = r0 * r0 + 4 * a * need;
        t = (-r0 + Math.sqrt(Math.max(0, disc))) / (2 * a);
      }
      if (t <= d) return acc + Math.max(0, t);
    }
    count += inStage;
    acc += d;
    from = s.target;
  }
  return undefined;
}

async function arrivalRate(
  cfg: Extract<ScenarioConfig, { executor: 'constant-arrival-rate' | 'ramping-arrival-rate' }>,
  sc: RunningScenario,
  iterTuple: ExecutionTuple,
  deps: ScenarioDeps,
  acquire: () => Promise<VU>,
  dropped: (n: number) => void,
  stopAt: (softMs: number, graceMs: number) => void,
): Promise<void> {
  const { ctx, tuple } = deps;
  const span = cfg.executor === 'constant-arrival-rate' ? cfg.durationMs : cfg.stages.reduce((a, s) => a + s.durationMs, 0);
  const t0 = Date.now();
  sc.progressFn = () => (Date.now() - t0) / Math.max(1, span);
  stopAt(span, cfg.gracefulStopMs);
  const pre = tuple.scale(cfg.preAllocatedVUs);
  const max = tuple.scale(cfg.maxVUs);
  const free: VU[] = await Promise.all(Array.from({ length: pre }, acquire));
  let allocated = pre;
  let allocating = false;
  let warned = false;
  const inflight = new Set<Promise<void>>();
  // The striped global iteration numbers this instance starts (k6 GetStripedOffsets).
  const starts = iterTuple.index0();
  for (;;) {
    if (sc.soft.signal.aborted) break;
    const [, unscaled] = starts.next();
    const at = arrivalTime(cfg, unscaled - 1);
    if (at === undefined) break;
    await sleepMs(t0 + at - Date.now(), sc.soft.signal);
    if (sc.soft.signal.aborted) break;
    const vu = free.pop();
    if (!vu) {
      dropped(1);
      if (allocated >= max) {
        if (!warned) {
          ctx.logger.log('warning', `Insufficient VUs, reached ${max} active VUs and cannot initialize more`, {
            executor: cfg.executor,
            scenario: cfg.name,
          });
          warned = true;
        }
      } else if (!allocating) {
        allocating = true;
        allocated++;
        void acquire().then(
          (v) => {
            allocating = false;
            free.push(v);
          },
          () => {
            allocating = false;
          },
        );
      }
      continue;
    }
    ctx.counters.vusActive++;
    const p = vu.runOnce(cfg.exec, sc.hard.signal).then(
      () => {
        ctx.counters.vusActive--;
        sc.localIterations++;
        free.push(vu);
        inflight.delete(p);
      },
      () => {
        ctx.counters.vusActive--;
        inflight.delete(p);
      },
    );
    inflight.add(p);
  }
  sc.soft.abort();
  await Promise.all([...inflight]);
}
