// Loads a k6 script once: bundles it (relative imports inlined, k6 modules external) to
// CommonJS with esbuild, checks what k6 would reject (bare imports, dynamic import(),
// for await, async generators, decorators, top-level await) and which names it imports
// from which k6 module, then compiles it ONCE in a shared vm context whose global object
// carries only what k6 v2.2 has. Each VU calls the compiled wrapper function once.
import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { TextDecoder as NodeTextDecoder, TextEncoder as NodeTextEncoder } from 'node:util';
import { webcrypto } from 'node:crypto';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import ts from 'typescript';
import { EngineError, ExitCode } from './errors.ts';

export interface K6Import {
  module: string;
  /** Named imports; 'default' for a default import; '*' for a namespace import. */
  names: string[];
  file: string;
}

/** Per-VU values the compiled wrapper receives. */
export interface VuScope {
  require: (name: string) => unknown;
  module: { exports: Record<string, unknown> };
  k6vu: { readonly vu: number; readonly iter: number };
  env: Record<string, string>;
  open: (path: string, mode?: string) => unknown;
  setTimeout: (...a: unknown[]) => unknown;
  clearTimeout: (...a: unknown[]) => unknown;
  setInterval: (...a: unknown[]) => unknown;
  clearInterval: (...a: unknown[]) => unknown;
  console: unknown;
}

export interface LoadedScript {
  readonly path: string;
  readonly dir: string;
  readonly imports: K6Import[];
  readonly context: vm.Context;
  /** The sandbox's global object (its ArrayBuffer, Uint8Array, Object, JSON …). */
  readonly globals: Record<string, any>;
  /** Runs the script's init code for one VU; returns its exports. */
  instantiate(scope: VuScope): Record<string, unknown>;
}

const WRAPPER_PARAMS = [
  'require',
  'module',
  'exports',
  '__k6vu',
  '__ENV',
  'open',
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'console',
];

function initError(msg: string): EngineError {
  return new EngineError(msg, ExitCode.scriptException);
}

/** Walks one source file for syntax k6 cannot run and for its k6 imports. */
export function scanSource(file: string, text: string): { imports: K6Import[]; problems: string[] } {
  const kind = file.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const imports: K6Import[] = [];
  const problems: string[] = [];
  const where = (n: ts.Node) => {
    const p = sf.getLineAndCharacterOfPosition(n.getStart(sf));
    return `${file}:${p.line + 1}:${p.character + 1}`;
  };
  const addImport = (spec: string, names: string[]) => {
    if (spec === 'k6' || spec.startsWith('k6/')) imports.push({ module: spec, names, file });
  };
  const visit = (n: ts.Node, inFunction: boolean) => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const names: string[] = [];
      const c = n.importClause;
      if (c && !c.isTypeOnly) {
        if (c.name) names.push('default');
        const b = c.namedBindings;
        if (b && ts.isNamespaceImport(b)) names.push('*');
        if (b && ts.isNamedImports(b)) {
          for (const el of b.elements) if (!el.isTypeOnly) names.push((el.propertyName ?? el.name).text);
        }
      }
      if (n.attributes) problems.push(`${where(n)}: import attributes are not supported by k6`);
      addImport(n.moduleSpecifier.text, names);
    }
    if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      const names: string[] = [];
      if (n.exportClause && ts.isNamedExports(n.exportClause)) {
        for (const el of n.exportClause.elements) names.push((el.propertyName ?? el.name).text);
      } else names.push('*');
      addImport(n.moduleSpecifier.text, names);
    }
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      problems.push(`${where(n)}: dynamic import() is not supported by k6`);
    }
    if (ts.isForOfStatement(n) && n.awaitModifier) problems.push(`${where(n)}: "for await" is not supported by k6`);
    if (ts.isDecorator(n)) problems.push(`${where(n)}: decorators are not supported by k6`);
    const isFn = ts.isFunctionLike(n);
    if (isFn) {
      const f = n as ts.FunctionLikeDeclaration;
      const isAsync = ts.getCombinedModifierFlags(f as ts.Declaration) & ts.ModifierFlags.Async;
      if (f.asteriskToken && isAsync) problems.push(`${where(n)}: async generators are not supported by k6`);
    }
    if (!inFunction && (ts.isAwaitExpression(n) || (ts.isForOfStatement(n) && n.awaitModifier))) {
      problems.push(`${where(n)}: top-level await is not supported by this engine`);
    }
    ts.forEachChild(n, (c) => visit(c, inFunction || isFn || ts.isClassStaticBlockDeclaration(n)));
  };
  visit(sf, false);
  return { imports, problems };
}

