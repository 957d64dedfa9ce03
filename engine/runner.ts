// The run: load → init → options → thresholds → outputs → setup → scenarios → teardown →
// summary, with k6's exit codes. Used by the CLI and (through index.ts) by tests.
import { setMaxListeners } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type EngineContext, type InstanceCounters, newGroup } from './context.ts';
import { parseDuration } from './duration.ts';
import { describeThrown, EngineError, ExitCode, TestAbortError } from './errors.ts';
import { runScenario, type VuPool } from './executors.ts';
import { loadScript } from './loader.ts';
import { createStderrLogger, formatLogLine, type Logger } from './log.ts';
import { MetricRegistry, nowMs, registerBuiltins } from './metrics.ts';
import { moduleRegistry } from './modules/index.ts';
import { CONFIG_PROBLEMS, deriveScenarios, type ScenarioConfig, scenarioMaxVUs, scenarioSpanMs, type Shortcuts } from './options.ts';
import { createOutput } from './outputs/index.ts';
import type { Output } from './outputs/types.ts';
import { ExecutionTuple, parseSegment, parseSequence } from './segments.ts';
import { buildSummaryData, buildSummaryExport, DEFAULT_TREND_STATS, textSummary } from './summary.ts';
import { buildThresholds, evaluateThresholds, type ThresholdSet } from './thresholds.ts';
import { VU } from './vu.ts';

export const K6_VERSION = '2.2.0';
export const STARTUP_LINE = `engine: in-process implementation of the k6 API (not k6), following k6 v${K6_VERSION}`;

const DEFAULT_SYSTEM_TAGS = [
  'proto',
  'subproto',
  'status',
  'method',
  'url',
  'name',
  'group',
  'check',
  'error',
  'error_code',
  'tls_version',
  'scenario',
  'service',
  'expected_response',
];

export interface RunOptions {
  script: string;
  /** -e K=V (applied over the system environment unless includeSystemEnv is false). */
  env?: Record<string, string>;
  includeSystemEnv?: boolean;
  vus?: number;
  duration?: string;
  iterations?: number;
  /** --tag K=V */
  tags?: Record<string, string>;
  /** -o specs: `json=FILE`, `influxdb=URL`, `xk6-influxdb=URL`. */
  out?: string[];
  summaryExport?: string;
  executionSegment?: string;
  executionSegmentSequence?: string;
  quiet?: boolean;
  noSummary?: boolean;
  /** --system-tags */
  systemTags?: string[];
  /** Where stdout/stderr go (default: the process streams). */
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
  /** Extra margin of the watchdog beyond durations and grace periods (ms). Default 30 s. */
  watchdogMarginMs?: number;
  /** Limit for one VU's init context, timers and promises included (default 60 s; k6 has none and hangs). */
  initTimeoutMs?: number;
  /** Environment used to resolve K6_* variables (default process.env). */
  processEnv?: Record<string, string | undefined>;
  /** --no-color (k6 also honours K6_NO_COLOR and NO_COLOR): handleSummary's options.noColor. */
  noColor?: boolean;
  /** Treated as stdout/stderr TTY in summary data. */
  isTTY?: boolean;
  /** An external stop (the CLI's SIGINT/SIGTERM): graceful stop, exit code 105 as in k6. */
  signal?: AbortSignal;
  /** Name of the signal for the log line (default "interrupt"). */
  signalName?: () => string;
}

export interface RunResult {
  exitCode: number;
  /** handleSummary's data (k6 legacy shape), when the run got that far. */
  summaryData?: Record<string, unknown>;
  /** The error that ended the run early, if any. */
  error?: string;
  /** Whether thresholds failed. */
  thresholdsFailed?: boolean;
  aborted?: boolean;
}

function consoleFor(logger: Logger, _vuFields: () => Record<string, string>) {
  const fmt = (args: unknown[]) =>
    args
      .map((a) => {
        if (typeof a === 'string') return a;
        if (a instanceof Error || (a && typeof a === 'object' && 'message' in a && 'stack' in a)) return String((a as Error).message);
        if (typeof a === 'object' && a !== null) {
          try {
            return JSON.stringify(a);
          } catch {
            return String(a);
          }
        }
        return String(a);
      })
      .join(' ');
  const at =
    (level: 'info' | 'warning' | 'error' | 'debug') =>
    (...args: unknown[]) =>
      logger.log(level, fmt(args), { source: 'console' }); // k6's console lines carry only source=console
  return { log: at('info'), info: at('info'), warn: at('warning'), error: at('error'), debug: () => undefined };
}

