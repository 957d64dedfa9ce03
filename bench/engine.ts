// `npm run bench -- engine [--vus 1000,5000,10000] [--window 3]`: engine memory per VU and
// CPU with N VUs each holding one idle k6/websockets socket to a server in another process.
// Method and results: docs/performance.md ## engine.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { parseCliArgs, UserError } from '../tools/common/cli.ts';
import { runK6 } from '../engine/index.ts';

// The server child: a plain `ws` server that counts open sockets and, on request, closes
// them all with 1000. It reports over IPC.
const SERVER = `
import { WebSocketServer } from 'ws';
const host = process.argv[1];
const wss = new WebSocketServer({ host, port: 0, backlog: 8192, perMessageDeflate: false });
let open = 0;
wss.on('connection', (ws) => { open++; ws.on('close', () => open--); ws.on('error', () => {}); });
wss.on('listening', () => process.send({ port: wss.address().port }));
process.on('message', (m) => {
  if (m === 'count') process.send({ open, rss: process.memoryUsage().rss });
  if (m === 'close') for (const c of wss.clients) c.close(1000, 'bench done');
  if (m === 'exit') wss.close(() => process.exit(0));
});
`;

const SCRIPT = `
import { WebSocket } from 'k6/websockets';
export const options = {
  scenarios: { idle: { executor: 'per-vu-iterations', vus: Number(__ENV.N), iterations: 1, maxDuration: '10m', gracefulStop: '5s' } },
};
export default function () {
  // One idle socket per VU; the iteration lives until the server closes it.
  new WebSocket(__ENV.URL, null, { tags: { name: 'bench' } });
}
`;

interface Row {
  vus: number;
  openMs: number;
  rssBaseMiB: number;
  rssOpenMiB: number;
  heapOpenMiB: number;
  rssPerVuKiB: number;
  heapPerVuKiB: number;
  cpuRampPct: number;
  cpuIdlePct: number;
  serverRssMiB: number;
  exitCode: number;
}

function gcFn(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

function ask(child: ChildProcess, msg: string): Promise<{ open: number; rss: number }> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      const r = m as { open?: number; rss?: number };
      if (typeof r.open === 'number') {
        child.off('message', on);
        resolve({ open: r.open, rss: r.rss ?? 0 });
      }
    };
    child.on('message', on);
    child.send(msg);
  });
}

async function startServer(host: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SERVER, host], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    cwd: process.cwd(),
  });
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('bench server did not start within 10 s')), 10_000);
    child.once('message', (m) => {
      clearTimeout(t);
      resolve((m as { port: number }).port);
    });
    child.once('exit', (c) => reject(new Error(`bench server exited with ${c}`)));
  });
  return { child, port };
}

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function one(n: number, host: string, windowMs: number, scriptPath: string, gc: () => void): Promise<Row> {
  const { child, port } = await startServer(host);
  try {
    gc();
    await sleep(200);
    const base = process.memoryUsage();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const runP = runK6({
      script: scriptPath,
      env: { N: String(n), URL: `ws://${host}:${port}/bench` },
      includeSystemEnv: false,
      noSummary: true,
      quiet: true,
      stdout: () => {},
      stderr: (s) => {
        if (/level=(error|warning)/.test(s)) process.stderr.write(s);
      },
    });
    let open = 0;
    const deadline = Date.now() + 120_000;
    while (open < n && Date.now() < deadline) {
      await sleep(100);
      open = (await ask(child, 'count')).open;
      if (process.stderr.isTTY) process.stderr.write(`\r  ${n} VUs: ${open} sockets open   `);
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
    if (open < n) throw new Error(`only ${open} of ${n} sockets opened within 120 s`);
    const openMs = performance.now() - t0;
    const cpuRamp = process.cpuUsage(cpu0);
    await sleep(1000); // settle
    gc();
    const cpu1 = process.cpuUsage();
    const w0 = performance.now();
    await sleep(windowMs);
    const cpuIdle = process.cpuUsage(cpu1);
    const idleWall = performance.now() - w0;
    const mem = process.memoryUsage();
    const srv = await ask(child, 'count');
    child.send('close');
    const res = await runP;
    return {
      vus: n,
      openMs,
      rssBaseMiB: base.rss / MiB,
      rssOpenMiB: mem.rss / MiB,
      heapOpenMiB: mem.heapUsed / MiB,
      rssPerVuKiB: (mem.rss - base.rss) / n / 1024,
      heapPerVuKiB: (mem.heapUsed - base.heapUsed) / n / 1024,
      cpuRampPct: ((cpuRamp.user + cpuRamp.system) / 1000 / openMs) * 100,
      cpuIdlePct: ((cpuIdle.user + cpuIdle.system) / 1000 / idleWall) * 100,
      serverRssMiB: srv.rss / MiB,
      exitCode: res.exitCode,
    };
  } finally {
    child.send('exit');
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseCliArgs(args, { vus: { type: 'string' }, window: { type: 'string' } });
  const sizes = String(values['vus'] ?? '1000,5000,10000')
    .split(',')
    .map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 15_000)) {
    throw new UserError('--vus takes a comma-separated list of integers between 1 and 15000 (the fd limit is 20,000 per process)');
  }
  const windowS = Number(values['window'] ?? '3');
  if (!(windowS > 0 && windowS <= 60)) throw new UserError('--window takes seconds between 0 and 60');
  const dir = path.resolve('tmp', 'bench-engine');
  mkdirSync(dir, { recursive: true });
  const scriptPath = path.join(dir, 'idle-sockets.js');
  writeFileSync(scriptPath, SCRIPT);
  const gc = gcFn();
  const rows: Row[] = [];
  // A fresh server process and loopback address per size, so TIME_WAIT from one run cannot
  // starve the next of ephemeral ports.
  for (const [i, n] of sizes.entries()) rows.push(await one(n, `127.0.0.${2 + (i % 200)}`, windowS * 1000, scriptPath, gc));
  const f = (x: number, d = 1) => x.toFixed(d);
  process.stdout.write(
    `engine bench: idle k6/websockets sockets, one per VU (node ${process.version}, ${process.platform})\n` +
      `| VUs | all open after | engine RSS (base → open) | RSS per VU | heap per VU | CPU while opening | CPU idle (${windowS}s) | server RSS | exit |\n` +
      `|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n` +
      rows
        .map(
          (r) =>
            `| ${r.vus} | ${f(r.openMs / 1000, 2)} s | ${f(r.rssBaseMiB, 0)} → ${f(r.rssOpenMiB, 0)} MiB | ${f(r.rssPerVuKiB)} KiB | ${f(r.heapPerVuKiB)} KiB | ${f(r.cpuRampPct, 0)} % | ${f(r.cpuIdlePct)} % | ${f(r.serverRssMiB, 0)} MiB | ${r.exitCode} |`,
        )
        .join('\n') +
      '\n',
  );
  return rows.every((r) => r.exitCode === 0) ? 0 : 1;
}
