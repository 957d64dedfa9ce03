// One VU: its init context (module scope), its k6 modules, its "event loop" (registered
// callbacks, timers, sleep) and its iterations.
//
// sleep(): k6 blocks the VU's JS thread. Node cannot block one VU, so a VU is "blocked
// until T": callbacks queued for it run only after T, and the iteration ends no earlier
// than T. Code written after sleep() in the same function runs immediately (documented
// deviation, docs/engine.md).
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { EngineContext } from './context.ts';
import { describeThrown, EngineError, ExitCode, TestAbortError } from './errors.ts';
import type { CallbackHandle, MetricsSink, ScriptRealm, Tags, VuRuntime } from './types.ts';
import { nowMs } from './metrics.ts';

export interface ScenarioState {
  readonly name: string;
  readonly executor: string;
  readonly exec: string;
  readonly env: Record<string, string>;
  readonly tags: Tags;
  /** Epoch ms. */
  startTimeMs: number;
  /** Next (local, global) 0-based iteration counters for this scenario (k6 nextIterationCounters). */
  nextIterationCounters(): [number, number];
  progress(): number;
  localIterations: number;
}

export interface IterationResult {
  /** false when interrupted (scenario end + gracefulStop, test abort). */
  full: boolean;
  error?: unknown;
  durationMs: number;
}

class Iteration {
  registered = 0;
  fnDone = false;
  failed = false;
  finished = false;
  error: unknown;
  readonly controller = new AbortController();
  private wake: (() => void) | undefined;
  waiter(): Promise<void> {
    return new Promise((r) => {
      this.wake = r;
    });
  }
  poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}

interface TimerEntry {
  handle: CallbackHandle;
  timer: NodeJS.Timeout;
  interval: boolean;
}

export class VU implements VuRuntime {
  inInit = true;
  /** __ITER (k6 u.iteration): -1 before the first iteration, VU-wide. */
  iteration = -1;
  readonly scenarioIter = new Map<string, number>();
  scenario: ScenarioState | undefined;
  scIterLocal = -1;
  scIterGlobal = -1;
  groupPath = '';
  /** exec.vu.metrics.tags and .metadata (cleared on activation, as in k6). */
  userTags: Tags = {};
  userMetadata: Record<string, string> = {};
  blockedUntil = 0;
  exports: Record<string, unknown> = {};
  readonly env: Record<string, string> = {};
  readonly realm: ScriptRealm;
  private current: Iteration;
  private readonly moduleCache = new Map<string, Record<string, unknown>>();
  private readonly timers = new Map<number, TimerEntry>();
  private nextTimerId = 1;
  private bytesSent = 0;
  private bytesReceived = 0;
  private parsedSetup: unknown;
  private parsedSetupReady = false;
  readonly k6vu: { vu: number; iter: number };

  constructor(
    readonly ctx: EngineContext,
    readonly idInInstance: number,
    readonly idInTest: number,
  ) {
    this.current = new Iteration();
    const g = ctx.script.globals;
    this.realm = {
      Object: g.Object,
      Array: g.Array,
      ArrayBuffer: g.ArrayBuffer,
      Uint8Array: g.Uint8Array,
      Error: g.Error,
      TypeError: g.TypeError,
      SyntaxError: g.SyntaxError,
      Promise: g.Promise,
      JSON: g.JSON,
    };
    const self = this;
    this.k6vu = {
      get vu() {
        return self.idInInstance;
      },
      get iter() {
        return self.iteration < 0 ? 0 : self.iteration;
      },
    };
    Object.assign(this.env, ctx.baseEnv);
  }

