import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickUser, pickWindow, type UserTokens } from '../../lib/token-select.ts';

const T0 = 1_800_000_000;
// Two overlapping 75-minute windows per user (soak pools).
const windows = (start: number) => [
  { token: 'a', nbf: start, exp: start + 4500 },
  { token: 'b', nbf: start + 3900, exp: start + 8400 },
];

test('picks a token valid for the hold plus margin, rotating to the next window before exp - margin', () => {
  const t = windows(T0);
  assert.deepEqual(pickWindow(t, T0 + 100, 60, 60), { index: 0, full: true });
  // 10 minutes before exp of window a: a 10-minute session no longer fits a; b is valid by now.
  assert.deepEqual(pickWindow(t, T0 + 3950, 600, 60), { index: 1, full: true });
  // Before b starts, a session that would outlive a is reported (full: false) but allowed.
  assert.deepEqual(pickWindow(t, T0 + 3800, 900, 60), { index: 0, full: false });
  // After everything expired: nothing.
  assert.deepEqual(pickWindow(t, T0 + 9000, 10, 60), { index: -1, full: false });
  // Not valid yet.
  assert.deepEqual(pickWindow(t, T0 - 10, 10, 60), { index: -1, full: false });
});

test('pickUser walks on to a user with a usable token and reports sessions that outlive theirs', () => {
  const users: UserTokens[] = [
    { oid: 'u0', tokens: [{ token: 'x', nbf: T0, exp: T0 + 100 }] },
    { oid: 'u1', tokens: [{ token: 'y', nbf: T0, exp: T0 + 5000 }] },
  ];
  assert.deepEqual(pickUser(2, (i) => users[i]!, 0, T0 + 10, 60, 60), { userIndex: 1, tokenIndex: 0, outlives: false });
  assert.deepEqual(pickUser(2, (i) => users[i]!, 1, T0 + 10, 6000, 60), { userIndex: 1, tokenIndex: 0, outlives: true });
  assert.equal(pickUser(2, (i) => users[i]!, 0, T0 + 6000, 10, 60), null);
  assert.equal(pickUser(0, (i) => users[i]!, 0, T0, 10, 60), null);
});

test('the probe is bounded: a large expired pool costs at most maxProbe lookups', () => {
  let looks = 0;
  const r = pickUser(100_000, () => {
    looks++;
    return { oid: 'o', tokens: [{ token: 't', nbf: T0, exp: T0 + 1 }] };
  }, 5, T0 + 100, 10, 60, 64);
  assert.equal(r, null);
  assert.equal(looks, 64);
});
