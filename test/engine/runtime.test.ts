// The script runtime: k6 v2.2's globals and what its loader rejects (k6 internal/js/bundle.go
// registerGlobals, internal/loader/loader.go, internal/js/tc39 blocklist).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricValues, runScript } from '../helpers/engine-run.ts';

describe('engine runtime and loader', () => {
  it('lacks the Node/DOM globals k6 lacks and has the ones it has (internal/js/bundle.go registerGlobals)', async () => {
    const r = await runScript(`
      import { Counter } from 'k6/metrics';
      const absent = new Counter('absent');
      const present = new Counter('present');
      const missing = ['Buffer', 'process', 'URL', 'URLSearchParams', 'atob', 'btoa', 'fetch', 'structuredClone', 'WebSocket', 'CryptoKey', 'require', 'global', 'SharedArrayBuffer', 'WeakRef'];
      const names = missing.filter((n) => typeof globalThis[n] === 'undefined');
      export default async function () {
        absent.add(names.length);
        const u = crypto.randomUUID();
        const bytes = crypto.getRandomValues(new Uint8Array(4));
        const key = await crypto.subtle.importKey('raw', new TextEncoder().encode('k'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
        const sig = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode('x'));
        const enc = new TextEncoder().encode('é');
        if (/^[0-9a-f-]{36}$/.test(u) && bytes.length === 4 && sig.byteLength === 32 && enc instanceof Uint8Array && enc.length === 2
            && new TextDecoder().decode(enc) === 'é' && typeof setTimeout === 'function' && typeof __ENV === 'object') present.add(1);
      }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(metricValues(r, 'absent').count, 14);
    assert.equal(metricValues(r, 'present').count, 1);
  });

  const rejects: [string, string, RegExp][] = [
    ['a bare npm specifier (internal/loader/loader.go Resolve)', `import x from 'lodash'; export default function () {}`, /couldn't be found on local disk/],
    ['an unknown k6 module', `import x from 'k6/browser'; export default function () {}`, /unknown module "k6\/browser"/],
    ['a function the module does not export', `import { check, nope } from 'k6'; export default function () {}`, /"nope" is not exported by the module "k6"/],
    ['dynamic import() (not supported by k6)', `export default async function () { await import('./x.js'); }`, /dynamic import\(\) .*is not supported/],
    ['for await (tc39 blocklist: async-iteration)', `export default async function () { for await (const x of []) {} }`, /"for await" is not supported/],
    ['async generators (tc39 blocklist)', `async function* g() {} export default function () { g(); }`, /async generators are not supported/],
  ];
  for (const [what, src, re] of rejects) {
    it(`rejects ${what} at start with exit code 107`, async () => {
      const r = await runScript(src);
      assert.equal(r.exitCode, 107, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.summaryData, undefined);
    });
  }

  it('a script throwing in init exits 107 with the error (internal/cmd/run.go, errext ScriptException)', async () => {
    const r = await runScript(`throw new Error('init failed here'); export default function () {}`);
    assert.equal(r.exitCode, 107);
    assert.match(r.stderr, /level=error msg="Error: init failed here/);
    assert.match(r.stderr, /hint="script exception"/);
  });

  it('top-level declarations may reuse the names of k6 globals (open, console, setTimeout are globals in k6, not locals)', async () => {
    const r = await runScript(`
      import { Counter } from 'k6/metrics';
      const c = new Counter('shadow_ok');
      const open = 1; const console = 2; let setTimeout = 3; const module = 4;
      export default function () { if (open + console + setTimeout + module === 10) c.add(1); }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(metricValues(r, 'shadow_ok').count, 1);
  });

  it('relative imports are bundled and TypeScript is stripped like k6 does for .ts (internal/js/compiler/enhanced.go)', async () => {
    const r = await runScript(
      `import { add } from './lib.ts';
       import { Counter } from 'k6/metrics';
       const c = new Counter('sum');
       export default function (): void { c.add(add(2, 3)); }`,
      { name: 'script.ts', files: { 'lib.ts': 'export const add = (a: number, b: number): number => a + b;' } },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(metricValues(r, 'sum').count, 5);
  });
});