/** What Go's encoding/json refuses in a value sobek exported (k6 setup() data), or undefined. */
function unsupportedJson(v: unknown, seen = new Set<unknown>()): string | undefined {
  if (typeof v === 'function') return 'unsupported type: func(sobek.FunctionCall) sobek.Value';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'unsupported value: NaN';
    if (!Number.isFinite(v)) return `unsupported value: ${v > 0 ? '+Inf' : '-Inf'}`;
    return undefined;
  }
  if (v === null || typeof v !== 'object' || seen.has(v)) return undefined;
  seen.add(v);
  for (const x of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
    const bad = unsupportedJson(x, seen);
    if (bad) return bad;
  }
  return undefined;
}

/**
 * The value as Go's encoding/json writes what sobek exported (k6 setup() data): object keys
 * sorted, undefined → null, a Date as RFC 3339 with trimmed nanoseconds, a Map as its
 * [key, value] pairs, a Set as its values.
 */
function goJsonValue(v: unknown, seen = new Set<unknown>()): unknown {
  if (v === undefined) return null;
  if (v === null || typeof v !== 'object') return v;
  if (seen.has(v)) return null;
  const kind = Object.prototype.toString.call(v);
  if (kind === '[object Date]') {
    const t = (v as Date).getTime();
    if (Number.isNaN(t)) return null;
    return (v as Date).toISOString().replace(/\.(\d*?)0*Z$/, (_m, f: string) => (f ? `.${f}Z` : 'Z'));
  }
  seen.add(v);
  try {
    if (kind === '[object Map]') return [...(v as Map<unknown, unknown>).entries()].map(([k, x]) => [goJsonValue(k, seen), goJsonValue(x, seen)]);
    if (kind === '[object Set]') return [...(v as Set<unknown>).values()].map((x) => goJsonValue(x, seen));
    if (Array.isArray(v)) return v.map((x) => goJsonValue(x, seen));
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = goJsonValue((v as Record<string, unknown>)[k], seen);
    return out;
  } finally {
    seen.delete(v);
  }
}

