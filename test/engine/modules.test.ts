// k6, k6/data, k6/encoding, k6/crypto module behaviour (internal/js/modules/k6/{k6.go,
// data/data.go, data/share.go, encoding/encoding.go, crypto/crypto.go}).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { metricValues, runScript } from '../helpers/engine-run.ts';

describe('engine modules', () => {
  it('SharedArray is built once per name for all VUs, JSON round-trips and deep-freezes elements, and is immutable (data.go, share.go)', async () => {
    const r = await runScript(`
      import { SharedArray } from 'k6/data';
      globalThis.builds = (globalThis.builds || 0);
      const arr = new SharedArray('pool', () => { globalThis.builds++; return [{ a: { b: 1 }, d: new Date(0) }, 2, 'x']; });
      export const options = { vus: 3, iterations: 3 };
      export default function () {
        const out = [];
        const el = arr[0];
        out.push(arr.length, typeof el.d, Object.isFrozen(el.a), arr[5] === undefined, Array.isArray(arr), arr.map((x) => typeof x).join(','));
        try { arr[0] = 1; } catch (e) { out.push(e instanceof TypeError ? e.message : 'wrong'); }
        try { el.a.b = 2; } catch (e) { out.push('frozen'); }
        console.log('SA ' + JSON.stringify(out) + ' builds=' + globalThis.builds);
      }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    // the script's module scope runs per VU, but the array's builder ran once
    assert.match(r.stderr, /SA \[3,"string",true,true,true,"object,number,string","SharedArray is immutable","frozen"\] builds=1/);
  });

  it('SharedArray must be created in init with a non-empty name (data.go)', async () => {
    const r = await runScript(`
      import { SharedArray } from 'k6/data';
      export default function () { try { new SharedArray('late', () => []); } catch (e) { console.log('E ' + e.message); } }
    `);
    assert.match(r.stderr, /E new SharedArray must be called in the init context/);
  });

  it('b64encode/b64decode support std, rawstd, url, rawurl (encoding.go)', async () => {
    const r = await runScript(`
      import { b64encode, b64decode } from 'k6/encoding';
      export default function () {
        const s = '\\u00ff\\u00fe?>';
        const out = ['std', 'rawstd', 'url', 'rawurl'].map((e) => b64encode(s, e));
        const back = ['std', 'rawstd', 'url', 'rawurl'].map((e, i) => b64decode(out[i], e, 's'));
        console.log('B64 ' + JSON.stringify(out) + ' ' + back.every((x) => x === s) + ' ' + (b64decode('aGk=') instanceof ArrayBuffer));
      }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    const s = Buffer.from('\u00ff\u00fe?>');
    const std = s.toString('base64');
    const exp = [std, std.replace(/=+$/, ''), std.replace(/\+/g, '-').replace(/\//g, '_'), s.toString('base64url')];
    assert.ok(r.stderr.includes(`B64 ${JSON.stringify(exp)} true true`), r.stderr);
  });

  it('k6/crypto hmac/sha256/randomBytes (crypto.go)', async () => {
    const r = await runScript(`
      import crypto from 'k6/crypto';
      export default function () {
        console.log('H ' + crypto.hmac('sha256', 'key', 'data', 'base64rawurl') + ' ' + crypto.sha256('abc', 'hex') + ' ' + crypto.randomBytes(8).byteLength);
      }
    `);
    const h = createHmac('sha256', 'key').update('data').digest('base64url');
    assert.match(r.stderr, new RegExp(`H ${h} ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad 8`));
  });

  it('check() emits checks samples with the check tag and records passes/fails per group; group() sets the ::name group tag (k6.go)', async () => {
    const r = await runScript(`
      import { check, group } from 'k6';
      export const options = { iterations: 2, thresholds: { 'checks{check:is two}': ['rate==0.5'], 'checks{group:::outer::inner}': ['rate==1'] } };
      export default function () {
        check(__ITER + 1, { 'is two': (v) => v === 2 });
        group('outer', () => group('inner', () => check(1, { 'one': 1 })));
      }
    `);
    assert.equal(r.exitCode, 0, r.stderr);
    const root = (r.summaryData as { root_group: { id: string; checks: { name: string; passes: number; fails: number; path: string }[]; groups: { name: string; path: string; groups: { checks: { passes: number }[] }[] }[] } }).root_group;
    assert.equal(root.id, 'd41d8cd98f00b204e9800998ecf8427e');
    assert.deepEqual(root.checks.map((c) => [c.name, c.path, c.passes, c.fails]), [['is two', '::is two', 1, 1]]);
    assert.equal(root.groups[0]?.path, '::outer');
    assert.equal(root.groups[0]?.groups[0]?.checks[0]?.passes, 2);
    assert.equal(metricValues(r, 'checks').rate, 0.75);
  });
});

describe('engine handleSummary', () => {
  it('gets the legacy data shape; stdout/stderr keys print, other keys are files (internal/cmd/run.go handleSummaryResult)', async () => {
    // An absolute path in a temp dir (regression: a relative 'sum.json' was left in the repo).
    const { mkdtemp, readFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const outDir = await mkdtemp(join(tmpdir(), 'hs-file-'));
    const summaryFile = join(outDir, 'sum.json');
    const r = await runScript(
      `
      export const options = { iterations: 1 };
      export default function () {}
      export function handleSummary(data) {
        const keys = Object.keys(data).sort().join(',');
        return { stdout: 'OUT ' + keys + ' ' + data.options.summaryTrendStats.join('|'), stderr: 'ERR', [__ENV.SUMMARY_FILE]: JSON.stringify(data.metrics.iterations) };
      }
    `,
      { keep: true, env: { SUMMARY_FILE: summaryFile } },
    );
    try {
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout, 'OUT metrics,options,root_group,setup_data,state avg|min|med|max|p(90)|p(95)');
      assert.ok(r.stderr.endsWith('ERR'));
      const written = JSON.parse(await readFile(summaryFile, 'utf8')) as { type: string; values: { count: number } };
      assert.equal(written.type, 'counter');
      assert.equal(written.values.count, 1);
    } finally {
      const { rm } = await import('node:fs/promises');
      await rm(r.dir, { recursive: true, force: true });
      await rm(outDir, { recursive: true, force: true });
    }
  });

  it('null return or a throw prints the default text summary; --no-summary prints nothing (runner.go HandleSummary)', async () => {
    const a = await runScript(`export default function () {} export function handleSummary() { return null; }`);
    assert.match(a.stdout, /TOTAL RESULTS/);
    const b = await runScript(`export default function () {} export function handleSummary() { throw new Error('hs broke'); }`);
    assert.match(b.stdout, /iterations\.+: 1/);
    assert.match(b.stderr, /hs broke/);
    const c = await runScript(`export default function () {}`, { noSummary: true });
    assert.equal(c.stdout, '');
  });
});
