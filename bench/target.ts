// `npm run bench -- target [--duration S] [--concurrency N] [--idle N] [--skip-idle]`
// Measures the reference target on this machine, with the target in its own process (the
// real CLI, logs off) and the load in one or more OTHER processes (this file, in client mode):
//   1. accepted handshakes/s with RS256 verification (valid tokens),
//   2. the same with auth off (no token, POC user): the ratio is the cost of auth,
//   3. rejected handshakes/s (invalid catalogue tokens), close style and http style,
//   4. concurrent idle sessions one target process holds, with memory per session.
// Clients are raw TCP upgrade requests (cheaper than a WebSocket client, so the target is the
// bottleneck), spread over several 127.0.0.x source addresses so ephemeral ports never run out.
// Method and results: docs/performance.md, section "target".
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { intFlag, parseCliArgs, runMain } from '../tools/common/cli.ts';

const SELF = fileURLToPath(import.meta.url);
const ROOT = join(SELF, '..', '..');

// ---------------------------------------------------------------------------------------
// Client mode (runs in a child process): config in BENCH_TARGET_CLIENT, one JSON line out.
// ---------------------------------------------------------------------------------------

interface ClientConfig {
  mode: 'rate' | 'idle';
  port: number;
  /** Request paths to cycle through (already carrying their token). */
  paths: string[];
  /** What marks success in the bytes received. */
  expect: 'first_event' | 'close_1008' | 'http_403';
  concurrency: number;
  durationMs: number;
  /** idle mode: sessions to open and hold. */
  count: number;
  /** Source addresses 127.0.0.x to spread connections over. */
  sources: string[];
}

function request(path: string): Buffer {
  return Buffer.from(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    'latin1',
  );
}

function succeeded(expect: ClientConfig['expect'], buf: string): boolean {
  if (expect === 'first_event') return buf.startsWith('HTTP/1.1 101') && buf.includes('session.created');
  if (expect === 'close_1008') return buf.startsWith('HTTP/1.1 101') && buf.includes('Invalid token');
  return buf.startsWith('HTTP/1.1 403') && buf.includes('\r\n\r\n');
}

/** One upgrade; resolves true on the expected answer. `hold` keeps an accepted socket open. */
function handshake(cfg: ClientConfig, req: Buffer, source: string, hold: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port: cfg.port, host: '127.0.0.1', localAddress: source });
    s.setNoDelay(true);
    let buf = '';
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!ok || !hold) s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), 10_000);
    s.on('connect', () => s.write(req));
    s.on('data', (c) => {
      if (done) return; // held idle sessions: discard whatever arrives
      buf += c.toString('latin1');
      if (succeeded(cfg.expect, buf)) finish(true);
    });
    s.on('error', () => finish(false));
    s.on('close', () => finish(false));
  });
}

async function clientMain(cfg: ClientConfig): Promise<void> {
  const reqs = cfg.paths.map(request);
  let i = 0;
  let ok = 0;
  let failed = 0;
  const t0 = performance.now();
  if (cfg.mode === 'rate') {
    const end = Date.now() + cfg.durationMs;
    const worker = async (): Promise<void> => {
      while (Date.now() < end) {
        const n = i++;
        if (await handshake(cfg, reqs[n % reqs.length]!, cfg.sources[n % cfg.sources.length]!, false)) ok++;
        else failed++;
      }
    };
    await Promise.all(Array.from({ length: cfg.concurrency }, worker));
    const secs = (performance.now() - t0) / 1000;
    process.stdout.write(`${JSON.stringify({ ok, failed, secs, perSec: ok / secs })}\n`);
    return;
  }
  // idle: open `count` sessions with bounded concurrency, report, then hold until stdin closes.
  const worker = async (): Promise<void> => {
    while (i < cfg.count) {
      const n = i++;
      if (await handshake(cfg, reqs[n % reqs.length]!, cfg.sources[n % cfg.sources.length]!, true)) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: cfg.concurrency }, worker));
  process.stdout.write(`${JSON.stringify({ ok, failed, secs: (performance.now() - t0) / 1000 })}\n`);
  await new Promise<void>((r) => {
    process.stdin.on('end', () => r());
    process.stdin.on('close', () => r());
    process.stdin.resume();
  });
  process.exit(0);
}