/** K6_TAGS: `k=v,k2=v2`. */
function parseTagList(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function numberOpt(v: unknown, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

export async function runK6(opts: RunOptions): Promise<RunResult> {
  const stdout = opts.stdout ?? ((s: string) => void process.stdout.write(s));
  const stderr = opts.stderr ?? ((s: string) => void process.stderr.write(s));
  const logger = createStderrLogger(stderr);
  stderr(`${STARTUP_LINE}\n`);
  const penv = opts.processEnv ?? process.env;
  const outputs: Output[] = [];
  const cleanups: (() => void)[] = [];
  // A promise the script rejects and never handles: k6 logs it ("Uncaught (in promise)");
  // Node would otherwise end the process.
  const onUnhandled = (reason: unknown) => logger.log('error', `Uncaught (in promise) ${describeThrown(reason)}`, { source: 'stacktrace' });
  process.on('unhandledRejection', onUnhandled);
  cleanups.push(() => process.off('unhandledRejection', onUnhandled));
  // Second stage of the watchdog: if the run still has not finished some time after the
  // first stage aborted it, give up on it and return (the CLI then exits the process).
  let hardTimer: NodeJS.Timeout | undefined;
  let armHardStop: (ms: number) => void = () => undefined;
  const hardStop = new Promise<RunResult>((resolve) => {
    armHardStop = (ms: number) => {
      hardTimer = setTimeout(() => {
        logger.log('error', 'engine watchdog: the run did not stop after being aborted; giving up on it');
        resolve({ exitCode: ExitCode.genericTimeout, error: 'watchdog' });
      }, ms);
    };
  });
  cleanups.push(() => clearTimeout(hardTimer));
  try {
    return await Promise.race([run(opts, logger, stdout, stderr, penv, outputs, cleanups, (ms) => armHardStop(ms)), hardStop]);
  } catch (e) {
    const code = e instanceof EngineError ? e.exitCode : ExitCode.generic;
    const msg = e instanceof EngineError ? e.message : describeThrown(e);
    const hint: Record<string, string> = code === ExitCode.scriptException ? { hint: 'script exception' } : {};
    if (e instanceof EngineError && e.fromScript) hint.source = 'stacktrace';
    if (code !== ExitCode.scriptAborted) logger.log('error', msg, hint); // abortTest() already logged it
    return { exitCode: code === ExitCode.generic && !(e instanceof EngineError) ? 255 : code, error: msg };
  } finally {
    for (const c of cleanups) c();
    await Promise.allSettled(outputs.map((o) => o.stop()));
  }
}

async function run(
  opts: RunOptions,
  logger: Logger,
  stdout: (s: string) => void,
  stderr: (s: string) => void,
  penv: Record<string, string | undefined>,
  outputs: Output[],
  cleanups: (() => void)[],
  armHardStop: (ms: number) => void,
): Promise<RunResult> {
  const modules = await moduleRegistry();
  const script = await loadScript(opts.script);
  for (const imp of script.imports) {
    if (!modules.has(imp.module)) {
      throw new EngineError(
        `unknown module "${imp.module}" imported by ${imp.file}: this engine does not implement it`,
        ExitCode.scriptException,
      );
    }
  }
  const registry = new MetricRegistry();
  const builtins = registerBuiltins(registry);
  const baseEnv: Record<string, string> = {};
  if (opts.includeSystemEnv !== false) for (const [k, v] of Object.entries(penv)) if (v !== undefined) baseEnv[k] = v;
  Object.assign(baseEnv, opts.env ?? {});

  const counters: InstanceCounters = { iterationsCompleted: 0, iterationsInterrupted: 0, vusActive: 0, vusInitialized: 0 };
  const testAbort = new AbortController();
  setMaxListeners(0, testAbort.signal);
  if (opts.signal) {
    const onExternal = () => {
      if (!abortReason) {
        abortReason = {
          code: ExitCode.externalAbort,
          msg: `test run was aborted because k6 received a '${opts.signalName?.() ?? 'interrupt'}' signal`,
        };
        logger.log('error', abortReason.msg);
      }
      testAbort.abort();
    };
    if (opts.signal.aborted) onExternal();
    else opts.signal.addEventListener('abort', onExternal, { once: true });
  }
  let abortReason: { code: number; msg: string } | undefined;
  let markedFailed = false;
  const options: Record<string, unknown> = {};
  const systemTags = new Set<string>(opts.systemTags ?? DEFAULT_SYSTEM_TAGS);
  const runTags: Record<string, string> = {};
  const ctx: EngineContext = {
    script,
    registry,
    builtins,
    logger,
    modules,
    options,
    systemTags,
    runTags,
    baseEnv,
    userAgent: `Grafana k6/${K6_VERSION}`,
    throwOnAddErrors: false,
    sharedArrays: new Map(),
    runEndHooks: new Set(),
    initTimeoutMs: opts.initTimeoutMs ?? 60_000,
    rootGroup: newGroup('', ''),
    counters,
    testStartMs: 0,
    setupDataJSON: undefined,
    abortTest(reason: string) {
      if (!abortReason) {
        abortReason = { code: ExitCode.scriptAborted, msg: reason };
        logger.log('error', reason);
      }
      testAbort.abort();
    },
    failTest(reason: string) {
      markedFailed = true;
      logger.log('error', reason);
    },
    get aborted() {
      return testAbort.signal.aborted;
    },
  };

  // When the run ends, however it ends (also when the watchdog gives up on it): stop what
  // may still run and let every module drop its sockets, requests and timers, so nothing of
  // the run keeps the process alive after runK6 returns.
  cleanups.push(() => {
    testAbort.abort();
    for (const dispose of [...ctx.runEndHooks]) {
      try {
        dispose();
      } catch {
        // a module's disposer must not keep the others from running
      }
    }
    ctx.runEndHooks.clear();
  });

  // ---- VU ids (execution segments) -----------------------------------------------------
  let tuple: ExecutionTuple;
  try {
    const seg = opts.executionSegment ? parseSegment(opts.executionSegment) : undefined;
    const seq = opts.executionSegmentSequence ? parseSequence(opts.executionSegmentSequence) : undefined;
    tuple = ExecutionTuple.create(seg, seq);
  } catch (e) {
    throw new EngineError((e as Error).message, ExitCode.invalidConfig);
  }
  const vuIds = tuple.index0();
  const allVus: VU[] = [];
  const newVu = async (): Promise<VU> => {
    const [local, global] = vuIds.next();
    const vu = new VU(ctx, local, global);
    await vu.init(consoleFor(logger, () => vu.logFields()));
    allVus.push(vu);
    counters.vusInitialized++;
    return vu;
  };

  // ---- first VU: the script's options --------------------------------------------------
  const first = await newVu();
  const exportedOptions = first.exports.options;
  let scriptOptions: Record<string, unknown> = {};
  if (exportedOptions !== undefined) {
    try {
      scriptOptions = JSON.parse(JSON.stringify(exportedOptions)) as Record<string, unknown>;
    } catch (e) {
      throw new EngineError(`options could not be serialized: ${(e as Error).message}`, ExitCode.invalidConfig);
    }
  }
  Object.assign(options, scriptOptions);
  if (opts.vus !== undefined) options.vus = opts.vus;
  if (opts.duration !== undefined) options.duration = opts.duration;
  if (opts.iterations !== undefined) options.iterations = opts.iterations;
  // k6 lib/options.go Apply: a higher tier's tags REPLACE the lower one's (script < K6_TAGS <
  // --tag); they are not merged.
  const envTags = penv.K6_TAGS ? parseTagList(penv.K6_TAGS) : undefined;
  const cliTags = opts.tags && Object.keys(opts.tags).length > 0 ? opts.tags : undefined;
  Object.assign(runTags, cliTags ?? envTags ?? (scriptOptions.tags as Record<string, string> | undefined) ?? {});
  if (!opts.systemTags) {
    const st = (penv.K6_SYSTEM_TAGS?.split(',').map((s) => s.trim()).filter(Boolean) ?? scriptOptions.systemTags) as string[] | undefined;
    if (Array.isArray(st)) {
      systemTags.clear();
      for (const t of st) systemTags.add(String(t));
    }
  }
  (ctx as { userAgent: string }).userAgent = typeof scriptOptions.userAgent === 'string' ? scriptOptions.userAgent : ctx.userAgent;
  (ctx as { throwOnAddErrors: boolean }).throwOnAddErrors = scriptOptions.throw === true;
  const trendStats = Array.isArray(scriptOptions.summaryTrendStats) ? (scriptOptions.summaryTrendStats as string[]) : DEFAULT_TREND_STATS;
  for (const s of trendStats) {
    if (!/^(avg|min|med|max|count|p\(\d+(\.\d+)?\))$/.test(s)) {
      throw new EngineError(`stat '${s}' is not supported in summaryTrendStats`, ExitCode.invalidConfig);
    }
  }
  const shortcuts: Shortcuts = {
    ...(opts.vus !== undefined ? { vus: opts.vus } : {}),
    ...(opts.duration !== undefined ? { duration: opts.duration } : {}),
    ...(opts.iterations !== undefined ? { iterations: opts.iterations } : {}),
  };
  let scenarios: ScenarioConfig[];
  try {
    // Tiers, lowest first: script < environment (K6_VUS, K6_DURATION, K6_ITERATIONS) < CLI.
    const envTier: Shortcuts = {};
    if (penv.K6_VUS !== undefined && /^\d+$/.test(penv.K6_VUS)) envTier.vus = Number(penv.K6_VUS);
    if (penv.K6_DURATION) envTier.duration = penv.K6_DURATION;
    if (penv.K6_ITERATIONS !== undefined && /^\d+$/.test(penv.K6_ITERATIONS)) envTier.iterations = Number(penv.K6_ITERATIONS);
    scenarios = deriveScenarios(scriptOptions, envTier, { ...shortcuts, warn: (m) => logger.log('warning', m) });
  } catch (e) {
    const msg = (e as Error).message;
    // k6 decodes scenarios while loading the test (internal/cmd/test_load.go): those errors
    // carry its "could not initialize" prefix; validation errors come later, unprefixed.
    const prefix = /^(json: |unknown executor type )/.test(msg)
      ? `could not initialize '${opts.script}': could not load JS test '${pathToFileURL(resolvePath(opts.script)).href}': `
      : '';
    throw new EngineError(prefix + msg, e instanceof EngineError ? e.exitCode : ExitCode.invalidConfig);
  }
  const missing = scenarios.filter((sc) => typeof first.exports[sc.exec] !== 'function');
  if (missing.length > 0) {
    throw new EngineError(
      `${CONFIG_PROBLEMS}${missing.map((sc) => `\n\t- executor ${sc.name}: function '${sc.exec}' not found in exports`).join('')}`,
      ExitCode.invalidConfig,
    );
  }
  const thresholds: ThresholdSet[] = buildThresholds(scriptOptions.thresholds, registry, (m) => logger.log('warning', m));
  const setupTimeoutMs = scriptOptions.setupTimeout !== undefined ? parseDuration(scriptOptions.setupTimeout) : 60_000;
  const teardownTimeoutMs = scriptOptions.teardownTimeout !== undefined ? parseDuration(scriptOptions.teardownTimeout) : 60_000;
  const handleSummaryTimeoutMs =
    scriptOptions.handleSummaryTimeout !== undefined ? parseDuration(scriptOptions.handleSummaryTimeout) : 120_000;

  // ---- outputs -------------------------------------------------------------------------
  for (const spec of opts.out ?? []) {
    const o = createOutput(spec, { env: penv, logger, runTags });
    outputs.push(o);
  }
  for (const o of outputs) {
    o.setThresholds?.(thresholds);
    await o.start();
  }
  if (outputs.length > 0) registry.onSamples((s) => outputs.forEach((o) => o.addSamples(s)));

  // ---- plan and initialize the VUs -------------------------------------------------------
  const spans = scenarios.map((s) => ({ start: s.startTimeMs, end: s.startTimeMs + scenarioSpanMs(s), vus: plannedVus(s, tuple) }));
  let peak = 0;
  for (const a of spans) {
    const concurrent = spans.filter((b) => b.start <= a.start && b.end > a.start).reduce((x, b) => x + b.vus, 0);
    peak = Math.max(peak, concurrent);
  }
  const free: VU[] = [first];
  while (allVus.length < peak) free.push(await newVu());
  const pool: VuPool = {
    take: () => free.pop(),
    give: (vu) => {
      free.push(vu);
    },
    grow: () => newVu(),
  };
  const pushVus = () => {
    const t = nowMs();
    registry.push([
      { metric: builtins.vus, time: t, value: counters.vusActive, tags: { ...runTags } },
      { metric: builtins.vusMax, time: t, value: counters.vusInitialized, tags: { ...runTags } },
    ]);
  };

  // ---- watchdog --------------------------------------------------------------------------
  const longest = Math.max(0, ...spans.map((s) => s.end));
  const watchdogMs = longest + setupTimeoutMs + teardownTimeoutMs + (opts.watchdogMarginMs ?? 30_000);
  let watchdogFired = false;
  // teardown() and handleSummary() run with k6's global context: a test abort does not
  // interrupt them (execution/scheduler.go), only their timeouts and the watchdog do.
  const watchdogAbort = new AbortController();
  const watchdog = setTimeout(() => {
    watchdogFired = true;
    watchdogAbort.abort();
    logger.log('error', `engine watchdog: the run exceeded its planned ${Math.round(watchdogMs / 1000)}s (durations + grace periods + margin); stopping it`);
    testAbort.abort();
  }, watchdogMs);
  watchdog.unref();
  cleanups.push(() => clearTimeout(watchdog));
  armHardStop(watchdogMs + 15_000);

  // ---- setup -----------------------------------------------------------------------------
  const runStart = Date.now();
  ctx.testStartMs = runStart;
  let helper: VU | undefined;
  const helperVu = async (): Promise<VU> => {
    if (!helper) {
      helper = new VU(ctx, 0, 0);
      await helper.init(consoleFor(logger, () => ({})));
    }
    return helper;
  };
  const withTimeout = (ms: number, stop: AbortSignal = testAbort.signal) => {
    const c = new AbortController();
    const t = setTimeout(() => c.abort(), ms);
    const onStop = () => c.abort();
    if (stop.aborted) c.abort();
    else stop.addEventListener('abort', onStop, { once: true });
    return {
      signal: c.signal,
      done: () => {
        clearTimeout(t);
        stop.removeEventListener('abort', onStop);
      },
    };
  };
  let setupData: unknown;
  let setupCompleted = true;
  let runError: { code: number } | undefined;
  if (typeof first.exports.setup === 'function') {
    const h = await helperVu();
    h.activate({ name: 'setup', executor: '', exec: 'setup', env: {}, tags: {}, startTimeMs: Date.now(), nextIterationCounters: () => [0, 0], progress: () => 0, localIterations: 0 });
    h.scenario = undefined;
    const to = withTimeout(setupTimeoutMs);
    const r = await h.runOnce('setup', to.signal, { args: [], countIteration: false, isDefault: false });
    to.done();
    if (!r.full && !testAbort.signal.aborted) {
      throw new EngineError(`setup() execution timed out after ${setupTimeoutMs / 1000} seconds`, ExitCode.setupTimeout);
    }
    // k6: an exception in setup() is logged once (the VU logged it), no scenario and no
    // teardown run, the summary (handleSummary) still does, and the exit code is 107.
    if (r.error !== undefined && !abortReason) runError = { code: ExitCode.scriptException };
    if (!r.full || r.error !== undefined) setupCompleted = false;
    if (setupCompleted && r.value !== undefined) {
      // k6 marshals the exported value with Go's encoding/json: functions and non-finite
      // numbers are errors (exit 255 after the summary); an undefined property becomes null.
      const bad = unsupportedJson(r.value);
      if (bad) {
        logger.log('error', `error marshaling setup() data to JSON: json: ${bad}`);
        runError = { code: 255 };
        setupCompleted = false;
      } else {
        ctx.setupDataJSON = JSON.stringify(goJsonValue(r.value));
        setupData = JSON.parse(ctx.setupDataJSON);
      }
    }
  }

  // ---- scenarios, vus sampling, threshold evaluation ------------------------------------
  pushVus();
  const vusTimer = setInterval(pushVus, 1000);
  let thresholdAbort = false;
  const thTimer = setInterval(() => {
    const r = evaluateThresholds(thresholds, Date.now() - runStart);
    if (r.abort && !thresholdAbort) {
      thresholdAbort = true;
      logger.log(
        'error',
        `thresholds on metrics '${r.breached.join(', ')}' were crossed; at least one has abortOnFail enabled, stopping test prematurely`,
      );
      testAbort.abort();
    }
  }, 2000);
  cleanups.push(() => {
    clearInterval(vusTimer);
    clearInterval(thTimer);
  });
  if (!testAbort.signal.aborted && setupCompleted) {
    await Promise.all(
      scenarios.map(async (sc) => {
        if (sc.startTimeMs > 0) {
          await new Promise<void>((r) => {
            const t = setTimeout(r, sc.startTimeMs);
            testAbort.signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
          });
        }
        if (testAbort.signal.aborted) return;
        await runScenario(sc, { ctx, pool, tuple, testSignal: testAbort.signal });
      }),
    );
  }
  clearInterval(vusTimer);
  clearInterval(thTimer);
  pushVus();
  const runDurationMs = Date.now() - runStart;

  // ---- teardown --------------------------------------------------------------------------
  // k6 runs teardown() after the executors whatever ended them (test.abort(), abortOnFail,
  // a signal), but not when setup() did not complete.
  if (typeof first.exports.teardown === 'function' && setupCompleted) {
    const h = await helperVu();
    const to = withTimeout(teardownTimeoutMs, watchdogAbort.signal);
    const r = await h.runOnce('teardown', to.signal, {
      args: [ctx.setupDataJSON === undefined ? undefined : h.realm.JSON.parse(ctx.setupDataJSON)],
      countIteration: false,
      isDefault: false,
    });
    to.done();
    if (r.error !== undefined && !(r.error instanceof TestAbortError)) runError ??= { code: ExitCode.scriptException }; // k6: exit 107
    if (!r.full && !watchdogAbort.signal.aborted) {
      throw new EngineError(`teardown() execution timed out after ${teardownTimeoutMs / 1000} seconds`, ExitCode.teardownTimeout);
    }
  }

  // ---- thresholds and summary ----------------------------------------------------------------
  const final = evaluateThresholds(thresholds, runDurationMs);
  const thresholdsFailed = final.anyFailed || thresholdAbort;
  const isTTY = opts.isTTY ?? false;
  const summaryData = buildSummaryData({
    registry,
    thresholds,
    rootGroup: ctx.rootGroup,
    trendStats,
    summaryTimeUnit: typeof scriptOptions.summaryTimeUnit === 'string' ? scriptOptions.summaryTimeUnit : '',
    // k6 cmd/state: --no-color, K6_NO_COLOR, or NO_COLOR present.
    noColor: opts.noColor ?? ((penv.K6_NO_COLOR !== undefined && penv.K6_NO_COLOR !== '' && penv.K6_NO_COLOR !== 'false') || penv.NO_COLOR !== undefined),
    isStdOutTTY: isTTY,
    isStdErrTTY: isTTY,
    testRunDurationMs: runDurationMs,
    setupData,
  });
  if (opts.summaryExport) {
    await writeFile(resolvePath(opts.summaryExport), `${JSON.stringify(buildSummaryExport(summaryData), null, 4)}\n`);
  }
  if (!opts.noSummary) {
    let printed = false;
    if (typeof first.exports.handleSummary === 'function') {
      const h = await helperVu();
      const to = withTimeout(handleSummaryTimeoutMs, watchdogAbort.signal);
      const arg = h.realm.JSON.parse(JSON.stringify(summaryData)) as Record<string, unknown>;
      if (!('setup_data' in arg)) arg.setup_data = undefined; // k6 sets it to undefined without setup()
      const r = await h.runOnce('handleSummary', to.signal, { args: [arg], countIteration: false, isDefault: false });
      if (!r.full) logger.log('error', `handleSummary() execution timed out after ${handleSummaryTimeoutMs / 1000} seconds`);
      to.done();
      if (r.error === undefined && r.value !== undefined && r.value !== null) {
        if (typeof r.value !== 'object') {
          logger.log('error', 'handleSummary() must return a map with string keys and string or ArrayBuffer values');
        } else {
          printed = true;
          const errs: string[] = [];
          for (const [key, val] of Object.entries(r.value as Record<string, unknown>)) {
            const body =
              typeof val === 'string'
                ? val
                : val instanceof h.realm.ArrayBuffer || val instanceof ArrayBuffer
                  ? Buffer.from(new Uint8Array(val as ArrayBuffer))
                  : String(val);
            if (key === 'stdout') stdout(body.toString());
            else if (key === 'stderr') stderr(body.toString());
            else {
              try {
                await writeFile(resolvePath(key), body);
              } catch (e) {
                errs.push(`could not open '${key}': ${(e as Error).message}`);
              }
            }
          }
          if (errs.length) logger.log('error', `Could not save some summary information:\n\t* ${errs.join('\n\t* ')}`);
        }
      }
    }
    if (!printed) stdout(textSummary(summaryData));
  }

  // k6 run.go: only when the run itself ended without an error.
  if (!abortReason && !runError && !watchdogFired && counters.iterationsCompleted === 0) {
    logger.log('warning', 'No script iterations fully finished, consider making the test duration longer');
  }
  let exitCode: number = ExitCode.ok;
  if (markedFailed) exitCode = ExitCode.markedAsFailed;
  if (thresholdsFailed) {
    // k6 run.go: only when nothing else ended the run (an abortOnFail stop was logged already).
    if (!thresholdAbort && !abortReason && final.breached.length > 0) {
      logger.log('error', `thresholds on metrics '${final.breached.join(', ')}' have been crossed`);
    }
    exitCode = ExitCode.thresholdsHaveFailed;
  }
  if (runError) exitCode = runError.code;
  if (abortReason) exitCode = abortReason.code;
  if (watchdogFired) exitCode = ExitCode.genericTimeout;
  if (exitCode === ExitCode.markedAsFailed) logger.log('error', 'test run was marked as failed'); // k6 run.go
  void formatLogLine;
  return { exitCode, summaryData, thresholdsFailed, aborted: testAbort.signal.aborted };
}

function plannedVus(sc: ScenarioConfig, tuple: ExecutionTuple): number {
  if (sc.executor === 'constant-arrival-rate' || sc.executor === 'ramping-arrival-rate') return tuple.scale(sc.preAllocatedVUs);
  return tuple.scale(scenarioMaxVUs(sc));
}
