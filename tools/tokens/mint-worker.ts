// Worker thread: signs the tokens of one slice of users and posts them back.
// Messages: in {job, users}; out {progress: n} repeatedly, then {tokens} or {error}.
import { parentPort, workerData } from 'node:worker_threads';
import { signUsers, type SignJob } from './sign.ts';
import type { TestUser } from './users.ts';

const { job, users } = workerData as { job: SignJob; users: TestUser[] };
let last = 0;
signUsers(job, users, (done) => {
  // Throttle progress messages: at most ~100 per worker.
  if (done - last >= Math.max(1, Math.floor(users.length / 100)) || done === users.length) {
    last = done;
    parentPort!.postMessage({ progress: done });
  }
}).then(
  (tokens) => parentPort!.postMessage({ tokens }),
  (err: unknown) => parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) }),
);
