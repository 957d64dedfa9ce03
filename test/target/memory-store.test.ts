// The memory service's session records: ownership is never released by someone else's socket,
// and eviction stays cheap however many of the oldest records are still open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStore } from '../../target/memory-store.ts';

const A = { id: 'user-a', email: 'a@example.invalid', display_name: 'A' };
const B = { id: 'user-b', email: 'b@example.invalid', display_name: 'B' };

test("a session closing does not release another user's (or another session's) open record with the same id", () => {
  const store = new MemoryStore(1);
  store.open('x', A, 0);
  assert.equal(store.open('x', B, 1).user_id, 'user-a', 'the first owner keeps the record');
  store.closed('x', B.id); // B's socket with the same id ends; A's session is still open
  store.open('y', A, 2); // over the limit: only closed records may go
  assert.equal(store.get('x')?.user_id, 'user-a', "A's open record was evicted because B's socket closed");
  // The same user with two sockets on one id: the record is open until both have closed.
  const s2 = new MemoryStore(1);
  s2.open('z', A, 0);
  s2.open('z', A, 1);
  s2.closed('z', A.id);
  s2.open('w', B, 2);
  assert.ok(s2.get('z'), 'one of two sockets closed: still open');
  s2.closed('z', A.id);
  s2.open('v', B, 3);
  assert.equal(s2.get('z'), undefined, 'both closed: evictable, oldest first');
  assert.ok(s2.get('w') && s2.get('v'));
});

test('eviction stays cheap when the oldest records are still open (no scan over them per new session)', () => {
  const held = 20_000;
  const store = new MemoryStore(held);
  for (let i = 0; i < held; i++) store.open(`held-${i}`, A, i); // long-lived sessions, never closed
  const t0 = performance.now();
  for (let i = 0; i < 20_000; i++) {
    store.open(`churn-${i}`, B, i);
    store.closed(`churn-${i}`, B.id);
  }
  const ms = performance.now() - t0;
  assert.ok(store.size <= held + 1, `bounded: ${store.size}`);
  for (let i = 0; i < held; i += 997) assert.ok(store.get(`held-${i}`), 'open records are never evicted');
  // Linear work is a few ms; a scan over the 20,000 open records per session is seconds.
  assert.ok(ms < 1000, `20,000 sessions past the limit took ${ms.toFixed(0)} ms`);
});
