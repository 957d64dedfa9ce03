// Bundles every scenarios/*.ts into dist/<name>.js for `k6 run`.
// The checks at the end look at what the bundles really contain, not at what the
// options seem to say: a k6 bundle must import nothing but k6 modules.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('.', import.meta.url));
const scenariosDir = join(root, 'scenarios');
const outdir = join(root, 'dist');

/** Largest bundle we accept; a scenario that grows past it has pulled in something it should not. */
export const BUNDLE_BUDGET_BYTES = 256 * 1024;

const nodeBuiltins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Refuses any import of a Node built-in, wherever in the graph it comes from. */
const noNodeBuiltins = {
  name: 'no-node-builtins',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.split('/')[0];
      if (nodeBuiltins.has(args.path) || args.path.startsWith('node:') || (nodeBuiltins.has(bare) && !args.path.startsWith('.'))) {
        return { errors: [{ text: `k6 bundles cannot import the Node built-in "${args.path}" (imported from ${args.importer}); k6 code may use only k6 modules and web-standard APIs` }] };
      }
      return undefined;
    });
  },
};

export function scenarioEntries(dir = scenariosDir) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => join(dir, f));
}

/** Builds the bundles; returns the metafile. Throws with esbuild's messages on failure. */
export async function build({ entryPoints = scenarioEntries(), outDir = outdir, logLevel = 'warning' } = {}) {
  const result = await esbuild.build({
    entryPoints,
    outdir: outDir,
    bundle: true, // k6 rejects bare npm specifiers, so everything but k6 itself is inlined
    format: 'esm', // k6 runs ES modules natively; keeps `export const options` visible to k6
    platform: 'neutral', // neither Node nor browser: no Node shims, no DOM assumptions
    mainFields: ['module', 'main'], // 'neutral' sets none; needed if a pure-JS package is ever bundled
    target: 'es2020', // what k6's Sobek runtime parses; never down-levels to helpers k6 lacks
    external: ['k6', 'k6/*'], // k6 modules are provided by the runtime (k6 or the in-process engine)
    sourcemap: 'linked', // stack traces in k6 point back to scenarios/ and lib/
    minify: false, // readable bundles: users read them when a scenario misbehaves
    legalComments: 'none', // keeps the size budget honest
    metafile: true, // the checks below read what each bundle really imports
    absWorkingDir: root, // metafile paths relative to the repo root, whatever the caller's cwd
    logLevel,
    plugins: [noNodeBuiltins],
  });
  checkBundles(result.metafile);
  return result.metafile;
}

/** Fails when a bundle imports anything but k6 modules or exceeds the size budget. */
export function checkBundles(metafile) {
  const problems = [];
  for (const [file, out] of Object.entries(metafile.outputs)) {
    if (!file.endsWith('.js')) continue;
    for (const imp of out.imports) {
      if (!(imp.external && (imp.path === 'k6' || imp.path.startsWith('k6/')))) {
        problems.push(`${basename(file)} imports "${imp.path}"; only k6 modules may stay external`);
      }
    }
    if (out.bytes > BUNDLE_BUDGET_BYTES) {
      problems.push(`${basename(file)} is ${out.bytes} bytes, over the ${BUNDLE_BUDGET_BYTES}-byte budget`);
    }
  }
  if (problems.length > 0) throw new Error(`bundle check failed:\n  ${problems.join('\n  ')}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const entries = scenarioEntries();
    if (entries.length === 0) {
      console.log('build: no scenarios/*.ts to bundle');
    } else {
      const meta = await build({ entryPoints: entries });
      // handleSummary writes results/summary.json and results/junit.xml; k6 opens those files
      // without creating folders (internal/cmd/run.go handleSummaryResult), so make it here.
      mkdirSync(join(root, 'results'), { recursive: true });
      const outs = Object.keys(meta.outputs).filter((f) => f.endsWith('.js'));
      console.log(`build: ${outs.length} bundle(s) in dist/ (${outs.map((f) => `${basename(f)} ${(statSync(join(root, f)).size / 1024).toFixed(1)} KiB`).join(', ')})`);
    }
  } catch (err) {
    // esbuild already printed its diagnostics; one line for the rest.
    console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
