// When a run ends the engine must leave nothing behind: no socket, request or timer of the
// run may keep the process alive after runK6 returns (k6 cancels the VU contexts and its
// process exits). Also: many VUs never trip Node's MaxListenersExceededWarning, and a run
// whose handlers never finish still ends within duration + gracefulStop, as in k6
// (lib/executor/helpers.go getDurationContexts; js/modules/k6/websockets loop() ctx.Done).
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runScript } from '../helpers/engine-run.ts';
import { startTestServer, type TestServer } from '../helpers/net-ws-server.ts';

const ENGINE_DIR = fileURLToPath(new URL('../../engine/', import.meta.url));

interface Tracked {
  type: string;
  stack: string;
  resource: { hasRef?: () => boolean; _destroyed?: boolean; destroyed?: boolean };
}

/** Resources (sockets, timers) created by engine code while `fn` runs and still alive after it. */
async function leftBehind(fn: () => Promise<unknown>): Promise<string[]> {
  const live = new Map<number, Tracked>();
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 60;
  const hook = createHook({
    init(id, type, _trigger, resource) {
      if (type !== 'TCPWRAP' && type !== 'Timeout') return;
      const stack = new Error().stack ?? '';
      // Only what the engine's own code created (the test server runs in this process too).
      if (!stack.includes(ENGINE_DIR)) return;
      live.set(id, { type, stack, resource: resource as Tracked['resource'] });
    },
    destroy(id) {
      live.delete(id);
    },
  });
  hook.enable();
  try {
    await fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
  await new Promise((r) => setImmediate(r));
  hook.disable();
  const left: string[] = [];
  for (const t of live.values()) {
    if (t.type === 'Timeout' && (t.resource._destroyed || t.resource.hasRef?.() === false)) continue;
    const where = t.stack
      .split('\n')
      .filter((l) => l.includes(ENGINE_DIR) || /node_modules\/ws/.test(l))
      .slice(0, 3)
      .map((l) => l.trim())
      .join(' < ');
    left.push(`${t.type} ${where}`);
  }
  return left;
}

describe('engine run end', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(async () => {
    await srv.close();
  });

  it('releases every socket, request and timer when runK6 returns (interrupted ws whose close is never answered, in-flight http, setInterval)', async () => {
    const script = `
      import { WebSocket } from 'k6/websockets';
      import http from 'k6/http';
      export const options = { scenarios: { s: { executor: 'constant-vus', vus: 3, duration: '1s', gracefulStop: '100ms' } } };
      export default function () {
        if (__VU === 1) new WebSocket(__ENV.BASE + '/raw/hang');       // 101, then never answers our close
        if (__VU === 2) return http.asyncRequest('GET', __ENV.HBASE + '/slow'); // answers after 3 s
        if (__VU === 3) setInterval(() => {}, 50);
      }`;
    let code = -1;
    const t0 = Date.now();
    const left = await leftBehind(async () => {
      const r = await runScript(script, { env: { BASE: srv.base, HBASE: srv.httpBase } });
      code = r.exitCode;
    });
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 5000, 'the run ended within duration + gracefulStop');
    assert.deepEqual(left, [], 'handles of the run still alive after runK6 returned');
  });

  it('releases them too when the run is aborted by exec.test.abort() with sockets open', async () => {
    const script = `
      import { WebSocket } from 'k6/websockets';
      import http from 'k6/http';
      import exec from 'k6/execution';
      export const options = { scenarios: { s: { executor: 'constant-vus', vus: 2, duration: '10m' } } };
      export default function () {
        if (__VU === 1) { new WebSocket(__ENV.BASE + '/raw/hang'); setTimeout(() => exec.test.abort('enough'), 200); }
        else return http.asyncRequest('GET', __ENV.HBASE + '/slow');
      }`;
    let code = -1;
    const left = await leftBehind(async () => {
      const r = await runScript(script, { env: { BASE: srv.base, HBASE: srv.httpBase } });
      code = r.exitCode;
    });
    assert.equal(code, 108);
    assert.deepEqual(left, []);
  });

  it('an interrupted in-flight http request emits no http_* sample (k6 PushIfNotDone after the VU context is done)', async () => {
    const r = await runScript(
      `import http from 'k6/http';
       export const options = { scenarios: { s: { executor: 'constant-vus', vus: 1, duration: '1s', gracefulStop: '0s' } } };
       export default function () { return http.asyncRequest('GET', __ENV.HBASE + '/slow'); }`,
      { env: { HBASE: srv.httpBase } },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    const metrics = r.summaryData?.metrics as Record<string, unknown>;
    assert.equal(metrics['http_reqs'], undefined, 'k6 drops the cancelled request');
    assert.doesNotMatch(r.stderr, /Request Failed/);
  });

  it('30 VUs on one scenario: no MaxListenersExceededWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const r = await runScript(
        `export const options = { scenarios: {
           a: { executor: 'shared-iterations', vus: 30, iterations: 60 },
           b: { executor: 'ramping-vus', stages: [{ target: 30, duration: '300ms' }, { target: 0, duration: '200ms' }] } } };
         export default function () { for (let i = 0; i < 12; i++) setTimeout(() => {}, 5); return new Promise((r) => setTimeout(r, 10)); }`,
      );
      assert.equal(r.exitCode, 0, r.stderr);
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings.filter((w) => /MaxListeners/.test(w)), []);
  });

  it('one iteration with 15 requests and 15 sockets in flight: no MaxListenersExceededWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const r = await runScript(
        `import http from 'k6/http';
         import { WebSocket } from 'k6/websockets';
         export const options = { iterations: 1 };
         export default async function () {
           const ps = [];
           for (let i = 0; i < 15; i++) {
             ps.push(http.asyncRequest('GET', __ENV.HBASE + '/http/200'));
             const ws = new WebSocket(__ENV.BASE + '/ws/echo');
             ws.onopen = () => ws.close();
           }
           await Promise.all(ps);
         }`,
        { env: { BASE: srv.base, HBASE: srv.httpBase } },
      );
      assert.equal(r.exitCode, 0, r.stderr);
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings.filter((w) => /MaxListeners/.test(w)), []);
  });
});
