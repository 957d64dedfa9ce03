// Conformance of engine/modules/http.ts with k6 v2.2's k6/http asyncRequest over loopback.
// k6 sources: js/modules/k6/http/request.go, lib/netext/httpext/{request.go,transport.go,error_codes.go}.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHttpModule } from '../../engine/modules/http.ts';
import { createFakeVu, type FakeVu, type FakeVuOptions } from '../helpers/fake-vu.ts';
import { closedPort, startTestServer, type TestServer } from '../helpers/net-ws-server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv.close();
});

function setup(opts: FakeVuOptions = {}): { vu: FakeVu; http: Record<string, any> } {
  const vu = createFakeVu(opts);
  return { vu, http: createHttpModule(vu) };
}

const UPGRADE_HEADERS = {
  Upgrade: 'websocket',
  Connection: 'Upgrade',
  'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Version': '13',
};

describe('asyncRequest responses (request.go asyncRequest, httpext MakeRequest)', () => {
  test('GET with Authorization: status, canonical headers, body, json(), timings, keeps the VU busy', async () => {
    const { vu, http } = setup({ userAgent: 'ua/1' });
    const p = http.asyncRequest('GET', `${srv.httpBase}/http/200`, null, { headers: { authorization: 'Bearer abc' } });
    assert.equal(vu.pending(), 1);
    const r = await p;
    assert.equal(r.status, 200);
    assert.equal(r.status_text, '200 OK');
    assert.equal(r.proto, 'HTTP/1.1');
    assert.equal(r.headers['Content-Type'], 'application/json');
    assert.equal(r.error, '');
    assert.equal(r.error_code, 0);
    assert.deepEqual(r.json(), { path: '/http/200', auth: 'Bearer abc', ua: 'ua/1' });
    assert.equal(r.json('path'), '/http/200');
    assert.equal(r.json('nope'), undefined);
    assert.ok(r.timings.duration >= 0);
    assert.equal(r.remote_ip, '127.0.0.1');
    await vu.idle();
  });

  for (const status of [401, 403, 429, 503]) {
    test(`refused WebSocket upgrade with ${status}: status and body visible`, async () => {
      const { vu, http } = setup();
      const r = await http.asyncRequest('GET', `${srv.httpBase}/status/${status}?token=abc`, null, {
        headers: UPGRADE_HEADERS,
        tags: { name: 'upgrade' },
        timeout: '5s',
      });
      assert.equal(r.status, status);
      assert.deepEqual(r.json(), { error: 'refused' });
      const reqs = vu.byMetric('http_reqs');
      assert.equal(reqs.length, 1);
      assert.equal(reqs[0]!.tags['status'], String(status));
      assert.equal(reqs[0]!.tags['error_code'], String(1000 + status));
      // and on the Response object, with an empty error (k6 transport.go; measured with k6 v2.2.0: 404 → 1404)
      assert.equal(r.error_code, 1000 + status);
      assert.equal(r.error, '');
      assert.equal(typeof r.clickLink, 'function');
      assert.equal(typeof r.submitForm, 'function');
      assert.equal(reqs[0]!.tags['expected_response'], 'false');
      assert.equal(vu.byMetric('http_req_failed')[0]!.value, 1);
      await vu.idle();
    });
  }

  test('101 Switching Protocols: rejected with "unsupported response status" and no http_* samples (httpext/request.go)', async () => {
    const { vu, http } = setup();
    const t0 = Date.now();
    await assert.rejects(
      http.asyncRequest('GET', `${srv.httpBase}/ws/hold?token=abc`, null, { headers: UPGRADE_HEADERS, timeout: '5s' }),
      (e: Error) => e.message === 'unsupported response status: 101 Switching Protocols',
    );
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(vu.samples.length, 0);
    await vu.idle();
  });

  test('connection refused: status 0, error "dial: connection refused", error_code 1212, tags status 0', async () => {
    const { vu, http } = setup();
    const port = await closedPort();
    const r = await http.asyncRequest('GET', `http://127.0.0.1:${port}/x?token=SECRET`, null, { tags: { name: 'n' } });
    assert.equal(r.status, 0);
    assert.equal(r.error, 'dial: connection refused');
    assert.equal(r.error_code, 1212);
    assert.equal(r.body, null);
    const t = vu.byMetric('http_reqs')[0]!.tags;
    assert.equal(t['status'], '0');
    assert.equal(t['error_code'], '1212');
    assert.equal(t['error'], 'dial: connection refused');
    assert.equal(vu.warnings.length, 1);
    // k6 logs Go's url.Error, full URL included (test/engine/http-request-failed.test.ts)
    assert.match(vu.warnings[0]!, /^Request Failed error="Get \\"http:\/\/127\.0\.0\.1:\d+\/x\?token=SECRET\\": dial tcp /);
    await vu.idle();
  });

  test('timeout: error "request timeout", code 1050, ends at the timeout', async () => {
    const { vu, http } = setup();
    const t0 = Date.now();
    const r = await http.asyncRequest('GET', `${srv.httpBase}/slow`, null, { timeout: 300 });
    const took = Date.now() - t0;
    assert.ok(took >= 250 && took < 2000, `took ${took}`);
    assert.equal(r.error_code, 1050);
    assert.equal(r.error, 'request timeout');
    await vu.idle();
  });

  test('server accepts TCP but never answers an upgrade: ends at the timeout', async () => {
    const { vu, http } = setup();
    const r = await http.asyncRequest('GET', `${srv.httpBase}/nohandshake`, null, { headers: UPGRADE_HEADERS, timeout: '300ms' });
    assert.equal(r.status, 0);
    assert.equal(r.error_code, 1050);
    await vu.idle();
  });
});

describe('metrics and tags (transport.go measureAndEmitMetrics, tracer.go SaveSamples)', () => {
  test('k6 sample set and order; url and name are the full URL by default', async () => {
    const { vu, http } = setup({ tags: { testid: 'x' } });
    await http.asyncRequest('POST', `${srv.httpBase}/http/200?token=SECRET`, 'body');
    assert.deepEqual(vu.samples.map((s) => s.metric.name), [
      'http_reqs', 'http_req_duration', 'http_req_blocked', 'http_req_connecting', 'http_req_tls_handshaking',
      'http_req_sending', 'http_req_waiting', 'http_req_receiving', 'http_req_failed',
    ]);
    const t = vu.samples[0]!.tags;
    assert.equal(t['url'], `${srv.httpBase}/http/200?token=SECRET`);
    assert.equal(t['name'], t['url']);
    assert.equal(t['method'], 'POST');
    assert.equal(t['status'], '200');
    assert.equal(t['proto'], 'HTTP/1.1');
    assert.equal(t['expected_response'], 'true');
    assert.equal(t['testid'], 'x');
    assert.equal('error_code' in t, false);
    assert.equal(vu.byMetric('http_req_failed')[0]!.value, 0);
    await vu.idle();
  });

  test('a name tag sets url too; no tag value holds the token', async () => {
    const { vu, http } = setup();
    await http.asyncRequest('GET', `${srv.httpBase}/status/401?token=SECRET`, null, { headers: UPGRADE_HEADERS, tags: { name: 'upgrade' } });
    for (const s of vu.samples) {
      assert.equal(s.tags['url'], 'upgrade');
      for (const v of Object.values(s.tags)) assert.ok(!v.includes('SECRET'));
    }
    await vu.idle();
  });

  test('responseCallback null: no http_req_failed and no expected_response; expectedStatuses', async () => {
    const { vu, http } = setup();
    await http.asyncRequest('GET', `${srv.httpBase}/http/200`, null, { responseCallback: null });
    assert.equal(vu.byMetric('http_req_failed').length, 0);
    assert.equal('expected_response' in vu.samples[0]!.tags, false);
    await http.asyncRequest('GET', `${srv.httpBase}/http/404`, null, { responseCallback: http.expectedStatuses(404, { min: 500, max: 599 }) });
    assert.equal(vu.byMetric('http_req_failed')[0]!.value, 0);
    assert.throws(() => http.expectedStatuses('x'), /argument number 1 to expectedStatuses was neither an integer nor an object/);
    await vu.idle();
  });
});

describe('synchronous forms and bad input', () => {
  test('http.get and friends throw a clear error naming asyncRequest', () => {
    const { http } = setup();
    assert.throws(() => http.get('http://127.0.0.1/'), /http\.get\(\) is not supported by the in-process engine .*use http\.asyncRequest/);
    assert.throws(() => http.request('GET', 'http://127.0.0.1/'), /use http\.asyncRequest/);
  });
  test('invalid tags resolve a Response with the error (handleParseRequestError)', async () => {
    const { vu, http } = setup();
    const r = await http.asyncRequest('GET', `${srv.httpBase}/http/200`, null, { tags: { a: [1] } });
    assert.match(r.error, /invalid HTTP request metric tags/);
    assert.equal(r.status, 0);
    assert.equal(vu.samples.length, 0);
  });

  test('redirects: followed with one sample set per hop; redirects: 0 returns the 3xx (httpext/request.go CheckRedirect)', async () => {
    const { vu, http } = setup();
    const r = await http.asyncRequest('GET', `${srv.httpBase}/redirect`);
    assert.equal(r.status, 200);
    assert.equal(r.url, `${srv.httpBase}/http/200`);
    assert.deepEqual(vu.byMetric('http_reqs').map((s) => s.tags['status']), ['302', '200']);
    const r0 = await http.asyncRequest('GET', `${srv.httpBase}/redirect`, null, { redirects: 0 });
    assert.equal(r0.status, 302);
    await vu.idle();
  });

  test('init context: asyncRequest throws k6\'s init error', () => {
    const vu = createFakeVu();
    const h = createHttpModule({ ...vu, inInit: true, metrics: vu.metrics }) as { asyncRequest: (m: string, u: string) => unknown };
    assert.throws(() => h.asyncRequest('GET', 'http://127.0.0.1/'), /Making http requests in the init context is not supported/);
  });
});