  // ---- VuRuntime -------------------------------------------------------------------
  get metrics(): MetricsSink {
    return this.ctx.registry;
  }
  get systemTags(): ReadonlySet<string> {
    return this.ctx.systemTags;
  }
  get userAgent(): string {
    return this.ctx.userAgent;
  }
  get signal(): AbortSignal {
    return this.current.controller.signal;
  }
  tags(): Tags {
    const t: Tags = { ...this.ctx.runTags };
    if (this.scenario) Object.assign(t, this.scenario.tags);
    if (this.ctx.systemTags.has('group')) t.group = this.groupPath;
    if (this.scenario && this.ctx.systemTags.has('scenario')) t.scenario = this.scenario.name;
    Object.assign(t, this.userTags);
    return t;
  }
  metadata(): Record<string, string> {
    const m: Record<string, string> = {};
    if (this.ctx.systemTags.has('vu')) m.vu = String(this.idInInstance);
    if (this.ctx.systemTags.has('iter')) m.iter = String(this.iteration);
    return Object.assign(m, this.userMetadata);
  }
  warn(message: string): void {
    this.ctx.logger.log('warning', message, this.logFields());
  }
  countData(sent: number, received: number): void {
    this.bytesSent += sent;
    this.bytesReceived += received;
  }
  onRunEnd(dispose: () => void): () => void {
    const hooks = this.ctx.runEndHooks;
    hooks.add(dispose);
    return () => hooks.delete(dispose);
  }
  registerCallback(): CallbackHandle {
    const it = this.current;
    it.registered++;
    let released = false;
    return {
      enqueue: (fn) => {
        if (it.finished) return;
        it.registered++;
        queueMicrotask(() => this.runTask(it, fn));
      },
      release: () => {
        if (released) return;
        released = true;
        it.registered--;
        it.poke();
      },
    };
  }

  logFields(): Record<string, string> {
    return this.scenario ? { executor: this.scenario.executor, scenario: this.scenario.name } : {};
  }

  private runTask(it: Iteration, fn: () => void): void {
    if (it.finished) return;
    const wait = this.blockedUntil - Date.now();
    if (wait > 0) {
      setTimeout(() => this.runTask(it, fn), wait);
      return;
    }
    try {
      fn();
    } catch (e) {
      this.fail(it, e, false);
    } finally {
      it.registered--;
      it.poke();
    }
  }

  private fail(it: Iteration, e: unknown, inPromise: boolean): void {
    if (e instanceof TestAbortError) {
      this.ctx.abortTest(e.reason);
    } else if (!it.failed) {
      // k6: a thrown exception carries hint/source (runner.go runFn); an unhandled rejection
      // is logged by the event loop with the VU's fields only.
      this.ctx.logger.log(
        'error',
        `${inPromise ? 'Uncaught (in promise) ' : ''}${describeThrown(e)}`,
        inPromise
          ? this.logFields()
          : { ...this.logFields(), ...(this.inInit ? {} : { hint: 'script exception' }), source: 'stacktrace' },
      );
    }
    if (!it.failed) {
      it.failed = true;
      it.error = e;
      // k6 runFn: the iteration context is cancelled, then WaitOnRegistered.
      it.controller.abort();
    }
    it.poke();
  }

  // ---- timers (k6/timers and the globals) ---------------------------------------------
  setTimeout = (fn: unknown, ms?: unknown, ...args: unknown[]): number => this.addTimer(fn, ms, args, false);
  setInterval = (fn: unknown, ms?: unknown, ...args: unknown[]): number => this.addTimer(fn, ms, args, true);
  clearTimeout = (id: unknown): void => this.clearTimer(id);
  clearInterval = (id: unknown): void => this.clearTimer(id);

  private addTimer(fn: unknown, ms: unknown, args: unknown[], interval: boolean): number {
    if (typeof fn !== 'function') throw new this.realm.TypeError('setTimeout/setInterval: callback must be a function');
    const delay = Math.max(0, Number(ms) || 0);
    const id = this.nextTimerId++;
    const handle = this.registerCallback();
    const call = () => (fn as (...a: unknown[]) => void)(...args);
    const timer = interval
      ? setInterval(() => handle.enqueue(call), Math.max(1, delay))
      : setTimeout(() => {
          this.timers.delete(id);
          handle.enqueue(call);
          handle.release();
        }, delay);
    this.timers.set(id, { handle, timer, interval });
    return id;
  }
  private clearTimer(id: unknown): void {
    const t = this.timers.get(Number(id));
    if (!t) return;
    this.timers.delete(Number(id));
    clearTimeout(t.timer);
    t.handle.release();
  }
  private clearAllTimers(): void {
    for (const [id, t] of this.timers) {
      clearTimeout(t.timer);
      t.handle.release();
      this.timers.delete(id);
    }
  }

  /** k6 sleep(): the VU is blocked until now + seconds (accumulating). */
  sleep(seconds: number): void {
    const now = Date.now();
    this.blockedUntil = Math.max(this.blockedUntil, now) + Math.max(0, seconds) * 1000;
  }

