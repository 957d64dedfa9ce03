// Mints the tokens of many users, in this thread for small pools and over worker threads
// (one per core) for large ones.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { PoolToken } from '../../lib/token-pool-format.ts';
import { signUsers, type SignJob } from './sign.ts';
import type { TestUser } from './users.ts';

/** Below this many tokens, starting workers costs more than it saves. */
export const WORKER_THRESHOLD_TOKENS = 2000;

export interface MintOptions {
  /** Worker threads: 0 = sign in this thread; default = cores when the pool is large, else 0. */
  workers?: number;
  /** Called with the number of users done so far. */
  onProgress?: (doneUsers: number, totalUsers: number) => void;
}

/**
 * Starts a worker running a .ts module. Loader hooks registered in the main thread (tsx)
 * do not reach workers on every Node version, so the worker registers tsx itself first.
 */
function startTsWorker(file: URL, workerData: unknown): Worker {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(file.href)}); })`;
  return new Worker(boot, { eval: true, workerData, execArgv: [] });
}

export function defaultWorkers(totalTokens: number): number {
  return totalTokens >= WORKER_THRESHOLD_TOKENS ? availableParallelism() : 0;
}

export async function mintTokens(job: SignJob, users: TestUser[], opts: MintOptions = {}): Promise<PoolToken[][]> {
  const workers = Math.min(opts.workers ?? defaultWorkers(users.length * job.windows.length), users.length);
  if (workers <= 0) return signUsers(job, users, (d) => opts.onProgress?.(d, users.length));

  const slice = Math.ceil(users.length / workers);
  const done = new Array<number>(workers).fill(0);
  const running: Worker[] = [];
  const parts = Array.from({ length: workers }, (_, w) => {
    const part = users.slice(w * slice, (w + 1) * slice);
    return new Promise<PoolToken[][]>((resolve, reject) => {
      const worker = startTsWorker(new URL('./mint-worker.ts', import.meta.url), { job, users: part });
      running.push(worker);
      worker.on('message', (m: { progress?: number; tokens?: PoolToken[][]; error?: string }) => {
        if (m.progress !== undefined) {
          done[w] = m.progress;
          opts.onProgress?.(done.reduce((a, b) => a + b, 0), users.length);
        } else if (m.tokens) {
          resolve(m.tokens);
        } else {
          reject(new Error(`mint worker failed: ${m.error ?? 'unknown error'}`));
        }
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`mint worker exited with code ${code} before finishing`)));
    });
  });
  try {
    return (await Promise.all(parts)).flat();
  } finally {
    await Promise.all(running.map((w) => w.terminate()));
  }
}
