// Shared setup of the rogue-server scenario tests: one token set and one build per test file,
// then the smoke bundle run (short knobs) against a rogue server per case, several cases at a
// time; with K6_BIN set (opt-in) each case also runs under that real k6 and must reach the
// same verdict and counts. Every run is scanned for tokens.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHORT_FORMS } from '../../lib/profile-defaults.ts';
import { createTokenSet, writeTokenSet, type TokenSet } from '../../tools/tokens/index.ts';
import { startRogue, tokensOf, type RogueBehaviour, type RogueMemory } from './rogue-server.ts';
import { pool, runCase, type CaseRun } from './scenario-run.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface RogueCase {
  name: string;
  behaviour: RogueBehaviour;
  memory?: RogueMemory;
  /** Bundle to run (default smoke), with its catalogue short form as the base settings. */
  profile?: string;
  env?: Record<string, string>;
  expect: (r: CaseRun) => void;
  /** Counts compared between the engine and a real k6 (default: the summary's totals and rows). */
  compare?: (r: CaseRun) => unknown;
}

export interface RogueSuite {
  set: TokenSet;
  /** Runs every case (engine; and real k6 when K6_BIN is set); result i belongs to case i. */
  run(cases: RogueCase[]): Promise<Array<{ engine: CaseRun; k6?: CaseRun }>>;
  cleanup(): Promise<void>;
}

const JWT_RE = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;

export function assertNoTokens(r: CaseRun, secrets: readonly string[], label: string): void {
  const blobs: Array<[string, string]> = [['stdout', r.stdout], ['stderr', r.stderr], ...Object.entries(r.files)];
  for (const [name, text] of blobs) {
    assert.doesNotMatch(text, JWT_RE, `${label}: a JWT-looking string in ${name}`);
    for (const s of secrets) assert.ok(!text.includes(s.slice(0, 40)), `${label}: a token in ${name}`);
  }
}

/** What the engine and a real k6 must agree on. */
export function defaultCounts(r: CaseRun): unknown {
  const rep = r.report;
  return {
    exit: r.exitCode,
    verdict: rep?.verdict,
    totals: rep?.totals,
    valid: rep && { attempts: rep.valid.attempts, falseRejections: rep.valid.falseRejections, attributionErrors: rep.valid.attributionErrors, unverified: rep.valid.attributionUnverified },
    rows: rep?.variants.map((v) => `${v.authCase}/${v.variant}:${v.attempts}/${v.rejected}/${v.bypass}/${v.mismatch}`),
  };
}

export async function rogueSuite(): Promise<RogueSuite> {
  const work = await mkdtemp(join(tmpdir(), 'voicelive-rogue-'));
  const tokensDir = join(work, 'tokens');
  const dist = join(work, 'dist');
  const set = await createTokenSet({ users: 6, workers: 0 });
  await writeTokenSet(tokensDir, set);
  const raw = [...set.pool.users.flatMap((u) => u.tokens.map((t) => t.token)), ...set.invalid.cases.map((c) => c.token)];
  const secrets = [...new Set(raw.filter((t) => t.length >= 24).flatMap((t) => [t, encodeURIComponent(t)]))];
  execFileSync(process.execPath, ['-e', `import(${JSON.stringify(join(ROOT, 'build.mjs'))}).then((m) => m.build({ outDir: ${JSON.stringify(dist)} }))`], { stdio: 'ignore', timeout: 60_000 });
  const toks = tokensOf(set);
  const K6 = process.env['K6_BIN'];

  const once = async (c: RogueCase, runner: 'engine' | 'k6'): Promise<CaseRun> => {
    const rogue = await startRogue(toks, c.behaviour, c.memory);
    try {
      const r = await runCase({
        bundle: join(dist, `${c.profile ?? 'smoke'}.js`),
        tokensDir,
        target: rogue,
        runner,
        jsonOut: true, // scanned for tokens with everything else
        timeoutMs: 45_000,
        // Short knobs; latency is not under test here (loaded machine), the wait for a
        // refusal is long enough for a loaded loopback.
        env: { ...SHORT_FORMS[c.profile ?? 'smoke'], VOICE_HANDSHAKE_P95_MS: '20000', VOICE_REJECT_WAIT_MS: '1500', ...(c.profile ? {} : { VOICE_SESSIONS: '3', VOICE_VUS: '3' }), ...(c.env ?? {}) },
      });
      assertNoTokens(r, secrets, `${c.name} (${runner})`);
      return r;
    } finally {
      await rogue.close();
    }
  };

  return {
    set,
    run: (cases) =>
      pool(4, cases.map((c) => async () => {
        const engine = await once(c, 'engine');
        const k6 = K6 ? await once(c, 'k6') : undefined;
        return { engine, ...(k6 ? { k6 } : {}) };
      })),
    cleanup: () => rm(work, { recursive: true, force: true }),
  };
}

/** Registers one node:test per case over a shared, lazily started batch of runs. */
export function describeCases(
  t: (name: string, fn: () => Promise<void>) => void,
  suite: () => Promise<RogueSuite>,
  cases: RogueCase[],
): void {
  let all: Promise<Array<{ engine: CaseRun; k6?: CaseRun }>> | null = null;
  const start = async () => {
    all ??= suite().then((s) => s.run(cases));
    return all;
  };
  for (const [i, c] of cases.entries()) {
    t(c.name, async () => {
      const r = (await start())[i]!;
      const show = (x: CaseRun) => `\n${x.stdout}\n${x.stderr.slice(-1500)}`;
      try {
        c.expect(r.engine);
      } catch (e) {
        (e as Error).message += show(r.engine);
        throw e;
      }
      if (r.k6) {
        const cmp = c.compare ?? defaultCounts;
        assert.deepEqual(cmp(r.k6), cmp(r.engine), `${c.name}: real k6 and the engine disagree${show(r.k6)}`);
        c.expect(r.k6);
      }
    });
  }
}
