// What the bundles really contain: k6 imports left external, Node built-ins refused,
// nothing else external, and a size budget.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
// @ts-expect-error build.mjs is plain JS without declarations
import { build, checkBundles, BUNDLE_BUDGET_BYTES } from '../../build.mjs';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'build-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function scenario(name: string, source: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, source);
  return path;
}

test('k6 modules stay external and the bundle is an ES module', async () => {
  const entry = await scenario(
    'ok.ts',
    `import { WebSocket } from 'k6/websockets';\nimport { check } from 'k6';\nexport const options = { vus: 1 };\nexport default function () { check(1, { one: (v: number) => v === 1 }); return WebSocket; }\n`,
  );
  await build({ entryPoints: [entry], outDir: join(dir, 'out') });
  const js = await readFile(join(dir, 'out', 'ok.js'), 'utf8');
  assert.match(js, /from "k6\/websockets"/);
  assert.match(js, /from "k6"/);
  assert.match(js, /export \{[^}]*options[^}]*\}|export const options/);
  assert.doesNotMatch(js, /require\(/);
});

for (const spec of ['node:fs', 'fs', 'crypto', 'node:crypto', 'events']) {
  test(`a bundle that imports the Node built-in "${spec}" fails the build`, async () => {
    const entry = await scenario(`bad-${spec.replace(/\W/g, '_')}.ts`, `import * as m from '${spec}';\nexport default function () { return m; }\n`);
    await assert.rejects(build({ entryPoints: [entry], outDir: join(dir, 'out-bad'), logLevel: 'silent' }), /Node built-in|Build failed/);
  });
}

test('a Node built-in imported indirectly through lib code is refused too', async () => {
  await scenario('helper.ts', `import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n`);
  const entry = await scenario('indirect.ts', `import { read } from './helper.ts';\nexport default function () { return read; }\n`);
  await assert.rejects(build({ entryPoints: [entry], outDir: join(dir, 'out-ind'), logLevel: 'silent' }), /Build failed/);
});

test('checkBundles refuses non-k6 externals and oversized bundles', () => {
  const okOut = { bytes: 100, imports: [{ path: 'k6/http', kind: 'import-statement', external: true }] };
  checkBundles({ inputs: {}, outputs: { 'dist/a.js': okOut } });
  assert.throws(
    () => checkBundles({ inputs: {}, outputs: { 'dist/a.js': { bytes: 100, imports: [{ path: 'lodash', kind: 'import-statement', external: true }] } } }),
    /a\.js imports "lodash"/,
  );
  assert.throws(
    () => checkBundles({ inputs: {}, outputs: { 'dist/big.js': { bytes: BUNDLE_BUDGET_BYTES + 1, imports: [] } } }),
    /big\.js is \d+ bytes, over the/,
  );
});

test('build.mjs runs from a directory other than the repo root (regression: ENOENT on the size report)', async () => {
  const { execFile } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const script = fileURLToPath(new URL('../../build.mjs', import.meta.url));
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [script], { cwd: dir, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`build failed from ${dir}: ${stderr}`)) : resolve(stdout),
    );
  });
  assert.match(out, /^build: \d+ bundle\(s\) in dist\/ \(.*smoke\.js [\d.]+ KiB/m);
});
