// Runs a child process with its output captured and a hard time limit (SIGKILL), for tests
// that drive a CLI (the main job, a real k6 binary).
import { spawn } from 'node:child_process';

export interface Captured {
  /** Exit code; `killedCode` when the process was killed or exited on a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

export function spawnCapture(
  command: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number; killedCode?: number },
): Promise<Captured> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? opts.killedCode ?? 1, stdout, stderr });
    });
  });
}
