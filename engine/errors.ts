// k6's exit codes (errext/exitcodes/codes.go in k6) and the error type that carries one.

export const ExitCode = {
  /** k6: CloudTestRunFailed etc. are not used here. */
  ok: 0,
  generic: 1,
  setupTimeout: 100,
  teardownTimeout: 101,
  genericTimeout: 102,
  scriptStoppedFromRESTAPI: 103,
  invalidConfig: 104,
  externalAbort: 105,
  cannotStartRESTAPI: 106,
  scriptException: 107,
  scriptAborted: 108,
  goPanic: 109,
  markedAsFailed: 110,
  thresholdsHaveFailed: 99,
} as const;

/** An error that ends the run with a given k6 exit code. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** Thrown inside VU code by k6/execution test.abort(); unwinds the iteration. */
export class TestAbortError extends Error {
  constructor(readonly reason: string) {
    super(reason ? `test aborted: ${reason}` : 'test aborted');
    this.name = 'TestAbortError';
  }
}

/** Renders an unknown thrown value the way k6 logs it (message, or the value). */
export function describeThrown(err: unknown): string {
  if (err instanceof Error || (typeof err === 'object' && err !== null && 'message' in err && 'name' in err)) {
    const e = err as { name: string; message: string; stack?: string };
    const stack = typeof e.stack === 'string' ? e.stack : '';
    const frames = stack
      .split('\n')
      .filter((l) => /^\s+at /.test(l) && !l.includes('node:') && !l.includes('/engine/'))
      .slice(0, 3)
      .map((l) => l.trim().replace(/^at /, 'at '));
    const head = e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
    return frames.length > 0 ? `${head}\n\t${frames.join('\n\t')}` : head;
  }
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
