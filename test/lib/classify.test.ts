import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classify, defaultExpectation, type WireObservation } from '../../lib/classify.ts';

const inv = (style: 'any' | 'close' | 'http' = 'any', variant = 'expired') => defaultExpectation('invalid', variant, style);
const valid = defaultExpectation('valid', 'valid', 'any');
const refused = (probeStatus?: number): WireObservation => ({ opened: false, serverClosed: true, errorText: 'websocket: bad handshake', probeStatus });
const closedBy = (code: number | undefined, reason = ''): WireObservation => ({ opened: true, serverClosed: true, closeCode: code, closeReason: reason });

test('a refused upgrade is classified from the probed HTTP status', () => {
  const rows: Array<[number, string, boolean, boolean]> = [
    // status, outcome, rejected, mismatch
    [401, 'rejected_http', true, false],
    [403, 'rejected_http', true, false],
    [503, 'error', false, false],
    [502, 'error', false, false],
    [429, 'error', false, false],
    [101, 'error', false, false],
    [0, 'error', false, false],
    [400, 'rejected_http', false, true],
    [404, 'rejected_http', false, true],
    [200, 'rejected_http', false, true],
    [414, 'rejected_http', false, true],
    [431, 'rejected_http', false, true],
  ];
  for (const [status, outcome, rej, mis] of rows) {
    const v = classify(refused(status), inv());
    assert.equal(v.outcome, outcome, `status ${status}`);
    assert.equal(v.rejected, rej, `rejected for ${status}`);
    assert.equal(v.mismatch, mis, `mismatch for ${status}`);
    assert.equal(v.bypass, false);
    assert.equal(v.unverified, false);
  }
});

test('414 and 431 are correct only for the oversized variant', () => {
  for (const s of [414, 431]) {
    const v = classify(refused(s), inv('any', 'oversized'));
    assert.deepEqual([v.outcome, v.rejected, v.mismatch], ['rejected_http', true, false]);
    assert.equal(classify(refused(s), inv('close', 'oversized')).mismatch, false, 'size limits precede the WebSocket layer');
  }
  assert.equal(classify(refused(403), inv('close', 'oversized')).mismatch, true);
});

test('a 503 or 429 refusal never counts as a correct rejection, for any class', () => {
  for (const e of [inv(), defaultExpectation('no_token', 'missing', 'any'), valid]) {
    for (const s of [429, 503]) {
      const v = classify(refused(s), e);
      assert.equal(v.rejected, false);
      assert.equal(v.outcome, 'error');
    }
  }
});

test('without the probe a refusal is rejected_http, unverified, never verified-correct', () => {
  const v = classify(refused(undefined), inv());
  assert.equal(v.outcome, 'rejected_http');
  assert.equal(v.unverified, true);
  assert.equal(v.detail, 'http_unknown');
});

test('connection failures other than a refused upgrade are errors', () => {
  const v = classify({ opened: false, serverClosed: true, errorText: 'dial tcp 127.0.0.1:1: connect: connection refused' }, inv());
  assert.equal(v.outcome, 'error');
  assert.equal(v.rejected, false);
});

test('close style: 1008 with the exact reason is correct; any other reason is a mismatch', () => {
  const ok = classify(closedBy(1008, 'Invalid token'), inv());
  assert.deepEqual([ok.outcome, ok.rejected, ok.mismatch], ['rejected_close', true, false]);
  const bad = classify(closedBy(1008, 'invalid token'), inv());
  assert.deepEqual([bad.outcome, bad.rejected, bad.mismatch], ['rejected_close', true, true]);
  const crossed = classify(closedBy(1008, 'Invalid token'), defaultExpectation('no_token', 'missing', 'any'));
  assert.equal(crossed.mismatch, true, 'no_token expects "Authentication required"');
  const nt = classify(closedBy(1008, 'Authentication required'), defaultExpectation('no_token', 'empty', 'any'));
  assert.equal(nt.mismatch, false);
});

test('the expected style makes the other style a mismatch', () => {
  assert.equal(classify(closedBy(1008, 'Invalid token'), inv('http')).mismatch, true);
  assert.equal(classify(refused(403), inv('close')).mismatch, true);
  assert.equal(classify(refused(403), inv('http')).mismatch, false);
  assert.equal(classify(closedBy(1008, 'Invalid token'), inv('close')).mismatch, false);
});

test('server trouble close codes are errors, not rejections', () => {
  for (const code of [1011, 1013, 1005, 1006, 1012, undefined]) {
    const v = classify(closedBy(code), inv());
    assert.equal(v.outcome, 'error', `code ${code}`);
    assert.equal(v.rejected, false);
    const vv = classify(closedBy(code), valid);
    assert.equal(vv.outcome, 'error');
    assert.equal(vv.unexpectedClose, true);
  }
});

