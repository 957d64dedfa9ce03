// `npm run engine -- run [flags] SCRIPT`: k6's command shape and flags, in-process.
// Exit codes are k6's (99 thresholds, 104 config, 107 script exception, 108 test.abort …);
// a usage mistake prints one line and exits 2... except where k6 itself has a code.
import { STARTUP_LINE, runK6, type RunOptions } from './runner.ts';

const USAGE = `usage: engine run [flags] SCRIPT
  -e, --env K=V                   environment variable for the script (repeatable)
  -u, --vus N                     number of VUs
  -d, --duration D                test duration (e.g. 30s, 5m)
  -i, --iterations N              total iterations (shared-iterations)
      --tag K=V                   tag added to every sample (repeatable)
  -o, --out TYPE=ARG              output: json=FILE, influxdb=URL, xk6-influxdb=URL (repeatable)
      --summary-export FILE       write the end-of-test summary as JSON
      --execution-segment SEG     e.g. 0:1/3
      --execution-segment-sequence SEQ  e.g. 0,1/3,2/3,1
      --system-tags LIST          comma-separated system tags
      --include-system-env-vars[=false] pass the process environment to __ENV (default true)
      --no-color                  summary data option noColor (also K6_NO_COLOR, NO_COLOR)
      --no-usage-report           accepted; the engine never reports usage
  -q, --quiet                     no progress output
      --no-summary                no end-of-test summary (and no handleSummary)
`;

class UsageError extends Error {}

function kv(v: string, flag: string): [string, string] {
  const i = v.indexOf('=');
  if (i <= 0) throw new UsageError(`${flag} expects KEY=VALUE, got "${v}"`);
  return [v.slice(0, i), v.slice(i + 1)];
}

export function parseRunArgs(argv: string[]): RunOptions {
  const o: RunOptions = { script: '' };
  const env: Record<string, string> = {};
  const tags: Record<string, string> = {};
  const out: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i] as string;
    let inline: string | undefined;
    if (a.startsWith('--') && a.includes('=')) {
      inline = a.slice(a.indexOf('=') + 1);
      a = a.slice(0, a.indexOf('='));
    }
    const val = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`flag needs an argument: ${a}`);
      return v;
    };
    const int = (): number => {
      const v = val();
      if (!/^\d+$/.test(v)) throw new UsageError(`invalid argument "${v}" for "${a}" flag: must be a whole number`);
      return Number(v);
    };
    switch (a) {
      case '-e':
      case '--env': {
        const [k, v] = kv(val(), a);
        env[k] = v;
        break;
      }
      case '-u':
      case '--vus':
        o.vus = int();
        break;
      case '-d':
      case '--duration':
        o.duration = val();
        break;
      case '-i':
      case '--iterations':
        o.iterations = int();
        break;
      case '--tag': {
        const [k, v] = kv(val(), a);
        tags[k] = v;
        break;
      }
      case '-o':
      case '--out':
        out.push(val());
        break;
      case '--summary-export':
        o.summaryExport = val();
        break;
      case '--execution-segment':
        o.executionSegment = val();
        break;
      case '--execution-segment-sequence':
        o.executionSegmentSequence = val();
        break;
      case '--system-tags':
        o.systemTags = val()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case '--include-system-env-vars':
        // A boolean flag in k6 (pflag): bare means true, a value only as --flag=false.
        if (inline !== undefined && !/^(true|false|1|0)$/.test(inline)) throw new UsageError(`invalid argument "${inline}" for "${a}" flag`);
        o.includeSystemEnv = inline === undefined || inline === 'true' || inline === '1';
        break;
      case '--no-color':
        o.noColor = true;
        break;
      case '--no-usage-report':
        break; // the engine never reports usage
      case '-q':
      case '--quiet':
        o.quiet = true;
        break;
      case '--no-summary':
        o.noSummary = true;
        break;
      case '-h':
      case '--help':
        throw new UsageError('help');
      default:
        if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown flag: ${a}`);
        positionals.push(a);
    }
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'run needs a SCRIPT argument' : `run takes one SCRIPT, got ${positionals.length}`);
  o.script = positionals[0] as string;
  if (Object.keys(env).length) o.env = env;
  if (Object.keys(tags).length) o.tags = tags;
  if (out.length) o.out = out;
  return o;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd !== 'run') {
    process.stderr.write(`${STARTUP_LINE}\n${cmd === undefined || cmd === '-h' || cmd === '--help' ? '' : `engine: unknown command "${cmd}"; only "run" is implemented\n`}${USAGE}`);
    return cmd === undefined || cmd === '-h' || cmd === '--help' ? 0 : 2;
  }
  let opts: RunOptions;
  try {
    opts = parseRunArgs(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      if (e.message === 'help') {
        process.stdout.write(USAGE);
        return 0;
      }
      process.stderr.write(`${STARTUP_LINE}\nengine: ${e.message}; see engine run --help\n`);
      return 2;
    }
    throw e;
  }
  // First SIGINT/SIGTERM: stop gracefully (k6 exit code 105); a second one: exit at once.
  const stop = new AbortController();
  let sig = 'interrupt';
  const onSignal = (name: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(105);
    sig = name === 'SIGTERM' ? 'terminated' : 'interrupt';
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const r = await runK6({ ...opts, signal: stop.signal, signalName: () => sig });
  return r.exitCode;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      // Sockets or timers left by a misbehaving script must not keep the process alive.
      process.exitCode = code;
      setTimeout(() => process.exit(code), 200).unref();
      const hard = setTimeout(() => process.exit(code), 5000);
      hard.unref();
    },
    (e: unknown) => {
      process.stderr.write(`engine: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
