// The main job: `npm run smoke|load|spike|soak|capacity [-- flags]`.
// Builds the bundles, makes sure there are tokens, starts the reference target on a free
// loopback port (unless --target points at an existing backend), runs the profile with k6
// when one is found (K6_BIN or PATH) or with the in-process engine otherwise, prints the
// summary (the runner prints handleSummary's text) and exits with the runner's code.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { createWriteStream, existsSync, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { durationMs, loadConfig } from '../../lib/config.ts';
import { PROFILE_DEFAULTS, SHORT_FORMS } from '../../lib/profile-defaults.ts';
import { parseCliArgs, runMain, UserError } from '../common/cli.ts';
import { chooseRunner, PROFILES, ROOT, runArgs, type Profile } from './runner.ts';

const TOOL = 'voicelive run';

const HELP = `usage: npm run <profile> -- [flags]      profiles: ${PROFILES.join(', ')}
  --target URL            run against an existing backend (ws:// or wss://); starts no local target;
                          needs --tokens with that backend's pool.json and invalid.json
  --tokens DIR            token folder (default .tokens; created with fresh tokens for the local target)
  --users N               test users to mint for the local target (default 50)
  --reject-style S        close | http: how the backend refuses (sets the local target's style and
                          makes the other style a mismatch); default: local target close, --target any
  --auth-required B       local target: true | false (false = POC fallback; the run must fail)
  --fault F               local target fault (repeatable), e.g. accept-invalid=expired, misattribute=0.5
  --runner R              auto | k6 | engine (default auto: K6_BIN or k6 on PATH, else the engine)
  --results DIR           folder for summary.json, junit.xml and target.log (default results)
  --short                 the profile's seconds-long form (scenarios/catalog.json "short")
  -e KEY=VALUE            scenario setting (repeatable), e.g. -e VOICE_HOLD_SECONDS=10
  --out OUT               k6 output (repeatable), e.g. json=results/out.json
  -h, --help              this text`;

