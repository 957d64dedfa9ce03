import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { InvalidCatalogueFile } from '../../lib/token-pool-format.ts';
import { CONTRACT_VARIANTS, createTokenSet, EXTRA_VARIANTS, writeTokenSet, type JsonWebKeySet } from '../../tools/tokens/index.ts';
import { pinnedVerifier, readJson, tempDir } from '../helpers/tokens-harness.ts';

/** Why each variant must fail the pinned verification (jose error code, and claim where there is one). */
const REASONS: Record<string, { code: string; claim?: string }> = {
  expired: { code: 'ERR_JWT_EXPIRED', claim: 'exp' },
  not_yet_valid: { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'nbf' },
  wrong_audience: { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' },
  wrong_issuer: { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iss' },
  bad_signature: { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
  unknown_key: { code: 'ERR_JWKS_NO_MATCHING_KEY' },
  alg_none: { code: 'ERR_JOSE_ALG_NOT_ALLOWED' },
  hs256_key_confusion: { code: 'ERR_JOSE_ALG_NOT_ALLOWED' },
  tampered_claims: { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
  missing_oid: { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'oid' },
  malformed: { code: 'ERR_JWS_INVALID' },
  truncated: { code: 'ERR_JWS_INVALID' },
  garbage: { code: 'ERR_JWS_INVALID' },
  oversized: { code: 'ERR_JWKS_NO_MATCHING_KEY' },
  id_token_audience: { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' },
  jku_header_injection: { code: 'ERR_JWKS_NO_MATCHING_KEY' },
  embedded_jwk_header: { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
  empty_kid: { code: 'ERR_JWKS_NO_MATCHING_KEY' },
  alg_none_mixed_case: { code: 'ERR_JOSE_ALG_NOT_ALLOWED' },
};

for (const alg of ['RS256', 'ES256'] as const) {
  test(`${alg}: every catalogue variant fails the pinned verification for its stated reason`, async (t) => {
    const dir = await tempDir(t);
    const now = Math.floor(Date.now() / 1000);
    const set = await createTokenSet({ users: 2, alg, now, workers: 0 });
    await writeTokenSet(dir, set);
    const jwks = await readJson<JsonWebKeySet>(join(dir, 'jwks.json'));
    const cat = await readJson<InvalidCatalogueFile>(join(dir, 'invalid.json'));
    assert.equal(cat.format, 'voicelive-invalid-tokens');
    assert.equal(cat.version, 1);
    const verify = pinnedVerifier(jwks as never, set.pool, alg);
    // The control: the same verifier accepts the pool's tokens.
    await verify(set.pool.users[0]!.tokens[0]!.token);

    const variants = cat.cases.map((c) => c.variant);
    assert.deepEqual(variants, [...CONTRACT_VARIANTS, ...EXTRA_VARIANTS]);
    assert.equal(new Set(variants).size, variants.length, 'variants are unique');
    for (const c of cat.cases) {
      const reason = REASONS[c.variant];
      assert.ok(reason, `a stated reason for ${c.variant}`);
      assert.ok(c.description.length > 10 && !c.description.includes('\n'), `${c.variant}: one-line description`);
      assert.equal(c.expected.closeCode, 1008);
      assert.equal(c.expected.reason, 'Invalid token');
      assert.deepEqual(c.expected.httpStatuses, c.variant === 'oversized' ? [401, 403, 414, 431] : [401, 403]);
      await assert.rejects(verify(c.token), (err: { code?: string; claim?: string }) => {
        assert.equal(err.code, reason.code, `${c.variant}: error code`);
        if (reason.claim) assert.equal(err.claim, reason.claim, `${c.variant}: failing claim`);
        return true;
      }, `${c.variant} must be refused`);
    }
  });
}

test('each claim-level variant differs from a valid token in exactly the one claim it names', async () => {
  const now = Math.floor(Date.now() / 1000);
  const set = await createTokenSet({ users: 2, now, workers: 0 });
  const byVariant = new Map(set.invalid.cases.map((c) => [c.variant, c.token]));
  const tok = (v: string) => byVariant.get(v)!;
  const victim = set.pool.users[0]!;
  const good = decodeJwt(victim.tokens[0]!.token);
  const diff = (v: string) => {
    const p = decodeJwt(tok(v));
    const keys = new Set([...Object.keys(p), ...Object.keys(good)]);
    return [...keys].filter((k) => JSON.stringify(p[k]) !== JSON.stringify(good[k])).sort();
  };
  assert.deepEqual(diff('wrong_audience'), ['aud']);
  assert.deepEqual(diff('id_token_audience'), ['aud']);
  assert.deepEqual(diff('wrong_issuer'), ['iss']);
  assert.deepEqual(diff('missing_oid'), ['oid']);
  assert.deepEqual(diff('tampered_claims'), ['oid']);
  assert.equal(decodeJwt(tok('tampered_claims')).oid, set.pool.users[1]!.oid);
  assert.deepEqual(diff('expired'), ['exp', 'iat', 'nbf']);
  assert.ok(decodeJwt(tok('expired')).exp! < now - 3600);
  assert.ok(decodeJwt(tok('not_yet_valid')).nbf! > now + 300 * 86400, 'nbf stays in the future for a long-reused catalogue');
  for (const v of ['alg_none', 'alg_none_mixed_case', 'unknown_key', 'jku_header_injection', 'embedded_jwk_header', 'empty_kid', 'hs256_key_confusion', 'bad_signature']) {
    assert.deepEqual(diff(v), [], `${v}: claims are the valid ones`);
  }
  const kid = set.jwks.keys[0]!.kid;
  assert.equal(decodeProtectedHeader(tok('alg_none')).alg, 'none');
  assert.equal(tok('alg_none').split('.')[2], '');
  assert.equal(decodeProtectedHeader(tok('alg_none_mixed_case')).alg, 'nOnE');
  assert.deepEqual(decodeProtectedHeader(tok('hs256_key_confusion')), { alg: 'HS256', kid, typ: 'JWT' });
  assert.equal(decodeProtectedHeader(tok('empty_kid')).kid, '');
  assert.equal(decodeProtectedHeader(tok('embedded_jwk_header')).kid, kid);
  assert.equal(decodeProtectedHeader(tok('embedded_jwk_header')).jwk?.kty, 'RSA');
  assert.match(String(decodeProtectedHeader(tok('jku_header_injection')).jku), /^http:\/\/127\.0\.0\.1:9\//, 'jku points only at loopback');
  assert.notEqual(decodeProtectedHeader(tok('unknown_key')).kid, kid);
  // Same header and payload as a valid token, altered signature of the same length.
  const [bh, bp, bs] = tok('bad_signature').split('.');
  assert.equal(bs!.length, victim.tokens[0]!.token.split('.')[2]!.length);
  assert.ok(bh && bp);
  const ov = tok('oversized');
  assert.ok(ov.length > 16 * 1024, 'oversized exceeds 16 KiB');
  assert.equal(decodeJwt(ov).oid, victim.oid, 'oversized is still a structurally valid JWT');
  assert.equal(ov.split('.').length, 3);
  assert.throws(() => decodeJwt(tok('garbage')));
  assert.throws(() => decodeJwt(tok('truncated')));
  assert.throws(() => decodeProtectedHeader(tok('malformed')));
});
