// A small VuRuntime (engine/types.ts) for testing the network modules without the engine
// core: it records samples and warnings, runs enqueued callbacks one at a time on later
// macrotasks (never synchronously, like k6's event loop), and records what those callbacks
// throw as "iteration errors".
import type { CallbackHandle, Metric, MetricType, MetricsSink, Sample, Tags, ValueType, VuRuntime } from '../../engine/types.ts';

/** k6's DefaultSystemTagSet (metrics/system_tag.go). */
export const DEFAULT_SYSTEM_TAGS: readonly string[] = [
  'proto', 'subproto', 'status', 'method', 'url', 'name', 'group', 'check', 'error', 'error_code',
  'tls_version', 'scenario', 'service', 'expected_response',
];

export interface FakeVuOptions {
  tags?: Tags;
  systemTags?: readonly string[];
  userAgent?: string;
  idInInstance?: number;
}

export interface FakeVu extends VuRuntime {
  readonly samples: Sample[];
  readonly warnings: string[];
  /** Exceptions thrown by enqueued callbacks (k6: the iteration fails with them). */
  readonly errors: unknown[];
  /** Number of registered callbacks not yet released. */
  pending(): number;
  /** Resolves once nothing is pending (or rejects after timeoutMs). */
  idle(timeoutMs?: number): Promise<void>;
  abort(): void;
  /** Bytes reported through countData (engine/vu.ts's data_sent/data_received hook). */
  readonly bytes: { sent: number; received: number };
  countData(sent: number, received: number): void;
  byMetric(name: string): Sample[];
}

export function createFakeVu(opts: FakeVuOptions = {}): FakeVu {
  const samples: Sample[] = [];
  const warnings: string[] = [];
  const errors: unknown[] = [];
  const metricsByName = new Map<string, Metric>();
  const controller = new AbortController();
  let pendingCount = 0;
  const idleWaiters: Array<() => void> = [];
  // One FIFO run queue shared by all handles: callbacks run in enqueue order, one per macrotask.
  const runQueue: Array<() => void> = [];
  let draining = false;

  const drain = (): void => {
    const fn = runQueue.shift();
    if (!fn) {
      draining = false;
      return;
    }
    try {
      fn();
    } catch (e) {
      errors.push(e);
    }
    setImmediate(drain);
  };
  const schedule = (fn: () => void): void => {
    runQueue.push(fn);
    if (!draining) {
      draining = true;
      setImmediate(drain);
    }
  };
  const checkIdle = (): void => {
    if (pendingCount === 0 && runQueue.length === 0) for (const w of idleWaiters.splice(0)) w();
  };

  const sink: MetricsSink = {
    metric(name: string, type: MetricType, contains: ValueType = 'default'): Metric {
      const existing = metricsByName.get(name);
      if (existing) {
        if (existing.type !== type) throw new Error(`metric '${name}' already exists with type ${existing.type}`);
        return existing;
      }
      const m: Metric = { name, type, contains };
      metricsByName.set(name, m);
      return m;
    },
    push(s: Sample | readonly Sample[]): void {
      if (Array.isArray(s)) samples.push(...(s as Sample[]));
      else samples.push(s as Sample);
    },
  };

  const vu: FakeVu = {
    idInInstance: opts.idInInstance ?? 1,
    idInTest: opts.idInInstance ?? 1,
    inInit: false,
    metrics: sink,
    tags: () => ({ scenario: 'default', group: '', ...(opts.tags ?? {}) }),
    metadata: () => ({ vu: String(opts.idInInstance ?? 1), iter: '0' }),
    systemTags: new Set(opts.systemTags ?? DEFAULT_SYSTEM_TAGS),
    userAgent: opts.userAgent ?? 'Grafana k6/2.2.0',
    signal: controller.signal,
    warn: (m: string) => {
      warnings.push(m);
    },
    registerCallback(): CallbackHandle {
      pendingCount++;
      let released = false;
      return {
        enqueue(fn: () => void): void {
          if (released) throw new Error('enqueue after release');
          schedule(fn);
        },
        release(): void {
          if (released) return;
          released = true;
          // Release takes effect after the callbacks already queued (k6's TaskQueue.Close).
          schedule(() => {
            pendingCount--;
            setImmediate(checkIdle);
          });
        },
      };
    },
    samples,
    warnings,
    errors,
    pending: () => pendingCount,
    idle(timeoutMs = 5000): Promise<void> {
      return new Promise((resolve, reject) => {
        if (pendingCount === 0 && runQueue.length === 0) return resolve();
        const t = setTimeout(() => reject(new Error(`fake VU still has ${pendingCount} pending callbacks after ${timeoutMs} ms`)), timeoutMs);
        idleWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
    abort: () => controller.abort(),
    bytes: { sent: 0, received: 0 },
    countData(sent: number, received: number): void {
      vu.bytes.sent += sent;
      vu.bytes.received += received;
    },
    byMetric: (name: string) => samples.filter((s) => s.metric.name === name),
  };
  return vu;
}
