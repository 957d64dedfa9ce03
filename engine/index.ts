// Programmatic entry: runK6(opts) runs a k6 script in-process and returns its exit code
// and k6's summary data. See docs/engine.md.
export { runK6, STARTUP_LINE, K6_VERSION } from './runner.ts';
export type { RunOptions, RunResult } from './runner.ts';
export { ExitCode } from './errors.ts';