test('a bad token closed with a non-1008 code is refused but mismatched', () => {
  for (const code of [1000, 1001, 1002, 4001, 4403]) {
    const v = classify(closedBy(code, 'Invalid token'), inv());
    assert.deepEqual([v.outcome, v.rejected, v.mismatch, v.bypass], ['rejected_close', false, true, false], `code ${code}`);
  }
});

test('a bad token still open when the client gives up is a bypass', () => {
  const v = classify({ opened: true, serverClosed: false, closeCode: 1000 }, inv());
  assert.deepEqual([v.outcome, v.bypass, v.rejected], ['accepted', true, false]);
  const nt = classify({ opened: true, serverClosed: false, closeCode: 1000 }, defaultExpectation('no_token', 'missing', 'any'));
  assert.equal(nt.bypass, true);
});

test('valid tokens: held is accepted; refused is a false rejection; early server close is unexpected', () => {
  const held = classify({ opened: true, serverClosed: false, closeCode: 1000 }, valid);
  assert.deepEqual([held.outcome, held.rejected, held.bypass, held.unexpectedClose], ['accepted', false, false, false]);
  assert.equal(classify(refused(401), valid).rejected, true);
  assert.equal(classify(refused(400), valid).rejected, true);
  assert.equal(classify(closedBy(1008, 'Invalid token'), valid).rejected, true);
  assert.equal(classify(closedBy(1008, 'Invalid token'), valid).mismatch, false);
  const expiredMidSession = classify({ ...closedBy(1008, 'Token expired'), served: true }, valid);
  assert.deepEqual([expiredMidSession.outcome, expiredMidSession.rejected, expiredMidSession.unexpectedClose], ['accepted', false, true]);
  const early = classify(closedBy(1000), valid);
  assert.deepEqual([early.outcome, early.unexpectedClose], ['accepted', true]);
  const app = classify(closedBy(4000), valid);
  assert.deepEqual([app.outcome, app.unexpectedClose], ['error', true]);
});

test('a bad token whose socket was sent an event naming a user is a bypass, whatever close follows', () => {
  for (const e of [inv(), defaultExpectation('no_token', 'missing', 'any')]) {
    for (const w of [{ ...closedBy(1008, e.reason), served: true, servedUser: true }, { ...closedBy(1000), served: true, servedUser: true }, { opened: true, serverClosed: false, servedUser: true }]) {
      const v = classify(w, e);
      assert.deepEqual([v.outcome, v.bypass, v.rejected, v.mismatch], ['accepted', true, false, false]);
    }
  }
  // An event without a user id (e.g. an error event) before the 1008 changes nothing.
  const ok = classify({ ...closedBy(1008, 'Invalid token'), served: true }, inv());
  assert.deepEqual([ok.outcome, ok.rejected, ok.bypass], ['rejected_close', true, false]);
});

test("a server 1008 crossing the client's close is a rejection (reason still checked), not a bypass", () => {
  const late = classify({ opened: true, serverClosed: false, closeCode: 1008, closeReason: 'Invalid token' }, inv());
  assert.deepEqual([late.outcome, late.rejected, late.bypass, late.mismatch], ['rejected_close', true, false, false]);
  const lateWrong = classify({ opened: true, serverClosed: false, closeCode: 1008, closeReason: 'nope' }, inv());
  assert.deepEqual([lateWrong.rejected, lateWrong.bypass, lateWrong.mismatch], [true, false, true]);
  // Served messages until the client gave up: a bypass, whatever the server closed with.
  assert.equal(classify({ opened: true, serverClosed: false, served: true, closeCode: 1008, closeReason: 'Invalid token' }, inv()).bypass, true);
  // The server's echo of the client's 1000 is no refusal: still a bypass.
  assert.equal(classify({ opened: true, serverClosed: false, closeCode: 1000 }, inv()).bypass, true);
  // A valid session the client ended is accepted whatever code the close carried.
  assert.equal(classify({ opened: true, serverClosed: false, closeCode: 1008 }, valid).outcome, 'accepted');
});

test('a close frame delivered without `open` (k6 race) is classified from its code, not as a failed connect', () => {
  const w: WireObservation = { opened: false, serverClosed: true, closeCode: 1008, closeReason: 'Invalid token', errorText: 'websocket: close 1008 (policy violation): Invalid token' };
  const v = classify(w, inv());
  assert.deepEqual([v.outcome, v.rejected, v.mismatch], ['rejected_close', true, false]);
  assert.equal(classify({ ...w, closeCode: 1011, closeReason: '' }, inv()).outcome, 'error');
});

test("a valid session whose close the server never answered is an error; a bad token held that way is still a bypass", () => {
  const w: WireObservation = { opened: true, serverClosed: false, closeUnanswered: true, served: true };
  const v = classify(w, valid);
  assert.deepEqual([v.outcome, v.detail, v.rejected, v.unexpectedClose], ['error', 'close_unanswered', false, false]);
  const b = classify(w, inv());
  assert.deepEqual([b.outcome, b.bypass], ['accepted', true]);
});