const FLAGS = {
  target: { type: 'string' },
  tokens: { type: 'string' },
  users: { type: 'string' },
  'reject-style': { type: 'string' },
  'auth-required': { type: 'string' },
  fault: { type: 'string', multiple: true },
  runner: { type: 'string' },
  results: { type: 'string' },
  short: { type: 'boolean' },
  env: { type: 'string', short: 'e', multiple: true },
  out: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

function stderr(line: string): void {
  process.stderr.write(`${TOOL}: ${line}\n`);
}

/** Seconds the run may last, from the settings (for how long tokens must stay valid). */
export function expectedRunSeconds(profile: Profile, env: Record<string, string>): number {
  const cfg = loadConfig(env, PROFILE_DEFAULTS[profile] ?? {});
  const hold = cfg.holdSeconds + cfg.rejectWaitMs / 1000;
  switch (profile) {
    case 'smoke':
      return 120 + hold;
    case 'load':
    case 'soak':
      return durationMs(cfg.duration) / 1000 + hold;
    case 'spike':
      return (3 * durationMs(cfg.spikeHold) + 2 * durationMs(cfg.spikeRamp)) / 1000 + hold;
    case 'capacity':
      return (cfg.capacityStages * durationMs(cfg.capacityStageDuration)) / 1000 + hold;
  }
}

function parseEnvPairs(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UserError(`-e ${p}: expected KEY=VALUE`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** Why a TCP connection to the target's host and port fails, or null when it opens (5 s at most). */
export function unreachable(target: string, timeoutMs = 5000): Promise<string | null> {
  const m = /^(wss?):\/\/(\[[^\]]+\]|[^/:?#]+)(?::(\d+))?/.exec(target);
  if (!m) return Promise.resolve('not a ws:// or wss:// URL');
  const host = m[2]!.replace(/^\[|\]$/g, '');
  const port = m[3] ? Number(m[3]) : m[1] === 'wss' ? 443 : 80;
  return new Promise((done) => {
    const sock = netConnect({ host, port });
    const finish = (why: string | null): void => {
      clearTimeout(timer);
      sock.destroy();
      done(why);
    };
    const timer = setTimeout(() => finish(`no answer within ${timeoutMs / 1000} s`), timeoutMs);
    sock.once('connect', () => finish(null));
    sock.once('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNREFUSED' ? 'connection refused' : err.code ?? err.message));
  });
}

/** Scenario settings the main job derives from its own flags. */
const FLAG_OWNED_ENV: Record<string, string> = {
  VOICE_TARGET: '--target URL',
  VOICE_TOKEN_POOL: '--tokens DIR',
  VOICE_INVALID_TOKENS: '--tokens DIR',
};

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(argv, FLAGS, { allowPositionals: true });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const profile = positionals[0] as Profile | undefined;
  if (!profile || !PROFILES.includes(profile)) throw new UserError(`expected a profile (${PROFILES.join(', ')}), got "${positionals[0] ?? ''}"`);
  if (positionals.length > 1) throw new UserError(`unexpected argument "${positionals[1]}"; see --help`);

  const remote = values.target;
  if (remote !== undefined && !/^wss?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(remote)) throw new UserError(`--target must be ws://HOST[:PORT][/prefix] or wss://…, got "${remote}"`);
  const style = values['reject-style'];
  if (style !== undefined && style !== 'close' && style !== 'http') throw new UserError(`--reject-style must be close or http, got "${style}"`);
  const authReq = values['auth-required'];
  if (authReq !== undefined && authReq !== 'true' && authReq !== 'false') throw new UserError(`--auth-required must be true or false, got "${authReq}"`);
  const runnerChoice = values.runner ?? 'auto';
  if (runnerChoice !== 'auto' && runnerChoice !== 'k6' && runnerChoice !== 'engine') throw new UserError(`--runner must be auto, k6 or engine, got "${runnerChoice}"`);
  if (remote !== undefined && (values.fault?.length || authReq !== undefined || values.users !== undefined)) {
    throw new UserError('--fault, --auth-required and --users apply to the local target only; drop them with --target');
  }
  const users = values.users === undefined ? 50 : Number(values.users);
  if (!Number.isInteger(users) || users < 1 || users > 10_000_000) throw new UserError(`--users must be a whole number from 1 to 10000000, got "${values.users}"`);

  const tokensDir = resolve(values.tokens ?? '.tokens');
  const passEnv: Record<string, string> = { ...(values.short ? SHORT_FORMS[profile] : {}), ...parseEnvPairs(values.env ?? []) };
  // The main job sets these from its own flags; a -e for them would be silently overwritten.
  for (const [name, flag] of Object.entries(FLAG_OWNED_ENV)) {
    if (passEnv[name] !== undefined) throw new UserError(`-e ${name} is set by the main job; use ${flag} instead`);
  }
  // VOICE_RESULTS_DIR='' writes no files; any other value is the results folder (created here).
  const resultsEnv = passEnv['VOICE_RESULTS_DIR'];
  if (resultsEnv !== undefined && values.results !== undefined) throw new UserError('give the results folder once: --results DIR or -e VOICE_RESULTS_DIR=DIR');
  const resultsDir = resolve(values.results ?? (resultsEnv || 'results'));

  // Validate the scenario settings here too: one line now beats an init error later.
  const voiceEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('VOICE_') && v !== undefined) voiceEnv[k] = v;
  Object.assign(voiceEnv, passEnv);
  let runSeconds: number;
  try {
    runSeconds = expectedRunSeconds(profile, voiceEnv);
  } catch (err) {
    throw new UserError(err instanceof Error ? err.message : String(err));
  }

  if (remote !== undefined) {
    for (const f of ['pool.json', 'invalid.json']) {
      if (!existsSync(join(tokensDir, f))) throw new UserError(`--target needs ${join(tokensDir, f)}: give --tokens DIR with your backend's token pool (npm run tokens -- --help)`);
    }
    // One clear line now beats a run full of "ended in an error" lines that never say why.
    const problem = await unreachable(remote);
    if (problem) throw new UserError(`cannot connect to ${remote} (${problem}); is the backend running and the address right?`);
  }

  // 1. build
  // cwd = the repository: build.mjs reports bundle sizes from paths relative to it.
  const b = spawnSync(process.execPath, [join(ROOT, 'build.mjs')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (b.status !== 0) {
    stderr('the build failed (see above)');
    return 1;
  }
  const bundle = join(ROOT, 'dist', `${profile}.js`);

  // 2. tokens
  if (remote === undefined) {
    const { ensureTokens } = await import('../tokens/index.ts');
    const set = await ensureTokens(tokensDir, { users, minValidSeconds: Math.ceil(runSeconds + 600) });
    stderr(`${set.reused ? 'reusing' : 'minted'} tokens in ${tokensDir} (${set.pool.users.length} users)`);
  }

  mkdirSync(resultsDir, { recursive: true });
  // A run that cannot write its summary must not leave an older run's files to be read as its own.
  for (const f of ['summary.json', 'junit.xml']) rmSync(join(resultsDir, f), { force: true });

  // 3. target
  let target: { wsUrl: string; close(): Promise<void> } | null = null;
  let targetLog: WriteStream | null = null;
  if (remote === undefined) {
    const { startTarget } = await import('../../target/server.ts');
    const { parseFaults } = await import('../../target/faults.ts');
    targetLog = createWriteStream(join(resultsDir, 'target.log'), { flags: 'w' });
    const logStream = targetLog;
    target = await startTarget({
      tokensDir,
      host: '127.0.0.1',
      port: 0,
      rejectStyle: style ?? 'close',
      authRequired: authReq !== 'false',
      faults: parseFaults(values.fault ?? []),
      log: (line: string) => {
        logStream.write(`${line}\n`);
      },
    });
    stderr(`reference target on ${target.wsUrl}${values.fault?.length ? ` with faults ${values.fault.join(' ')}` : ''}${authReq === 'false' ? ' (auth not required)' : ''}; log in ${join(resultsDir, 'target.log')}`);
  }

  // 4. run
  let runner;
  try {
    runner = chooseRunner(runnerChoice);
  } catch (err) {
    await target?.close();
    throw new UserError(err instanceof Error ? err.message : String(err));
  }
  const runId = randomBytes(6).toString('hex').slice(0, 8);
  const env: Record<string, string> = {
    ...passEnv,
    VOICE_TARGET: remote ?? (target as { wsUrl: string }).wsUrl,
    VOICE_TOKEN_POOL: join(tokensDir, 'pool.json'),
    VOICE_INVALID_TOKENS: join(tokensDir, 'invalid.json'),
    VOICE_RESULTS_DIR: resultsEnv === '' ? '' : resultsDir,
    VOICE_RUN_ID: passEnv['VOICE_RUN_ID'] ?? runId,
  };
  if (style !== undefined && passEnv['VOICE_REJECT_STYLE'] === undefined) env['VOICE_REJECT_STYLE'] = style;
  const args = runArgs(runner, { bundle, env, tags: { testid: `${profile}-${runId}` }, outs: values.out ?? [], extra: [] });
  stderr(`running ${profile} (run id ${runId}) with ${runner.describe}`);

  // k6 reports usage to a public host unless told not to; nothing of a run leaves the machine.
  const child = spawn(runner.command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, K6_NO_USAGE_REPORT: 'true' } });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const code = await new Promise<number>((res) => {
    child.on('error', (err) => {
      stderr(`cannot start ${runner.command}: ${err.message}`);
      res(1);
    });
    child.on('exit', (c, sig) => res(c ?? (sig === 'SIGINT' ? 130 : 1)));
  });
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);

  // 5. stop
  if (target) await target.close();
  if (targetLog) await new Promise<void>((r) => targetLog.end(() => r()));
  stderr(`${profile} finished with exit code ${code}${code === 99 ? ' (thresholds crossed: see "what went wrong" above)' : ''}; results in ${resultsDir}`);
  return code;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(ROOT, 'tools/run/cli.ts')) {
  runMain(TOOL, () => main(process.argv.slice(2)));
}
