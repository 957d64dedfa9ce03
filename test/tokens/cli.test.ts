import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { InvalidCatalogueFile, TokenPoolFile } from '../../lib/token-pool-format.ts';
import { main } from '../../tools/tokens/cli.ts';
import { createTokenSet, type JsonWebKeySet } from '../../tools/tokens/index.ts';
import { fakePem, JWT_PREFIX, pinnedVerifier, readJson, runTokensCli, secretNeedles, tempDir, type CliResult } from '../helpers/tokens-harness.ts';

async function captureStdout(fn: () => Promise<unknown>): Promise<string> {
  let text = '';
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    text += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = orig;
  }
  return text;
}

function assertNoSecrets(r: CliResult, needles: string[]): void {
  const all = r.stdout + r.stderr;
  for (const n of needles) assert.ok(!all.includes(n), `output must not contain secret material (${n.slice(0, 6)}...)`);
}

function assertUserError(r: CliResult, re: RegExp): void {
  assert.equal(r.code, 2, `exit 2, got ${r.code}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  assert.match(lines[0]!, /^tokens: /);
  assert.match(lines[0]!, re);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('CLI mints a verifiable pool, reuses its key, and prints no secret', async (t) => {
  const dir = join(await tempDir(t), 'out');
  const r1 = await runTokensCli(['--users', '3', '--out', dir, '--seed', 'cli', '--windows', '2', '--lifetime', '30m']);
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(r1.stderr, '', 'quiet when not a TTY');
  assert.equal(r1.stdout.trim().split('\n').length, 1);
  assert.match(r1.stdout, /3 users x 2 token\(s\), RS256 key \S+ \(new\)/);
  const pool = await readJson<TokenPoolFile>(join(dir, 'pool.json'));
  const jwks = await readJson<JsonWebKeySet>(join(dir, 'jwks.json'));
  const invalid = await readJson<InvalidCatalogueFile>(join(dir, 'invalid.json'));
  const key = await readFile(join(dir, 'signing-key.pem'), 'utf8');
  assert.equal((await stat(join(dir, 'signing-key.pem'))).mode & 0o777, 0o600);
  const verify = pinnedVerifier(jwks as never, pool, 'RS256');
  for (const u of pool.users) {
    const { payload } = await verify(u.tokens[0]!.token);
    assert.equal(payload.exp! - payload.iat!, 1800);
  }
  const tokens = [...pool.users.flatMap((u) => u.tokens.map((x) => x.token)), ...invalid.cases.map((c) => c.token)];
  assert.ok(tokens.every((x, i) => x.startsWith(JWT_PREFIX) || ['malformed', 'garbage'].includes(invalid.cases[i - pool.users.length * 2]?.variant ?? '')), 'the needle matches real tokens');
  assertNoSecrets(r1, secretNeedles(key, tokens));

  const r2 = await runTokensCli(['--users', '2', '--out', dir, '--seed', 'cli', '--workers', '2']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, new RegExp(`key ${jwks.keys[0]!.kid} \\(reused\\)`));
  const pool2 = await readJson<TokenPoolFile>(join(dir, 'pool.json'));
  assert.deepEqual(pool2.users.map((u) => u.oid), pool.users.slice(0, 2).map((u) => u.oid), 'same seed, same users');
  assertNoSecrets(r2, secretNeedles(key, pool2.users.map((u) => u.tokens[0]!.token)));
});

test('CLI user mistakes: one line, exit 2, no stack, nothing written', async (t) => {
  const base = await tempDir(t);
  const badKey = join(base, 'bad-key.pem');
  await writeFile(badKey, fakePem('QUJDRA=='));
  const badJwksDir = join(base, 'badjwks');
  await mkdir(badJwksDir);
  const goodSet = await createTokenSet({ users: 1, workers: 0 });
  await writeFile(join(badJwksDir, 'signing-key.pem'), goodSet.privateKeyPem, { mode: 0o600 });
  await writeFile(join(badJwksDir, 'jwks.json'), '{"keys": [');
  const fresh = (n: string) => join(base, `fresh-${n}`);
  const cases: [string[], RegExp, string?][] = [
    [['--users', '0', '--out', fresh('a')], /--users must be between 1/, fresh('a')],
    [['--users', 'ten', '--out', fresh('b')], /--users must be a whole number/, fresh('b')],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--out', fresh('c')], /--users N is required/, fresh('c')],
    [['--users', '2', '--alg', 'HS256', '--out', fresh('d')], /--alg must be RS256 or ES256/, fresh('d')],
    [['--users', '2', '--lifetime', '5x', '--out', fresh('e')], /--lifetime must be a duration/, fresh('e')],
    [['--users', '2', '--key', join(base, 'missing.pem'), '--out', fresh('f')], /cannot read the key file/],
    [['--users', '2', '--key', badKey, '--out', fresh('g')], /not a readable PEM private key/],
    [['--users', '2', '--out', badJwksDir], /jwks\.json is not valid JSON/],
    [['--users', '2', '--out', '/proc/voicelive-nope'], /cannot create the output folder/],
    [['--users', '2', '--out', join(badKey, 'sub')], /is not a folder/],
    [['--import', join(base, 'missing.txt'), '--out', fresh('h')], /cannot read the import file/, fresh('h')],
    [['--import', badKey, '--users', '3'], /--users does not apply with --import/],
  ];
  // In-process: the same main() the CLI runs; runMain turns a UserError into one line + exit 2
  // (checked on real child processes below for a few of them).
  for (const [args, re, dir] of cases) {
    await assert.rejects(main(args), (err: Error) => {
      assert.equal(err.name, 'UserError', `${args.join(' ')}: ${err.stack}`);
      assert.match(err.message, re);
      assert.ok(!err.message.includes('\n'), 'one line');
      assert.ok(!err.message.includes('QUJDRA'), `${args.join(' ')}: never quotes the key`);
      return true;
    });
    if (dir) assert.equal(await stat(join(dir, 'pool.json')).catch(() => undefined), undefined, `${args.join(' ')}: no pool left`);
  }
  const picked = [0, 2, 7, 9].map((i) => cases[i]!);
  const results = await Promise.all(picked.map(([args]) => runTokensCli(args, { timeoutMs: 30_000 })));
  for (const [i, [, re]] of picked.entries()) assertUserError(results[i]!, re);
  assert.deepEqual((await readdir(badJwksDir)).sort(), ['jwks.json', 'signing-key.pem'], 'nothing written next to a malformed JWKS');
});

test('CLI --import builds a pool from real tokens, warns about expiry without printing tokens, refuses garbage by line', async (t) => {
  const base = await tempDir(t);
  const now = Math.floor(Date.now() / 1000);
  const set = await createTokenSet({ users: 3, windows: 2, now, lifetimeSeconds: 3600, workers: 0 });
  const toks = set.pool.users.flatMap((u) => u.tokens.map((x) => x.token));
  const lines = ['# tokens copied from the app', toks[0]!, '', `Bearer ${toks[1]!}`, ...toks.slice(2)];
  const file = join(base, 'tokens.txt');
  await writeFile(file, `${lines.join('\n')}\n`);
  const out = join(base, 'imported');
  const needles = secretNeedles(set.privateKeyPem, toks);

  const quiet = await runTokensCli(['--import', file, '--out', out, '--min-valid', '10m']);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stderr, '', 'no warning when every token outlives --min-valid');
  assert.match(quiet.stdout, /imported 6 tokens for 3 users/);
  assertNoSecrets(quiet, needles);
  const pool = await readJson<TokenPoolFile>(join(out, 'pool.json'));
  assert.equal(pool.source, 'imported');
  assert.equal(pool.issuer, set.pool.issuer);
  assert.equal(pool.audience, set.pool.audience);
  assert.equal(pool.tenantId, set.pool.tenantId);
  assert.deepEqual(pool.users.map((u) => [u.oid, u.name, u.email]), set.pool.users.map((u) => [u.oid, u.name, u.email]));
  assert.deepEqual(pool.users.map((u) => u.tokens), set.pool.users.map((u) => u.tokens), 'tokens, nbf and exp from the payloads, sorted by nbf');
  const invalid = await readJson<InvalidCatalogueFile>(join(out, 'invalid.json'));
  const variants = invalid.cases.map((c) => c.variant);
  for (const v of ['bad_signature', 'tampered_claims', 'alg_none', 'malformed', 'truncated', 'garbage', 'oversized', 'unknown_key']) assert.ok(variants.includes(v), v);
  const verify = pinnedVerifier(set.jwks as never, set.pool, 'RS256');
  for (const c of invalid.cases) await assert.rejects(verify(c.token), `${c.variant} refused`);

  const warned = await runTokensCli(['--import', file, '--out', out, '--min-valid', '100m']);
  assert.equal(warned.code, 0);
  const warnLines = warned.stderr.split('\n').filter(Boolean);
  assert.equal(warnLines.length, 1);
  assert.match(warnLines[0]!, /^tokens: warning: 3 of 6 imported tokens expire within 6000 s; the earliest \(line 2\)/);
  assertNoSecrets(warned, needles);

  const json = join(base, 'tokens.json');
  await writeFile(json, JSON.stringify([{ access_token: toks[0] }, toks[2]]));
  const printed = await captureStdout(() => main(['--import', json, '--out', join(base, 'json')]));
  assert.match(printed, /imported 2 tokens for 2 users/);
  assert.ok(!printed.includes(JWT_PREFIX));
  assert.equal((await readJson<TokenPoolFile>(join(base, 'json', 'pool.json'))).users[1]!.oid, set.pool.users[1]!.oid);

  const garbage = join(base, 'garbage.txt');
  await writeFile(garbage, `${toks[0]}\n\nnot-a-token ${toks[1]!.slice(0, 30)}\n`);
  const gOut = join(base, 'garbage-out');
  const bad = await runTokensCli(['--import', garbage, '--out', gOut]);
  assertUserError(bad, /line 3: not a JWT/);
  assertNoSecrets(bad, needles);
  assert.equal(await stat(gOut).catch(() => undefined), undefined, 'nothing written');

  const idTok = join(base, 'idtoken.json');
  const noOid = set.invalid.cases.find((c) => c.variant === 'missing_oid')!.token;
  await writeFile(idTok, JSON.stringify({ tokens: [toks[0], noOid] }));
  await assert.rejects(main(['--import', idTok, '--out', join(base, 'id')]), { name: 'UserError', message: /entry 2: the token has no oid claim/ });
});
