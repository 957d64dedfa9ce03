// Regression: a soak pool's next window has nbf = iat - 5 min, so choosing by nbf alone
// handed servers a token issued "in the future" (PyJWT refuses such an iat).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickWindow } from '../../lib/token-select.ts';
import { createTokenSet } from '../../tools/tokens/index.ts';

const T0 = 1_800_000_000;

test('a window whose nbf has passed but whose iat has not is not used yet', () => {
  const t = [
    { token: 'a', nbf: T0 - 300, iat: T0, exp: T0 + 4500 },
    { token: 'b', nbf: T0 + 3600, iat: T0 + 3900, exp: T0 + 8400 },
  ];
  // At T0+3700, b's nbf is behind us but its iat is 200 s ahead: keep using a.
  assert.deepEqual(pickWindow(t, T0 + 3700, 60, 60), { index: 0, full: true });
  // Once b's iat has passed, rotate to b.
  assert.deepEqual(pickWindow(t, T0 + 3901, 60, 60), { index: 1, full: true });
});

test('minted pools record each token\'s iat, matching the token\'s own claim', async () => {
  const set = await createTokenSet({ users: 2, windows: 2, now: T0, seed: 'iat-test' });
  for (const user of set.pool.users) {
    for (const t of user.tokens) {
      const payload = JSON.parse(Buffer.from(t.token.split('.')[1]!, 'base64url').toString()) as { iat: number; nbf: number };
      assert.equal(t.iat, payload.iat);
      assert.equal(t.nbf, payload.nbf);
      assert.ok(t.iat! > t.nbf, 'iat comes after the backdated nbf');
    }
  }
});