// ---------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------

interface Target {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

async function startTargetProcess(tokensDir: string, extra: string[]): Promise<Target> {
  const readyFile = join(tokensDir, `ready-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'target', 'cli.ts'), '--tokens', tokensDir, '--log', 'none', '--ready-file', readyFile, ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: ROOT,
  });
  child.stdout!.resume();
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = JSON.parse(await readFile(readyFile, 'utf8')) as { port: number };
      await rm(readyFile, { force: true });
      return {
        child,
        port: r.port,
        stop: () =>
          new Promise<void>((res) => {
            if (child.exitCode !== null) return res();
            const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(t);
              res();
            });
            child.kill('SIGTERM');
          }),
      };
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error('the target did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

let configSeq = 0;
/** The client's config goes in a file (tokens make it too big for the environment). */
async function runClient(dir: string, cfg: ClientConfig): Promise<{ child: ChildProcess; first: Promise<Record<string, number>> }> {
  const file = join(dir, `client-${process.pid}-${configSeq++}.json`);
  await writeFile(file, JSON.stringify(cfg), { mode: 0o600 });
  const child = spawn(process.execPath, ['--import', 'tsx', SELF], {
    env: { ...process.env, BENCH_TARGET_CLIENT: file },
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: ROOT,
  });
  const first = new Promise<Record<string, number>>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c) => {
      out += String(c);
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as Record<string, number>);
    });
    child.once('exit', (code) => reject(new Error(`client exited (${code}) before reporting`)));
  });
  return { child, first };
}

async function targetStats(port: number): Promise<Record<string, any>> {
  const res = await fetch(`http://127.0.0.1:${port}/stats`);
  return (await res.json()) as Record<string, any>;
}

function sockstatMemPages(text: string): number {
  const m = /TCP: .* mem (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

/** User + system CPU seconds of a process (all its threads), from /proc/PID/stat. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

function slabKiB(text: string): number {
  const m = /^Slab:\s+(\d+) kB/m.exec(text);
  return m ? Number(m[1]) : 0;
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export async function main(args: string[]): Promise<number> {
  const { values } = parseCliArgs(args, {
    duration: { type: 'string' },
    concurrency: { type: 'string' },
    idle: { type: 'string' },
    'skip-idle': { type: 'boolean' },
    'skip-rates': { type: 'boolean' },
    clients: { type: 'string' },
  });
  const durationMs = intFlag('duration', values.duration, 5, 1, 600) * 1000;
  const concurrency = intFlag('concurrency', values.concurrency, 64, 1, 2000);
  const idleTarget = intFlag('idle', values.idle, 19_950, 1, 100_000);
  const clientProcs = intFlag('clients', values.clients, 1, 1, 8);
  const sources = Array.from({ length: 8 }, (_, k) => `127.0.0.${k + 2}`);

  const { createTokenSet, writeTokenSet } = await import('../tools/tokens/index.ts');
  await mkdir(join(ROOT, 'tmp'), { recursive: true });
  const dir = await mkdtemp(join(ROOT, 'tmp', 'bench-target-'));
  const log = (s: string): void => void process.stdout.write(`${s}\n`);
  try {
    const set = await createTokenSet({ users: 200, workers: 0 });
    await writeTokenSet(dir, set);
    const validPaths = set.pool.users.map((u, k) => `/api/v1/voice/voicelive/bench-${k}?token=${encodeURIComponent(u.tokens[0]!.token)}`);
    const invalidPaths = set.invalid.cases.filter((c) => c.variant !== 'oversized').map((c, k) => `/api/v1/voice/voicelive/bad-${k}?token=${encodeURIComponent(c.token)}`);
    const noTokenPaths = Array.from({ length: 200 }, (_, k) => `/api/v1/voice/voicelive/noauth-${k}`);
    log(`target bench: ${clientProcs} client process(es) x ${concurrency} in flight, ${durationMs / 1000} s per run, node ${process.version}, load average ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}`);

    const rate = async (label: string, targetArgs: string[], paths: string[], expect: ClientConfig['expect']): Promise<number> => {
      const t = await startTargetProcess(dir, targetArgs);
      try {
        // Warm-up (JIT, key import paths), then the measured run.
        await (await runClient(dir, { mode: 'rate', port: t.port, paths, expect, concurrency, durationMs: 1000, count: 0, sources })).first;
        const cpu0 = await cpuSeconds(t.child.pid!);
        const runs = await Promise.all(Array.from({ length: clientProcs }, () => runClient(dir, { mode: 'rate', port: t.port, paths, expect, concurrency, durationMs, count: 0, sources })));
        const results = await Promise.all(runs.map((r) => r.first));
        const cpu = (await cpuSeconds(t.child.pid!)) - cpu0;
        const perSec = results.reduce((a, r) => a + (r.perSec ?? 0), 0);
        const ok = results.reduce((a, r) => a + (r.ok ?? 0), 0);
        const failed = results.reduce((a, r) => a + (r.failed ?? 0), 0);
        const s = await targetStats(t.port);
        const cpuUs = (cpu * 1e6) / Math.max(1, ok);
        log(`  ${label.padEnd(44)} ${fmt(perSec).padStart(8)} /s   target CPU ${fmt(cpuUs).padStart(5)} us/handshake (= ${fmt(1e6 / cpuUs).padStart(6)} /s per core)   failed ${failed}, rss ${fmt(s.memory.rssBytes / 2 ** 20)} MiB`);
        return 1e6 / cpuUs;
      } finally {
        await t.stop();
      }
    };

    if (!values['skip-rates']) {
    {
      // Machine baseline: the same client against a bare node:http server answering 403.
      const bare = spawn(process.execPath, ['--import', 'tsx', SELF], { env: { ...process.env, BENCH_TARGET_BARE: '1' }, stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
      try {
        const port = await new Promise<number>((resolve, reject) => {
          bare.stdout!.once('data', (c) => resolve((JSON.parse(String(c)) as { port: number }).port));
          bare.once('exit', () => reject(new Error('baseline server exited')));
        });
        await (await runClient(dir, { mode: 'rate', port, paths: noTokenPaths, expect: 'http_403', concurrency, durationMs: 1000, count: 0, sources })).first;
        const r = await (await runClient(dir, { mode: 'rate', port, paths: noTokenPaths, expect: 'http_403', concurrency, durationMs, count: 0, sources })).first;
        log(`  ${'baseline: bare node:http answering 403'.padEnd(44)} ${fmt(r.perSec ?? 0).padStart(8)} /s   (the machine's ceiling for this client)`);
      } finally {
        bare.kill('SIGKILL');
      }
    }
    const rs256 = await rate('accepted handshakes, RS256 verify', [], validPaths, 'first_event');
    const noauth = await rate('accepted handshakes, auth off (no token, POC)', ['--auth-required', 'false'], noTokenPaths, 'first_event');
    log(`  auth cost (target CPU per handshake): RS256 capacity is ${fmt((rs256 / noauth) * 100, 1)} % of auth-off (${fmt((1 - rs256 / noauth) * 100, 1)} % lost)`);
    await rate('rejected handshakes, close style (1008)', [], invalidPaths, 'close_1008');
    await rate('rejected handshakes, http style (403)', ['--reject-style', 'http'], invalidPaths, 'http_403');
    }

    if (!values['skip-idle']) {
      // The target process holds one file per session; its limit is 20,000 files in all.
      const t = await startTargetProcess(dir, []);
      const holders: ChildProcess[] = [];
      try {
        await new Promise((r) => setTimeout(r, 500));
        const before = await targetStats(t.port);
        const sockBefore = sockstatMemPages(await readFile('/proc/net/sockstat', 'utf8'));
        const slabBefore = slabKiB(await readFile('/proc/meminfo', 'utf8'));
        const perClient = Math.ceil(idleTarget / 2);
        const t0 = performance.now();
        const started = await Promise.all([0, 1].map((k) =>
          runClient(dir, { mode: 'idle', port: t.port, paths: validPaths, expect: 'first_event', concurrency: 100, durationMs: 0, count: k === 0 ? perClient : idleTarget - perClient, sources: sources.slice(k * 4, k * 4 + 4) }),
        ));
        holders.push(...started.map((s) => s.child));
        const opened = await Promise.all(started.map((s) => s.first));
        const secs = (performance.now() - t0) / 1000;
        await new Promise((r) => setTimeout(r, 1000));
        // At the open-file limit the target cannot accept even the /stats request: then read
        // its RSS and open files from /proc instead.
        const after = await targetStats(t.port).catch(async () => {
          const status = await readFile(`/proc/${t.child.pid}/status`, 'utf8');
          const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
          const fds = (await readdir(`/proc/${t.child.pid}/fd`)).length;
          log(`    /stats unreachable: the target has ${fmt(fds)} files open (limit 20,000); numbers below from /proc`);
          return { open: opened.reduce((a, r) => a + (r.ok ?? 0), 0), memory: { rssBytes: rssKiB * 1024, heapUsedBytes: before.memory.heapUsedBytes } };
        });
        const sockAfter = sockstatMemPages(await readFile('/proc/net/sockstat', 'utf8'));
        const slabAfter = slabKiB(await readFile('/proc/meminfo', 'utf8'));
        const ok = opened.reduce((a, r) => a + (r.ok ?? 0), 0);
        const n = Math.max(1, after.open as number);
        log(`  idle sessions: asked ${fmt(idleTarget)}, opened ${fmt(ok)} in ${fmt(secs, 1)} s, target reports ${fmt(after.open)} open (failed ${opened.reduce((a, r) => a + (r.failed ?? 0), 0)})`);
        log(`    target rss ${fmt(before.memory.rssBytes / 2 ** 20)} -> ${fmt(after.memory.rssBytes / 2 ** 20)} MiB: ${fmt((after.memory.rssBytes - before.memory.rssBytes) / n / 1024, 1)} KiB rss per session; heap ${fmt((after.memory.heapUsedBytes - before.memory.heapUsedBytes) / n / 1024, 1)} KiB per session`);
        log(`    kernel: TCP buffer memory (both ends, /proc/net/sockstat) ${fmt(((sockAfter - sockBefore) * 4096) / n / 1024, 1)} KiB per session; slab (both ends, whole machine, /proc/meminfo) ${fmt((slabAfter - slabBefore) / n, 1)} KiB per session`);
      } finally {
        for (const h of holders) h.stdin?.end();
        await t.stop();
        for (const h of holders) if (h.exitCode === null) h.kill('SIGKILL');
      }
    }
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Baseline process: a bare node:http server that answers every upgrade with 403 at once. */
function bareServerMain(): void {
  const srv = createServer();
  srv.on('upgrade', (_req, sock) => {
    sock.on('error', () => {});
    sock.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  srv.listen(0, '127.0.0.1', () => {
    const a = srv.address();
    process.stdout.write(`${JSON.stringify({ port: typeof a === 'object' && a ? a.port : 0 })}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}

if (process.env.BENCH_TARGET_BARE) {
  bareServerMain();
} else if (process.env.BENCH_TARGET_CLIENT) {
  readFile(process.env.BENCH_TARGET_CLIENT, 'utf8').then((text) => clientMain(JSON.parse(text) as ClientConfig)).catch((err: unknown) => {
    process.stderr.write(`bench target client: ${String(err)}\n`);
    process.exit(1);
  });
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runMain('bench target', () => main(process.argv.slice(2)));
}
