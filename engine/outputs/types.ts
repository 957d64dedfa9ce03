// An output receives every raw sample (k6 output.Output): started before the run,
// stopped (flushed) after it.
import type { ThresholdSet } from '../thresholds.ts';
import type { Sample } from '../types.ts';

export interface Output {
  readonly description: string;
  start(): Promise<void>;
  addSamples(samples: readonly Sample[]): void;
  /** Flushes everything and releases resources. Never hangs (bounded by timeouts). */
  stop(): Promise<void>;
  setThresholds?(sets: readonly ThresholdSet[]): void;
}
