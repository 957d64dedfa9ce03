import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createTokenSet, ensureTokens, loadTokenSet, writeTokenSet } from '../../tools/tokens/index.ts';
import { fakePem, PEM_PRIVATE, pinnedVerifier, tempDir } from '../helpers/tokens-harness.ts';

const NOW = Math.floor(Date.now() / 1000);

test('writeTokenSet writes the files (key and pool 0600, no temp files left) and loadTokenSet reads them back', async (t) => {
  const dir = join(await tempDir(t), 'nested', 'out');
  const set = await createTokenSet({ users: 3, now: NOW, workers: 0 });
  await writeTokenSet(dir, set);
  assert.deepEqual((await readdir(dir)).sort(), ['invalid.json', 'jwks.json', 'pool.json', 'public-key.pem', 'signing-key.pem']);
  assert.equal((await stat(join(dir, 'signing-key.pem'))).mode & 0o777, 0o600);
  // Regression: pool.json (valid bearer tokens, real ones when imported) was world-readable.
  assert.equal((await stat(join(dir, 'pool.json'))).mode & 0o777, 0o600);
  assert.match(await readFile(join(dir, 'signing-key.pem'), 'utf8'), new RegExp(`^-----BEGIN ${PEM_PRIVATE}-----`));
  const pool = JSON.parse(await readFile(join(dir, 'pool.json'), 'utf8'));
  assert.equal(pool.format, 'voicelive-token-pool');
  assert.equal(pool.version, 1);
  assert.equal(pool.source, 'minted');
  const loaded = await loadTokenSet(dir);
  assert.deepEqual(loaded.pool, set.pool);
  assert.deepEqual(loaded.invalid, set.invalid);
  assert.deepEqual(loaded.jwks, set.jwks);
  assert.equal(loaded.privateKeyPem, set.privateKeyPem);
});

test('loadTokenSet gives a one-line UserError for a missing or malformed folder', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(loadTokenSet(join(dir, 'none')), { name: 'UserError', message: /no token pool .*npm run tokens/ });
  const set = await createTokenSet({ users: 1, now: NOW, workers: 0 });
  const cases: [string, string, RegExp][] = [
    ['pool.json', '{"format":"voicelive-token-pool","version":1,"users":[', /pool\.json is not valid JSON/],
    ['pool.json', '{"format":"voicelive-token-pool","version":9,"users":[]}', /version 9/],
    ['jwks.json', '{"keys":"nope"}', /not a JWKS/],
    ['signing-key.pem', fakePem('AAAA'), /not a readable PEM private key/],
  ];
  for (const [file, content, re] of cases) {
    const d = join(dir, file.replace('.', '-'));
    await writeTokenSet(d, set);
    await writeFile(join(d, file), content);
    await assert.rejects(loadTokenSet(d), (err: Error) => {
      assert.equal(err.name, 'UserError');
      assert.match(err.message, re);
      assert.ok(!err.message.includes('\n'), 'one line');
      assert.ok(!err.message.includes('AAAA'), 'never quotes the key');
      return true;
    });
  }
  // A JWKS that does not hold the key's public half.
  const other = await createTokenSet({ users: 1, now: NOW, workers: 0 });
  const d = join(dir, 'mismatch');
  await writeTokenSet(d, set);
  await writeFile(join(d, 'jwks.json'), JSON.stringify(other.jwks));
  await assert.rejects(loadTokenSet(d), { name: 'UserError', message: /does not hold the public key/ });
});

test('ensureTokens mints when absent, reuses while valid long enough, re-mints with the same key otherwise', async (t) => {
  const dir = await tempDir(t);
  const first = await ensureTokens(dir, { users: 2, minValidSeconds: 1800, now: NOW, workers: 0 });
  assert.equal(first.reused, false);
  const again = await ensureTokens(dir, { users: 2, minValidSeconds: 1800, now: NOW + 60 });
  assert.equal(again.reused, true);
  assert.deepEqual(again.pool, first.pool);

  // Fewer users than asked: re-mint with the same key, same issuer/audience, same users first.
  const more = await ensureTokens(dir, { users: 3, minValidSeconds: 1800, now: NOW + 60, workers: 0 });
  assert.equal(more.reused, false);
  assert.equal(more.pool.users.length, 3);
  assert.deepEqual(more.jwks, first.jwks, 'existing key reused');
  assert.equal(more.pool.audience, first.pool.audience);
  assert.equal(more.pool.users[0]!.oid, first.pool.users[0]!.oid);

  // Close to expiry: the last token would not last the run.
  const late = NOW + 75 * 60 - 600;
  const remint = await ensureTokens(dir, { users: 3, minValidSeconds: 1800, now: late, workers: 0 });
  assert.equal(remint.reused, false);
  assert.deepEqual(remint.jwks, first.jwks);
  const verify = pinnedVerifier(remint.jwks as never, remint.pool, 'RS256');
  for (const u of remint.pool.users) await verify(u.tokens[0]!.token, new Date((late + 1) * 1000));

  // A run longer than one lifetime gets enough windows.
  const soak = await ensureTokens(dir, { users: 1, minValidSeconds: 4 * 3600, now: late, workers: 0 });
  assert.equal(soak.reused, false);
  const toks = soak.pool.users[0]!.tokens;
  assert.ok(toks.length >= 4);
  assert.ok(toks.at(-1)!.exp - late >= 4 * 3600);
  assert.deepEqual(await loadTokenSet(dir).then((s) => s.pool), soak.pool, 'written to disk');
});

test('ensureTokens refuses to overwrite a key it cannot read', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'signing-key.pem'), 'garbage');
  await assert.rejects(ensureTokens(dir, { users: 1, minValidSeconds: 60 }), { name: 'UserError', message: /not a readable PEM/ });
  assert.equal(await readFile(join(dir, 'signing-key.pem'), 'utf8'), 'garbage');
  assert.deepEqual((await readdir(dir)).sort(), ['signing-key.pem'], 'no pool written');
});

test('ensureTokens reuses a valid imported pool and never overwrites one that is too short-lived', async (t) => {
  const dir = await tempDir(t);
  const set = await createTokenSet({ users: 2, now: NOW, workers: 0 });
  const imported = { ...set, jwks: { keys: [] }, privateKeyPem: '', publicKeyPem: undefined, pool: { ...set.pool, source: 'imported' as const } };
  await writeTokenSet(dir, imported);
  assert.deepEqual((await readdir(dir)).sort(), ['invalid.json', 'pool.json'], 'no key files for an imported set');
  const ok = await ensureTokens(dir, { users: 2, minValidSeconds: 600, now: NOW });
  assert.equal(ok.reused, true);
  assert.equal(ok.pool.source, 'imported');
  const before = await readFile(join(dir, 'pool.json'), 'utf8');
  await assert.rejects(ensureTokens(dir, { users: 2, minValidSeconds: 3 * 3600, now: NOW }), { name: 'UserError', message: /imported pool .* tokens expire within 10800 s/ });
  await assert.rejects(ensureTokens(dir, { users: 5, minValidSeconds: 60, now: NOW }), { name: 'UserError', message: /has 2 users, 5 needed/ });
  assert.equal(await readFile(join(dir, 'pool.json'), 'utf8'), before, 'imported pool untouched');
});
