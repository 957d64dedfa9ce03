// What every VU and module shares within one run: the loaded script, metrics, options,
// logging and the run-wide controls (abort, SharedArray store, instance counters).
import type { LoadedScript } from './loader.ts';
import type { Logger } from './log.ts';
import type { Builtins, MetricRegistry } from './metrics.ts';
import type { ModuleFactory, Tags } from './types.ts';

export interface GroupNode {
  name: string;
  path: string;
  groups: Map<string, GroupNode>;
  checks: Map<string, { name: string; path: string; passes: number; fails: number }>;
}

export interface InstanceCounters {
  iterationsCompleted: number;
  iterationsInterrupted: number;
  vusActive: number;
  vusInitialized: number;
}

export interface EngineContext {
  readonly script: LoadedScript;
  readonly registry: MetricRegistry;
  readonly builtins: Builtins;
  readonly logger: Logger;
  readonly modules: ReadonlyMap<string, ModuleFactory>;
  /** The script's exported options (plain JSON) after CLI overrides. */
  readonly options: Record<string, unknown>;
  readonly systemTags: ReadonlySet<string>;
  /** options.tags plus --tag. */
  readonly runTags: Tags;
  /** -e values plus the system environment. */
  readonly baseEnv: Record<string, string>;
  readonly userAgent: string;
  readonly throwOnAddErrors: boolean;
  readonly sharedArrays: Map<string, readonly string[]>;
  readonly rootGroup: GroupNode;
  readonly counters: InstanceCounters;
  /** Epoch ms when the test run (executors) started; 0 before. */
  testStartMs: number;
  /** JSON text of setup()'s return value, or undefined. */
  setupDataJSON: string | undefined;
  /** k6/execution test.abort(): ends the run with exit code 108. */
  abortTest(reason: string): void;
  /** k6/execution test.fail(): marks the run failed (exit code 110), continues. */
  failTest(reason: string): void;
  /** How long a VU's init context (its event loop included) may take. */
  readonly initTimeoutMs: number;
  /** Disposers registered by modules (VuRuntime.onRunEnd); run once when the run ends. */
  readonly runEndHooks: Set<() => void>;
  /** True once the run is aborted. */
  readonly aborted: boolean;
}

export function newGroup(name: string, path: string): GroupNode {
  return { name, path, groups: new Map(), checks: new Map() };
}
