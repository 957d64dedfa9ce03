// Web-standard globals that k6 v2.2 provides (internal/js/bundle.go registerGlobals) and
// that @types/k6 does not declare. Only these; no DOM, no Node: code that would break
// on real k6 must not type-check here.
export {};

declare global {
  interface Console {
    log(...data: unknown[]): void;
    info(...data: unknown[]): void;
    warn(...data: unknown[]): void;
    error(...data: unknown[]): void;
    debug(...data: unknown[]): void;
  }
  var console: Console;

  type TimerHandle = number;
  function setTimeout(fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): TimerHandle;
  function clearTimeout(id: TimerHandle | undefined): void;
  function setInterval(fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): TimerHandle;
  function clearInterval(id: TimerHandle | undefined): void;

  interface K6Crypto {
    randomUUID(): string;
    getRandomValues<T extends Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array>(array: T): T;
  }
  var crypto: K6Crypto;

  class TextEncoder {
    encode(input?: string): Uint8Array;
  }
  class TextDecoder {
    constructor(label?: string, options?: { fatal?: boolean });
    decode(input?: ArrayBuffer | ArrayBufferView): string;
  }
}
