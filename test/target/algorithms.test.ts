// Regression: the token toolkit offers ES256 (`npm run tokens -- --alg ES256`) but the target
// pinned RS256, so every valid ES256 token was refused. Algorithms now default to what the
// JWKS keys declare (asymmetric only) and stay pinned: the catalogue is still refused.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startTarget, type RunningTarget } from '../../target/server.ts';
import { createTokenSet, writeTokenSet } from '../../tools/tokens/index.ts';
import { attempt, collectLogs } from '../helpers/target-client.ts';

let dir: string;
let set: Awaited<ReturnType<typeof createTokenSet>>;
let target: RunningTarget;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'target-es256-'));
  set = await createTokenSet({ users: 2, alg: 'ES256', seed: 'es256' });
  await writeTokenSet(dir, set);
  target = await startTarget({ tokensDir: dir, log: collectLogs().sink, logFormat: 'json' });
});
after(async () => {
  await target?.close();
  await rm(dir, { recursive: true, force: true });
});

test('an ES256 JWKS pins ES256: valid ES256 tokens are accepted and attributed to their oid', async () => {
  assert.equal((set.jwks.keys[0] as { alg?: string }).alg, 'ES256');
  for (const [i, user] of set.pool.users.entries()) {
    const a = await attempt(target.wsUrl, `es256-ok-${i}`, user.tokens[0]!.token);
    assert.equal(a.outcome, 'accepted', `user ${i}: ${JSON.stringify(a.outcome === 'accepted' ? {} : a)}`);
    if (a.outcome === 'accepted') {
      assert.equal(a.first.user_id, user.oid);
      a.ws.close();
    }
  }
});

test('with ES256 pinned, every catalogue variant is still refused with 1008 Invalid token (or 414 for oversized)', async () => {
  for (const c of set.invalid.cases) {
    const a = await attempt(target.wsUrl, `es256-bad-${c.variant}`, c.token);
    if (a.outcome === 'rejected_http') {
      assert.ok(c.expected.httpStatuses.includes(a.status), `${c.variant}: HTTP ${a.status}`);
    } else {
      assert.deepEqual(a.outcome === 'rejected_close' ? { code: a.code, reason: a.reason } : a.outcome, { code: 1008, reason: 'Invalid token' }, c.variant);
    }
  }
});

test('an explicit algorithm list overrides the JWKS: pinning RS256 over an ES256-only JWKS refuses to start', async () => {
  const strict = await startTarget({ tokensDir: dir, algorithms: ['RS256'], log: collectLogs().sink, logFormat: 'json' }).catch((e: unknown) => e);
  // The ES256 key cannot serve RS256, so the target refuses to start with a clear user error.
  assert.ok(strict instanceof Error && /no signing key for RS256/.test(strict.message), String(strict));
});

test('--algorithms accepts only asymmetric algorithms (HS256 and none are user errors)', async () => {
  const { main } = await import('../../target/cli.ts');
  for (const bad of ['HS256', 'none', 'RS256,HS512', '']) {
    await assert.rejects(main(['--tokens', dir, '--algorithms', bad]), /--algorithms takes a comma-separated list of RS256/, bad);
  }
});