/** Builds the sandbox context: k6 v2.2's globals only (internal/js/bundle.go registerGlobals). */
export function createSandbox(): { context: vm.Context; globals: Record<string, any> } {
  const context = vm.createContext({}, { name: 'k6-script', codeGeneration: { strings: true, wasm: false } });
  const g = vm.runInContext('globalThis', context) as Record<string, any>;
  // What Sobek does not have (k6: internal/js/tc39/tc39_test.go blocklist; see docs/engine.md).
  for (const name of ['SharedArrayBuffer', 'Atomics', 'WeakRef', 'FinalizationRegistry', 'WebAssembly']) delete g[name];
  const U8 = g.Uint8Array as Uint8ArrayConstructor;
  const enc = new NodeTextEncoder();
  class TextEncoder {
    get encoding() {
      return 'utf-8';
    }
    encode(input = ''): Uint8Array {
      const out = enc.encode(String(input));
      const r = new U8(out.length);
      r.set(out);
      return r;
    }
  }
  class TextDecoder {
    private readonly d: NodeTextDecoder;
    constructor(label = 'utf-8', options: { fatal?: boolean; ignoreBOM?: boolean } = {}) {
      this.d = new NodeTextDecoder(label, options);
    }
    get encoding() {
      return this.d.encoding;
    }
    decode(input?: ArrayBuffer | ArrayBufferView, options?: { stream?: boolean }): string {
      if (input === undefined) return this.d.decode(undefined, options);
      const view = ArrayBuffer.isView(input)
        ? new Uint8Array(input.buffer as ArrayBuffer, input.byteOffset, input.byteLength)
        : new Uint8Array(input as ArrayBuffer);
      return this.d.decode(view, options);
    }
  }
  const cryptoObj = Object.freeze({
    getRandomValues: <T extends ArrayBufferView>(a: T): T => webcrypto.getRandomValues(a as never) as T,
    randomUUID: () => webcrypto.randomUUID(),
    subtle: webcrypto.subtle,
  });
  Object.defineProperty(g, 'crypto', { value: cryptoObj, enumerable: false, configurable: true, writable: true });
  Object.defineProperty(g, 'TextEncoder', { value: TextEncoder, enumerable: false, configurable: true, writable: true });
  Object.defineProperty(g, 'TextDecoder', { value: TextDecoder, enumerable: false, configurable: true, writable: true });
  return { context, globals: g };
}

/** Rejects what k6's loader rejects: bare specifiers and remote modules we cannot fetch. */
const k6Resolution: esbuild.Plugin = {
  name: 'k6-resolution',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const p = args.path;
      if (args.kind === 'dynamic-import') return { errors: [{ text: `dynamic import() of "${p}" is not supported by k6` }] };
      if (p === 'k6' || p.startsWith('k6/')) return { path: p, external: true };
      if (p.startsWith('./') || p.startsWith('../') || p.startsWith('/') || p.startsWith('file://')) return undefined;
      if (/^https?:\/\//.test(p)) {
        return { errors: [{ text: `remote module "${p}" cannot be loaded: this engine runs offline; vendor the file locally` }] };
      }
      return {
        errors: [
          {
            text: `The moduleSpecifier "${p}" couldn't be found on local disk. Make sure that you've specified the right path to the file. If you're running k6 using the Docker image make sure you have mounted the local directory (-v /local/path/:/inside/docker/path) containing your script and modules so that they're accessible by k6 from inside of the container, see https://grafana.com/docs/k6/latest/using-k6/modules/#using-local-modules-with-docker.`,
          },
        ],
      };
    });
  },
};

export async function loadScript(scriptPath: string): Promise<LoadedScript> {
  const path = resolvePath(scriptPath);
  try {
    readFileSync(path);
  } catch {
    throw new EngineError(`The moduleSpecifier "${scriptPath}" couldn't be found on local disk.`, ExitCode.scriptException);
  }
  let result: esbuild.BuildResult & { metafile: esbuild.Metafile };
  try {
    result = (await esbuild.build({
      entryPoints: [path],
      bundle: true,
      write: false,
      format: 'cjs',
      platform: 'neutral',
      target: 'es2022',
      metafile: true,
      logLevel: 'silent',
      sourcemap: false,
      loader: { '.js': 'js', '.mjs': 'js', '.ts': 'ts', '.json': 'json' },
      define: { __VU: '__k6vu.vu', __ITER: '__k6vu.iter' },
      plugins: [k6Resolution],
    })) as esbuild.BuildResult & { metafile: esbuild.Metafile };
  } catch (e) {
    const errs = (e as { errors?: esbuild.Message[] }).errors ?? [];
    const text = errs
      .map((m) => `${m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ` : ''}${m.text}`)
      .join('; ');
    throw initError(text || (e as Error).message);
  }
  const imports: K6Import[] = [];
  const problems: string[] = [];
  for (const input of Object.keys(result.metafile.inputs)) {
    const abs = resolvePath(input);
    let text: string;
    try {
      text = readFileSync(abs, 'utf8');
    } catch {
      continue;
    }
    const r = scanSource(input, text);
    imports.push(...r.imports);
    problems.push(...r.problems);
  }
  if (problems.length > 0) throw initError(problems.join('; '));
  const code = result.outputFiles?.[0]?.text ?? '';
  const { context, globals } = createSandbox();
  // ES modules are strict in k6 (and everywhere); esbuild's CJS output does not say so.
  // The inner function lets top-level `const open`/`let console` shadow the wrapper's parameters.
  const wrapped = `(function (${WRAPPER_PARAMS.join(', ')}) {return (function () {'use strict';${code}\n})();})`;
  let fn: (...a: unknown[]) => void;
  try {
    const script = new vm.Script(wrapped, { filename: path });
    fn = script.runInContext(context) as (...a: unknown[]) => void;
  } catch (e) {
    throw initError(`SyntaxError in ${path}: ${(e as Error).message}`);
  }
  return {
    path,
    dir: dirname(path),
    imports,
    context,
    globals,
    instantiate(scope: VuScope) {
      const mod = scope.module;
      fn(
        scope.require,
        mod,
        mod.exports,
        scope.k6vu,
        scope.env,
        scope.open,
        scope.setTimeout,
        scope.clearTimeout,
        scope.setInterval,
        scope.clearInterval,
        scope.console,
      );
      return mod.exports;
    },
  };
}
