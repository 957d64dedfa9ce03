import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createTokenSet, NBF_BACKDATE_SECONDS, writeTokenSet, type JsonWebKeySet } from '../../tools/tokens/index.ts';
import { pinnedVerifier, readJson, tempDir } from '../helpers/tokens-harness.ts';

const NOW = Math.floor(Date.now() / 1000);

for (const alg of ['RS256', 'ES256'] as const) {
  test(`${alg}: every minted token verifies against the written JWKS with iss/aud/alg pinned`, async (t) => {
    const dir = await tempDir(t);
    const set = await createTokenSet({ users: 4, alg, windows: 2, now: NOW, workers: 0 });
    await writeTokenSet(dir, set);
    const jwks = await readJson<JsonWebKeySet>(join(dir, 'jwks.json'));
    assert.equal(jwks.keys.length, 1);
    const jwk = jwks.keys[0]!;
    assert.equal(jwk.alg, alg);
    assert.equal(jwk.use, 'sig');
    assert.ok(jwk.kid && jwk.kid.length > 20);
    assert.equal((jwk as Record<string, unknown>).d, undefined, 'no private part in the JWKS');
    const verify = pinnedVerifier(jwks as never, set.pool, alg);
    const oids = new Set<string>();
    for (const user of set.pool.users) {
      oids.add(user.oid);
      assert.equal(user.tokens.length, 2);
      for (const tok of user.tokens) {
        // Verify each window at a moment inside it.
        const { payload, protectedHeader } = await verify(tok.token, new Date((tok.nbf + NBF_BACKDATE_SECONDS + 1) * 1000));
        assert.deepEqual(protectedHeader, { alg, kid: jwk.kid, typ: 'JWT' });
        assert.equal(payload.oid, user.oid);
        assert.equal(payload.sub, user.sub);
        assert.notEqual(payload.sub, payload.oid);
        assert.equal(payload.tid, set.pool.tenantId);
        assert.equal(payload.ver, '2.0');
        assert.equal(payload.name, user.name);
        assert.equal(payload.email, user.email);
        assert.equal(payload.preferred_username, user.email);
        assert.equal(typeof payload.scp, 'string');
        assert.equal(payload.nbf, payload.iat! - NBF_BACKDATE_SECONDS);
        assert.equal(payload.exp! - payload.iat!, 75 * 60);
        assert.equal(tok.nbf, payload.nbf);
        assert.equal(tok.exp, payload.exp);
      }
      // Consecutive windows overlap: the second starts (iat) before the first expires.
      const [w0, w1] = user.tokens as [typeof user.tokens[0], typeof user.tokens[0]];
      assert.ok(w1.nbf + NBF_BACKDATE_SECONDS < w0.exp, 'windows overlap');
      assert.ok(w1.exp > w0.exp);
    }
    assert.equal(oids.size, 4, 'distinct oids');
    assert.match(set.pool.issuer, /^https:\/\/voicelivetest\.ciamlogin\.com\/[0-9a-f-]{36}\/v2\.0$/);
    assert.match(set.pool.audience, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
}

test('a token outside its window fails the same verification (the verifier is not a rubber stamp)', async () => {
  const set = await createTokenSet({ users: 1, now: NOW, workers: 0 });
  const verify = pinnedVerifier(set.jwks as never, set.pool, 'RS256');
  const tok = set.pool.users[0]!.tokens[0]!;
  await assert.rejects(verify(tok.token, new Date((tok.exp + 10) * 1000)), { code: 'ERR_JWT_EXPIRED' });
  await assert.rejects(verify(tok.token, new Date((tok.nbf - 10) * 1000)), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'nbf' });
});

test('same seed gives the same users, tenant and audience; another seed does not', async () => {
  const a = await createTokenSet({ users: 3, seed: 'alpha', now: NOW, workers: 0 });
  const b = await createTokenSet({ users: 3, seed: 'alpha', now: NOW + 100, workers: 0 });
  const c = await createTokenSet({ users: 3, seed: 'beta', now: NOW, workers: 0 });
  const ids = (s: typeof a) => s.pool.users.map(({ oid, sub, name, email }) => ({ oid, sub, name, email }));
  assert.deepEqual(ids(a), ids(b));
  assert.equal(a.pool.tenantId, b.pool.tenantId);
  assert.equal(a.pool.audience, b.pool.audience);
  assert.notDeepEqual(ids(a).map((u) => u.oid), ids(c).map((u) => u.oid));
  assert.notEqual(a.pool.audience, c.pool.audience);
  assert.notEqual(a.privateKeyPem, b.privateKeyPem, 'each mint without a key makes a new key');
});

test('issuer, audience, tenant and lifetime options reach the claims', async () => {
  const set = await createTokenSet({
    users: 1, now: NOW, workers: 0, issuer: 'https://contoso.ciamlogin.com/11111111-2222-4333-8444-555555555555/v2.0',
    audience: 'api://voice', tenantId: '11111111-2222-4333-8444-555555555555', lifetimeSeconds: 600,
  });
  const p = decodeJwt(set.pool.users[0]!.tokens[0]!.token);
  assert.equal(p.iss, 'https://contoso.ciamlogin.com/11111111-2222-4333-8444-555555555555/v2.0');
  assert.equal(p.aud, 'api://voice');
  assert.equal(p.tid, '11111111-2222-4333-8444-555555555555');
  assert.equal(p.exp! - p.iat!, 600);
  assert.equal(p.iat, NOW);
});

test('worker threads mint the same users as the main thread, with verifiable tokens', async () => {
  const main = await createTokenSet({ users: 7, seed: 'w', now: NOW, workers: 0 });
  const progress: number[] = [];
  const threaded = await createTokenSet({ users: 7, seed: 'w', now: NOW, workers: 2, key: main.privateKeyPem, onProgress: (d) => progress.push(d) });
  assert.deepEqual(threaded.pool.users.map((u) => u.oid), main.pool.users.map((u) => u.oid));
  assert.equal(progress.at(-1), 7);
  const verify = pinnedVerifier(threaded.jwks as never, threaded.pool, 'RS256');
  for (const [i, u] of threaded.pool.users.entries()) {
    const { payload } = await verify(u.tokens[0]!.token);
    assert.equal(payload.oid, main.pool.users[i]!.oid);
    assert.equal(decodeProtectedHeader(u.tokens[0]!.token).kid, main.jwks.keys[0]!.kid);
  }
});

test('bad options are refused', async () => {
  await assert.rejects(createTokenSet({ users: 0 }), { name: 'UserError' });
  await assert.rejects(createTokenSet({ users: 1, windows: 0 }), { name: 'UserError' });
  await assert.rejects(createTokenSet({ users: 1, key: 'not a pem' }), { name: 'UserError' });
  const es = await createTokenSet({ users: 1, alg: 'ES256', workers: 0 });
  await assert.rejects(createTokenSet({ users: 1, alg: 'RS256', key: es.privateKeyPem }), { name: 'UserError', message: /ES256/ });
});
