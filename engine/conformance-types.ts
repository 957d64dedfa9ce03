// Fidelity guard: the engine's module implementations are checked against @types/k6's
// declarations. Compiled by engine/tsconfig.conformance.json (Node + k6 types together):
//   npx tsc -p engine/tsconfig.conformance.json
// A missing export, or a function whose signature cannot stand in for k6's, fails the build.
import type * as K6 from 'k6';
import type * as K6Crypto from 'k6/crypto';
import type * as K6Data from 'k6/data';
import type * as K6Encoding from 'k6/encoding';
import type * as K6Execution from 'k6/execution';
import type * as K6Metrics from 'k6/metrics';
import type * as K6Timers from 'k6/timers';
import type { createCryptoModule } from './modules/crypto.ts';
import type { createDataModule } from './modules/data.ts';
import type { createEncodingModule } from './modules/encoding.ts';
import type { createExecutionModule } from './modules/execution.ts';
import type { createK6Module } from './modules/k6.ts';
import type { createMetricsModule } from './modules/metrics.ts';
import type { createTimersModule } from './modules/timers.ts';

type Impl<F extends (...a: never[]) => unknown> = ReturnType<F>;
/** Names @types/k6 exports (values) that the implementation lacks; must be `never`. */
type Missing<Decl, I> = Exclude<keyof Decl, keyof I | 'default'>;
type AssertNever<T extends never> = T;

// Every declared export exists.
export type K6Complete = AssertNever<Missing<typeof K6, Impl<typeof createK6Module>>>;
// @types/k6 declares the abstract base class `Metric` and the `Hasher` class as values;
// k6's modules do not export them at runtime (metrics.go Exports, crypto.go Exports).
export type MetricsComplete = AssertNever<Exclude<Missing<typeof K6Metrics, Impl<typeof createMetricsModule>>, 'Metric'>>;
export type DataComplete = AssertNever<Missing<typeof K6Data, Impl<typeof createDataModule>>>;
export type EncodingComplete = AssertNever<Missing<typeof K6Encoding, Impl<typeof createEncodingModule>>>;
export type CryptoComplete = AssertNever<Exclude<Missing<typeof K6Crypto, Impl<typeof createCryptoModule>>, 'Hasher'>>;
export type TimersComplete = AssertNever<Missing<typeof K6Timers, Impl<typeof createTimersModule>>>;
export type ExecutionComplete = AssertNever<
  Exclude<keyof typeof K6Execution.default, keyof Impl<typeof createExecutionModule>>
>;

// Functions callable exactly as k6 declares them (the implementation can stand in for k6's).
declare const k6: Impl<typeof createK6Module>;
export const k6Signatures: Pick<typeof K6, 'check' | 'fail' | 'group' | 'randomSeed' | 'sleep'> = k6;
declare const timers: Impl<typeof createTimersModule>;
export const timerSignatures: Pick<typeof K6Timers, 'clearInterval' | 'clearTimeout'> = timers;
declare const crypto: Impl<typeof createCryptoModule>;
export const cryptoSignatures: Pick<typeof K6Crypto, 'randomBytes'> = crypto;
declare const encoding: Impl<typeof createEncodingModule>;
export const encodingSignatures: Pick<typeof K6Encoding, 'b64encode'> = encoding;
