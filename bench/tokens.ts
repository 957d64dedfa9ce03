// `npm run bench -- tokens [--users 100000] [--alg RS256] [--raw-seconds 5] [--workers N]`
// Minting throughput of the token toolkit (worker threads, jose) next to the raw
// single-core signing rate of node:crypto measured in the same run. Method and results:
// docs/performance.md, section "tokens". Prints rates only, never a token or key.
import { createPrivateKey, sign } from 'node:crypto';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { intFlag, parseCliArgs, UserError } from '../tools/common/cli.ts';
import { createTokenSet, SIGNING_ALGS, type SigningAlg } from '../tools/tokens/index.ts';
import { newSigningKey } from '../tools/tokens/keys.ts';

/** Signs a JWT-sized input with node:crypto, synchronously, on this thread only. */
function rawSingleCoreRate(privateKeyPem: string, alg: SigningAlg, seconds: number): { rate: number; count: number; cpuRate: number } {
  // Same size as a minted token's signing input (header + payload, ~780 bytes).
  const input = Buffer.from('x'.repeat(780));
  const key = createPrivateKey(privateKeyPem); // parsed once: the loop measures signing only
  const opts = alg === 'RS256' ? { key } : { key, dsaEncoding: 'ieee-p1363' as const };
  for (let i = 0; i < 50; i++) sign('sha256', input, opts); // warm-up
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let count = 0;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 20; i++) sign('sha256', input, opts);
    count += 20;
    now = process.hrtime.bigint();
  }
  const cpu = process.cpuUsage(cpu0);
  return { rate: count / (Number(now - start) / 1e9), count, cpuRate: count / ((cpu.user + cpu.system) / 1e6) };
}

/**
 * The same raw signing loop on `threads` worker threads at once, for `seconds`: what the
 * machine delivers with every core signing, under the same load as the toolkit's run.
 */
async function rawAllCoresRate(privateKeyPem: string, alg: SigningAlg, threads: number, seconds: number): Promise<number> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createPrivateKey, sign } = require('node:crypto');
    const key = createPrivateKey(workerData.pem);
    const opts = workerData.alg === 'RS256' ? { key } : { key, dsaEncoding: 'ieee-p1363' };
    const input = Buffer.from('x'.repeat(780));
    for (let i = 0; i < 50; i++) sign('sha256', input, opts);
    const end = Date.now() + workerData.seconds * 1000;
    let n = 0;
    while (Date.now() < end) { for (let i = 0; i < 20; i++) sign('sha256', input, opts); n += 20; }
    parentPort.postMessage(n);`;
  const t0 = process.hrtime.bigint();
  const counts = await Promise.all(Array.from({ length: threads }, () => new Promise<number>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { pem: privateKeyPem, alg, seconds } });
    w.once('message', (n: number) => { resolve(n); void w.terminate(); });
    w.once('error', reject);
  })));
  return counts.reduce((a, b) => a + b, 0) / (Number(process.hrtime.bigint() - t0) / 1e9);
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseCliArgs(args, {
    users: { type: 'string' },
    alg: { type: 'string' },
    'raw-seconds': { type: 'string' },
    workers: { type: 'string' },
  });
  const users = intFlag('users', values.users, 100_000, 1, 10_000_000);
  const rawSeconds = intFlag('raw-seconds', values['raw-seconds'], 5, 1, 600);
  const cores = availableParallelism();
  const workers = intFlag('workers', values.workers, cores, 0, 64);
  const alg = (values.alg ?? 'RS256') as SigningAlg;
  if (!SIGNING_ALGS.includes(alg)) throw new UserError(`--alg must be RS256 or ES256, got "${values.alg}"`);

  const key = await newSigningKey(alg);
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`bench tokens: ${cpus()[0]?.model ?? 'cpu'} x${cores}, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const raw = rawSingleCoreRate(key.privateKeyPem, alg, rawSeconds);
  out(`raw node:crypto ${alg} sign, one core: ${raw.rate.toFixed(0)} signatures/s (${raw.count} in ${rawSeconds} s); ${raw.cpuRate.toFixed(0)} per CPU-second`);

  const rawAll = await rawAllCoresRate(key.privateKeyPem, alg, cores, rawSeconds);
  out(`raw node:crypto ${alg} sign, ${cores} threads at once: ${rawAll.toFixed(0)} signatures/s (${(rawAll / raw.rate).toFixed(2)}x one core, same run)`);

  const tty = process.stderr.isTTY;
  const cpu0 = process.cpuUsage(); // whole process: main thread, workers and the libuv pool
  const t0 = process.hrtime.bigint();
  const set = await createTokenSet({
    users, alg, key, workers,
    onProgress: tty ? (d, total) => process.stderr.write(`\rminting ${d}/${total}`) : undefined,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  if (tty) process.stderr.write('\n');
  const minted = set.pool.users.reduce((n, u) => n + u.tokens.length, 0);
  const rate = minted / seconds;
  const target = 0.8 * cores * raw.rate;
  out(`toolkit mint (jose, ${workers} worker threads): ${minted} tokens in ${seconds.toFixed(1)} s = ${rate.toFixed(0)} tokens/s`
    + ` (includes key import, claims, catalogue)`);
  out(`toolkit CPU: ${cpuSeconds.toFixed(1)} CPU-s = ${(minted / cpuSeconds).toFixed(0)} tokens per CPU-second`
    + ` (${((minted / cpuSeconds / raw.cpuRate) * 100).toFixed(0)} % of raw per CPU-second); parallelism ${(cpuSeconds / seconds).toFixed(2)} cores busy`);
  out(`projected on ${cores} idle cores: ${(cores * (minted / cpuSeconds)).toFixed(0)} tokens/s vs target ${(0.8 * cores * raw.cpuRate).toFixed(0)} (0.8 x ${cores} x raw per CPU-second)`);
  out(`ratio to one raw core: ${(rate / raw.rate).toFixed(2)}x; target 0.8 x ${cores} cores = ${target.toFixed(0)} tokens/s: ${rate >= target ? 'MET' : 'MISSED'}`);
  out(`toolkit vs raw on all cores at once: ${((rate / rawAll) * 100).toFixed(0)} %`);
  out(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  return 0;
}
