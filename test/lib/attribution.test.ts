import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AttributionTracker, judgeUserId, readPath, sampled } from '../../lib/attribution.ts';

test('readPath follows dotted paths', () => {
  assert.equal(readPath({ user: { id: 'x' } }, 'user.id'), 'x');
  assert.equal(readPath({ items: [{ u: 1 }] }, 'items.0.u'), 1);
  assert.equal(readPath({ a: 1 }, 'a.b'), undefined);
  assert.equal(readPath(null, 'a'), undefined);
});

test('POC fallback, another user and no user id are never success', () => {
  const poc = ['poc-user'];
  assert.equal(judgeUserId('oid-1', 'oid-1', poc), 'ok');
  assert.equal(judgeUserId('poc-user', 'oid-1', poc), 'poc_fallback');
  assert.equal(judgeUserId('oid-2', 'oid-1', poc), 'wrong_user');
  assert.equal(judgeUserId(undefined, 'oid-1', poc), 'unverified');
  assert.equal(judgeUserId('', 'oid-1', poc), 'unverified');
});

test('the tracker keeps the first wrong attribution over later correct events', () => {
  const t = new AttributionTracker('oid-1', 'user_id', ['poc-user']);
  t.observeText('{"type":"session.created"}');
  t.observeText('not json');
  assert.equal(t.result(), 'unverified');
  t.observeText('{"type":"session.created","user_id":"oid-1"}');
  assert.equal(t.result(), 'ok');
  t.observeText('{"type":"transcript","user_id":"oid-9"}');
  t.observeText('{"type":"transcript","user_id":"oid-1"}');
  assert.equal(t.result(), 'wrong_user');
});

test('http-mode sampling is deterministic and close to the rate', () => {
  let n = 0;
  for (let i = 0; i < 1000; i++) if (sampled(i, 0.1)) n++;
  assert.ok(n >= 90 && n <= 110, `${n}`);
  assert.equal(sampled(7, 0.3), sampled(7, 0.3));
  assert.equal(sampled(1, 0), false);
  assert.equal(sampled(1, 1), true);
});

test('a 403 from the memory endpoint for the session own token is an attribution error, not unverified', () => {
  const t = new AttributionTracker('oid-1', 'user_id', []);
  t.observeForbidden();
  assert.equal(t.result(), 'forbidden');
  t.observeValue('oid-1');
  assert.equal(t.result(), 'forbidden');
});

test('an event or record naming another session id is a wrong_session attribution; none or ours changes nothing', () => {
  const t = new AttributionTracker('oid-1', 'user_id', ['poc-user'], { path: 'session_id', expected: 'r1-u0-va-i0-v1' });
  t.observeText('{"type":"session.created","session_id":"r1-u0-va-i0-v1","user_id":"oid-1"}');
  t.observeText('{"type":"transcript","user_id":"oid-1"}');
  assert.equal(t.result(), 'ok');
  t.observeText('{"type":"transcript","session_id":"r1-u0-va-i0-v2","user_id":"oid-1"}');
  assert.equal(t.result(), 'wrong_session');
  const first = new AttributionTracker('oid-1', 'user_id', [], { path: 'session_id', expected: 's' });
  first.observeText('{"session_id":"other","user_id":"oid-9"}');
  assert.equal(first.result(), 'wrong_user', 'the user check comes first');
  const off = new AttributionTracker('oid-1', 'user_id', [], { path: '', expected: 's' });
  off.observeText('{"session_id":"other","user_id":"oid-1"}');
  assert.equal(off.result(), 'ok');
  const rec = new AttributionTracker('oid-1', 'user_id', [], { path: 'session_id', expected: 's' });
  rec.observeValue('oid-1');
  rec.observeSession({ session_id: 'x' });
  assert.equal(rec.result(), 'wrong_session', 'memory record checked too');
});