  // ---- init -------------------------------------------------------------------------
  private requireModule = (name: string): unknown => {
    const cached = this.moduleCache.get(name);
    if (cached) return cached;
    if (!this.inInit) throw new this.realm.Error(`require() is only available in the init context`);
    const factory = this.ctx.modules.get(name);
    if (!factory) {
      throw new EngineError(`unknown module "${name}": this engine does not implement it`, ExitCode.scriptException);
    }
    const exports = factory(this);
    // esbuild's CJS interop: with __esModule, `import x from 'k6/…'` reads exports.default.
    if (!('default' in exports)) Object.defineProperty(exports, 'default', { value: exports, enumerable: false });
    Object.defineProperty(exports, '__esModule', { value: true, enumerable: false });
    const wanted = this.ctx.script.imports.filter((i) => i.module === name).flatMap((i) => i.names);
    for (const w of wanted) {
      if (w === '*' || w === 'default') continue;
      if (!(w in exports)) {
        throw new EngineError(
          `"${w}" is not exported by the module "${name}" as implemented by this engine (imported by the script)`,
          ExitCode.scriptException,
        );
      }
    }
    this.moduleCache.set(name, exports);
    return exports;
  };

  private open = (path: unknown, mode?: unknown): unknown => {
    if (!this.inInit) throw new this.realm.Error('open() can be used only in the init context');
    if (typeof path !== 'string' || path === '') throw new this.realm.TypeError('open() needs a file path');
    const abs = isAbsolute(path) ? path : resolvePath(this.ctx.script.dir, path.replace(/^file:\/\//, ''));
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw new this.realm.Error(`open ${abs}: no such file or directory`);
    }
    if (st.isDirectory()) throw new this.realm.Error(`open() can't be used with directories, path: "${abs}"`);
    const buf = readFileSync(abs);
    if (mode === 'b') {
      const ab = new this.realm.ArrayBuffer(buf.byteLength);
      new this.realm.Uint8Array(ab).set(buf);
      return ab;
    }
    return buf.toString('utf8');
  };

  /** Runs the script's init code for this VU (the event loop included, as in k6). */
  async init(consoleObj: unknown): Promise<void> {
    const it = this.current;
    const module = { exports: {} as Record<string, unknown> };
    try {
      this.exports = this.ctx.script.instantiate({
        require: this.requireModule,
        module,
        k6vu: this.k6vu,
        env: this.env,
        open: this.open,
        setTimeout: this.setTimeout,
        clearTimeout: this.clearTimeout,
        setInterval: this.setInterval,
        clearInterval: this.clearInterval,
        console: consoleObj,
      });
    } catch (e) {
      if (e instanceof EngineError) throw e;
      if (e instanceof TestAbortError) throw new EngineError(e.reason, ExitCode.scriptAborted);
      throw new EngineError(describeThrown(e), ExitCode.scriptException, true);
    }
    // k6 waits for the init event loop forever (a setInterval in init hangs it); the engine
    // gives up after ctx.initTimeoutMs so a bad script never hangs the process.
    let timedOut = false;
    const limit = setTimeout(() => {
      timedOut = true;
      it.poke();
    }, this.ctx.initTimeoutMs);
    try {
      while (it.registered > 0 && !it.failed && !timedOut) await it.waiter();
    } finally {
      clearTimeout(limit);
    }
    if (timedOut) {
      it.finished = true;
      it.controller.abort();
      this.clearAllTimers();
      throw new EngineError(
        `the init context did not finish within ${this.ctx.initTimeoutMs / 1000}s: a timer or promise started in init never settles (k6 would hang here)`,
        ExitCode.scriptException,
      );
    }
    if (it.failed) throw new EngineError(describeThrown(it.error), ExitCode.scriptException, true);
    this.inInit = false;
    this.current = new Iteration();
  }

  // ---- activation and iterations --------------------------------------------------------
  activate(sc: ScenarioState): void {
    this.scenario = sc;
    for (const k of Object.keys(this.env)) delete this.env[k];
    Object.assign(this.env, this.ctx.baseEnv, sc.env);
    this.userTags = {};
    this.userMetadata = {};
    this.groupPath = '';
  }

  setupData(): unknown {
    if (!this.parsedSetupReady) {
      this.parsedSetupReady = true;
      this.parsedSetup = this.ctx.setupDataJSON === undefined ? undefined : this.realm.JSON.parse(this.ctx.setupDataJSON);
    }
    return this.parsedSetup;
  }

  /**
   * Runs one iteration of `fnName` (k6 ActiveVU.RunOnce + runFn). `interrupt` aborts it
   * (scenario end + gracefulStop or test abort): the result is then not full.
   * `emitIterationSamples` is false for setup/teardown/handleSummary.
   */
  async runOnce(
    fnName: string,
    interrupt: AbortSignal,
    { args, countIteration = true, isDefault = true }: { args?: unknown[]; countIteration?: boolean; isDefault?: boolean } = {},
  ): Promise<IterationResult & { value?: unknown }> {
    if (interrupt.aborted) return { full: false, durationMs: 0 };
    const it = new Iteration();
    this.current = it;
    if (countIteration) {
      this.iteration++;
      const sc = this.scenario;
      if (sc) {
        this.scenarioIter.set(sc.name, (this.scenarioIter.get(sc.name) ?? -1) + 1);
        [this.scIterLocal, this.scIterGlobal] = sc.nextIterationCounters();
      }
    }
    this.bytesSent = 0;
    this.bytesReceived = 0;
    const start = nowMs();
    this.blockedUntil = 0;
    let interrupted = false;
    const onInterrupt = () => {
      interrupted = true;
      it.controller.abort();
      it.poke();
    };
    interrupt.addEventListener('abort', onInterrupt, { once: true });
    let value: unknown;
    try {
      const fn = this.exports[fnName];
      if (typeof fn !== 'function') throw new EngineError(`function '${fnName}' not found in exports`, ExitCode.invalidConfig);
      const r = (fn as (...a: unknown[]) => unknown)(...(args ?? [this.setupData()]));
      if (r && typeof (r as PromiseLike<unknown>).then === 'function') {
        (r as PromiseLike<unknown>).then(
          (v) => {
            value = v;
            it.fnDone = true;
            it.poke();
          },
          (e: unknown) => {
            it.fnDone = true;
            this.fail(it, e, true);
          },
        );
      } else {
        value = r;
        it.fnDone = true;
      }
    } catch (e) {
      it.fnDone = true;
      if (e instanceof EngineError) throw e;
      this.fail(it, e, false);
    }
    // The event loop: until the function is done, every callback released and sleep over.
    for (;;) {
      if (interrupted) break;
      if (it.failed && it.registered <= 0) break;
      if (it.fnDone && it.registered <= 0) {
        const wait = this.blockedUntil - Date.now();
        if (wait <= 0) break;
        await Promise.race([new Promise((r) => setTimeout(r, wait)), it.waiter()]);
        continue;
      }
      await it.waiter();
    }
    interrupt.removeEventListener('abort', onInterrupt);
    it.finished = true;
    // k6 timers.go: timers still pending when the iteration's context is cancelled are logged.
    if (interrupted || it.failed) {
      for (const [id, t] of this.timers) {
        this.ctx.logger.log('warning', `${t.interval ? 'setInterval' : 'setTimeout'} ${id} was stopped because the VU iteration was interrupted`);
      }
    }
    if (!it.controller.signal.aborted) it.controller.abort();
    this.clearAllTimers();
    const end = nowMs();
    const full = !interrupted;
    const tags = this.tags();
    const metadata = this.metadata();
    const samples = [];
    if (this.bytesSent > 0 || this.bytesReceived > 0 || countIteration) {
      samples.push(
        { metric: this.ctx.builtins.dataSent, time: end, value: this.bytesSent, tags, metadata },
        { metric: this.ctx.builtins.dataReceived, time: end, value: this.bytesReceived, tags, metadata },
      );
    }
    if (full && isDefault && countIteration) {
      samples.push(
        { metric: this.ctx.builtins.iterationDuration, time: end, value: end - start, tags, metadata },
        { metric: this.ctx.builtins.iterations, time: end, value: 1, tags, metadata },
      );
    }
    if (samples.length) this.ctx.registry.push(samples);
    if (countIteration) {
      if (full) this.ctx.counters.iterationsCompleted++;
      else this.ctx.counters.iterationsInterrupted++;
    }
    return { full, durationMs: end - start, value, ...(it.failed ? { error: it.error } : {}) };
  }
}
