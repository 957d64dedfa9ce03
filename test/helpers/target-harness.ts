// Starts a reference target for a test with logs collected and a guard: every session that
// reaches the target's `connection` handler is recorded, and `assertGuard()` fails the test
// if any of them was one the test expected to be rejected.
import assert from 'node:assert/strict';
import { startTarget, type RunningTarget, type SessionInfo, type TargetOptions } from '../../target/server.ts';
import { collectLogs, type LogCollector } from './target-client.ts';
import type { TestTokens } from './target-tokens.ts';

export interface Harness {
  target: RunningTarget;
  logs: LogCollector;
  sessions: SessionInfo[];
  /** Session ids that must never reach the connection handler. */
  mustReject: Set<string>;
  assertGuard(): void;
  close(): Promise<void>;
}

export async function startHarness(tokens: TestTokens, opts: TargetOptions = {}): Promise<Harness> {
  const logs = collectLogs();
  const sessions: SessionInfo[] = [];
  const mustReject = new Set<string>();
  const target = await startTarget({ tokensDir: tokens.dir, logFormat: 'json', log: logs.sink, ...opts, onSession: (s) => sessions.push(s) });
  return {
    target,
    logs,
    sessions,
    mustReject,
    assertGuard() {
      const bad = sessions.filter((s) => mustReject.has(s.sessionId));
      assert.deepEqual(bad, [], 'a client that had to be rejected reached the connection handler');
    },
    close: () => target.close(),
  };
}

/** A base64url JSON object start ('{"'), built at run time so this file has no JWT-like text. */
const JWT_LIKE = new RegExp(`${'e'}yJ[A-Za-z0-9_-]{8,}`);

/** Every log line, checked for secrets: no token, no signature fragment, no query string. */
export function assertNoSecrets(lines: readonly string[], tokens: readonly string[]): void {
  for (const line of lines) {
    assert.ok(!JWT_LIKE.test(line), `a log line carries something JWT-like: ${line.slice(0, 120)}`);
    assert.ok(!line.includes('token='), `a log line carries a query string: ${line.slice(0, 120)}`);
    for (const t of tokens) {
      const sig = t.split('.')[2];
      if (t.length >= 16) assert.ok(!line.includes(t.slice(0, 40)), 'a log line carries a token');
      if (sig && sig.length >= 16) assert.ok(!line.includes(sig.slice(0, 24)), 'a log line carries a signature');
    }
  }
}
