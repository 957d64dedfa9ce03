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
    /** The script threw it (k6 logs those with source=stacktrace). */
    readonly fromScript = false,
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
    // Script frames only: the top of the stack up to the first frame that is not the
    // script's (Node's, the engine's, its Promise.all/map plumbing, or the engine's caller).
    // (Frames of an engine module that threw come first and are skipped.)
    const isScript = (l: string) => /\/[^)]*:\d+:\d+\)?$/.test(l) && !l.includes('node:') && !l.includes('/engine/');
    const all = stack.split('\n').filter((x) => /^\s+at /.test(x));
    let i = 0;
    while (i < all.length && !isScript(all[i] as string) && (all[i]!.includes('/engine/') || all[i]!.includes('node:'))) i++;
    const shown: string[] = [];
    for (; i < all.length && shown.length < 3 && isScript(all[i] as string); i++) shown.push(all[i]!.trim());
    // sobek's exception text: "Error: msg", "TypeError: msg", "GoError: msg".
    const head = e.name ? `${e.name}: ${e.message}` : e.message;
    return shown.length > 0 ? `${head}\n\t${shown.join('\n\t')}` : head;
  }
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
