// The seam between the engine's core (lifecycle, executors, metrics, outputs) and the
// k6 modules it implements (engine/modules/*). A module factory gets one VuRuntime per VU
// and returns the module's exports for that VU.

export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';
/** k6's "contains": how values are formatted (time in ms, data in bytes). */
export type ValueType = 'default' | 'time' | 'data';
export type Tags = Record<string, string>;

export interface Metric {
  readonly name: string;
  readonly type: MetricType;
  readonly contains: ValueType;
}

export interface Sample {
  readonly metric: Metric;
  /** Milliseconds since the epoch (may be fractional). */
  readonly time: number;
  readonly value: number;
  /** Indexed tags: these reach thresholds, the summary's submetrics and outputs as tags. */
  readonly tags: Tags;
  /** Non-indexed metadata (k6: vu, iter, exec.vu.metrics.metadata); never an InfluxDB tag. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface MetricsSink {
  /**
   * Declares a metric or returns the existing one. Throws like k6 on an invalid name
   * (^[a-zA-Z_][a-zA-Z0-9_]{1,128}$) or a type conflict.
   */
  metric(name: string, type: MetricType, contains?: ValueType): Metric;
  push(samples: Sample | readonly Sample[]): void;
}

/** Handle from VuRuntime.registerCallback (k6: vu.RegisterCallback). */
export interface CallbackHandle {
  /**
   * Runs fn later on this VU's JS "thread" (never synchronously). If fn throws, the engine
   * treats it as an uncaught exception of the current iteration, as k6 does.
   * Work enqueued while the VU is inside sleep() runs after the sleep ends.
   */
  enqueue(fn: () => void): void;
  /** No more callbacks will come; the iteration may end once nothing else is pending. */
  release(): void;
}

export interface VuRuntime {
  /** __VU: 1-based index in this instance. */
  readonly idInInstance: number;
  /** exec.vu.idInTest: unique across instances (execution segments). */
  readonly idInTest: number;
  /** True while this VU's init context runs. */
  readonly inInit: boolean;
  readonly metrics: MetricsSink;
  /** The VU's current indexed tags: options.tags, scenario tags, scenario, group, exec.vu.metrics.tags. */
  tags(): Tags;
  /** Current metadata (vu, iter, exec.vu.metrics.metadata). */
  metadata(): Record<string, string>;
  /** Enabled system tags (options.systemTags, else k6's DefaultSystemTagSet). */
  readonly systemTags: ReadonlySet<string>;
  /** options.userAgent, default `Grafana k6/<version>`. */
  readonly userAgent: string;
  /** Keeps the current iteration alive until release() (k6's RegisterCallback). */
  registerCallback(): CallbackHandle;
  /**
   * Aborted when the current iteration's context is cancelled: scenario end plus
   * gracefulStop, or test abort. Modules close their sockets (code 1000) when it fires.
   */
  readonly signal: AbortSignal;
  /** A k6-style warning log line (level=warning) on stderr. */
  warn(message: string): void;
  /**
   * Optional (added by the engine core; always present in the engine): the script realm's
   * constructors. Objects handed to script code should come from here so `instanceof`
   * works inside the script (e.g. `new vu.realm.ArrayBuffer(n)`, `vu.realm.JSON.parse`).
   */
  readonly realm?: ScriptRealm;
  /**
   * Optional (always present in the engine): counts bytes on the wire for k6's
   * `data_sent`/`data_received`, emitted per iteration with the iteration's tags like k6's
   * dialer IOSamples. Modules call it as bytes are written/read.
   */
  countData?(sent: number, received: number): void;
  /**
   * Optional (always present in the engine): `dispose` runs once when the whole run ends
   * (normally, by abort, or by the watchdog), so a module can drop every socket, request
   * and timer it still holds and the process is left with no handle of the run. Returns
   * the unregister function (call it when the resource is gone on its own).
   */
  onRunEnd?(dispose: () => void): () => void;
}

/** Constructors of the vm context the script runs in (see VuRuntime.realm). */
export interface ScriptRealm {
  readonly Object: ObjectConstructor;
  readonly Array: ArrayConstructor;
  readonly ArrayBuffer: ArrayBufferConstructor;
  readonly Uint8Array: Uint8ArrayConstructor;
  readonly Error: ErrorConstructor;
  readonly TypeError: TypeErrorConstructor;
  readonly SyntaxError: SyntaxErrorConstructor;
  readonly Promise: PromiseConstructor;
  readonly JSON: JSON;
}

/** A k6 module implementation: one exports object per VU. */
export type ModuleFactory = (vu: VuRuntime) => Record<string, unknown>;
