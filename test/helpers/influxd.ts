// A throwaway InfluxDB 1.x server for tests: Debian's `influxd` on a temporary directory,
// every listener on 127.0.0.1 (HTTP and the RPC bind address on free ports, the rest
// disabled), reporting off. One per test file: start it once, stop it in `after`.
//
// In CI (CI=true) a missing influxd is a failure; locally the caller may skip.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export interface InfluxResult {
  statement_id?: number;
  series?: InfluxSeries[];
  error?: string;
}

export interface RunningInfluxd {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** The temporary directory (config, meta, data, wal); removed by stop(). */
  readonly dir: string;
  /** The generated configuration file. */
  readonly configPath: string;
  /** Runs InfluxQL (one or more statements); timestamps as epoch milliseconds. Throws on an HTTP or statement error. */
  query(q: string, db?: string): Promise<InfluxResult[]>;
  /** Writes line protocol (precision ms unless given). */
  write(db: string, lines: string | string[], precision?: 'ns' | 'u' | 'ms' | 's'): Promise<void>;
  /** The server's log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** Where influxd is, or null: $INFLUXD_BIN, else the first `influxd` on PATH. */
export function findInfluxd(): string | null {
  const candidates: string[] = [];
  if (process.env.INFLUXD_BIN) candidates.push(process.env.INFLUXD_BIN);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, 'influxd'));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // try the next one
    }
  }
  return null;
}

const MISSING =
  'influxd (InfluxDB 1.x) not found: install Debian\'s "influxdb" package (.ci/run does) or set INFLUXD_BIN';

/**
 * For node:test's `skip` option: undefined when influxd exists, a reason to skip otherwise.
 * In CI (CI=true) a missing influxd throws instead, so the suite fails rather than skips.
 */
export function influxdSkipReason(): string | undefined {
  if (findInfluxd()) return undefined;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`${MISSING} (CI=true: this is a failure, not a skip)`);
  return MISSING;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function configToml(dir: string, httpPort: number, rpcPort: number): string {
  // Only the sections we change; influxd fills in the rest with its defaults, whose other
  // listeners (graphite, collectd, opentsdb, udp, ifql) are disabled by default and are
  // disabled here explicitly as well.
  return `reporting-enabled = false
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  index-version = "inmem"
  query-log-enabled = false
  wal-fsync-delay = "0s"

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  pprof-enabled = false
  unix-socket-enabled = false

[ifql]
  enabled = false
  bind-address = "127.0.0.1:0"

[logging]
  level = "warn"
  suppress-logo = true

[[graphite]]
  enabled = false
[[collectd]]
  enabled = false
[[opentsdb]]
  enabled = false
[[udp]]
  enabled = false
`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function ping(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(500) });
    await res.arrayBuffer();
    return res.status === 204;
  } catch {
    return false;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(5000).then(() => true)]);
  if (timedOut) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(2000)]);
  }
}

/** Starts influxd and waits for /ping (up to `timeoutMs`). Retries once on a port race. */
export async function startInfluxd({ timeoutMs = 15_000 }: { timeoutMs?: number } = {}): Promise<RunningInfluxd> {
  const bin = findInfluxd();
  if (!bin) throw new Error(MISSING);
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(bin, timeoutMs);
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr;
}

async function startOnce(bin: string, timeoutMs: number): Promise<RunningInfluxd> {
  const dir = await mkdtemp(join(tmpdir(), 'influxd-test-'));
  const httpPort = await freePort();
  let rpcPort = await freePort();
  if (rpcPort === httpPort) rpcPort = await freePort();
  const configPath = join(dir, 'influxdb.conf');
  await writeFile(configPath, configToml(dir, httpPort, rpcPort));

  let logText = '';
  const child = spawn(bin, ['run', '-config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, INFLUXDB_REPORTING_DISABLED: 'true' },
  });
  const keep = (b: Buffer) => {
    logText += b.toString();
    if (logText.length > 64_000) logText = logText.slice(-32_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${httpPort}`;

  const cleanup = async () => {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  let up = false;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (await ping(url)) {
      up = true;
      break;
    }
    await sleep(100);
  }
  if (!up) {
    await cleanup();
    throw new Error(`influxd did not answer /ping on ${url} within ${timeoutMs} ms; log:\n${logText.slice(-4000)}`);
  }

  let stopped = false;
  return {
    url,
    port: httpPort,
    dir,
    configPath,
    log: () => logText,
    async query(q, db) {
      const body = new URLSearchParams({ q, epoch: 'ms' });
      if (db) body.set('db', db);
      const res = await fetch(`${url}/query`, {
        method: 'POST',
        body,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`influx query failed (HTTP ${res.status}): ${text.slice(0, 500)}\nquery: ${q}`);
      const json = JSON.parse(text) as { results?: InfluxResult[]; error?: string };
      if (json.error) throw new Error(`influx query error: ${json.error}\nquery: ${q}`);
      const results = json.results ?? [];
      for (const r of results) if (r.error) throw new Error(`influx statement error: ${r.error}\nquery: ${q}`);
      return results;
    },
    async write(db, lines, precision = 'ms') {
      const payload = Array.isArray(lines) ? lines.join('\n') : lines;
      const res = await fetch(`${url}/write?db=${encodeURIComponent(db)}&precision=${precision}`, {
        method: 'POST',
        body: payload,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (res.status !== 204) throw new Error(`influx write failed (HTTP ${res.status}): ${text.slice(0, 500)}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await cleanup();
    },
  };
}
