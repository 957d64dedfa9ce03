// Regression (differential with k6 v2.2.0): a request that fails on the wire is logged by k6
// as `Request Failed` with Go's *url.Error text, full URL (query string included), from
// lib/netext/httpext/request.go. The engine logged only k6's short error text, which hid a
// token leak that real k6 showed. With `throw: true` nothing is logged, in both.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runScript } from '../helpers/engine-run.ts';

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

test('Request Failed carries Go\'s url.Error text with the full URL, as k6 logs it; throw: true logs nothing', async () => {
  const port = await closedPort();
  const r = await runScript(
    `
    import http from 'k6/http';
    export const options = { iterations: 1 };
    export default async function () {
      const a = await http.asyncRequest('GET', 'http://127.0.0.1:${port}/x?token=SECRET1', null, { timeout: '2s' });
      console.log('status=' + a.status + ' error=' + a.error + ' code=' + a.error_code);
      try { await http.asyncRequest('POST', 'http://127.0.0.1:${port}/y?token=SECRET2', 'b', { timeout: '2s', throw: true }); } catch (e) { console.log('thrown'); }
    }
    `,
    { quiet: true },
  );
  assert.equal(r.exitCode, 0, r.stderr);
  const out = r.stdout + r.stderr;
  assert.ok(out.includes(`Get \\\\"http://127.0.0.1:${port}/x?token=SECRET1\\\\": dial tcp 127.0.0.1:${port}: connect: connection refused`), out);
  assert.match(out, /status=0 error=dial: connection refused code=1212/);
  assert.match(out, /thrown/);
  assert.ok(!out.includes('SECRET2'), 'a request with throw: true is never logged');
});
