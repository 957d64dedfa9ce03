// k6/http: http.asyncRequest as k6 v2.2 implements it (k6: js/modules/k6/http/request.go,
// response.go, response_callback.go; lib/netext/httpext/{request.go,transport.go,tracer.go,
// error_codes.go,url.go}) over node:http/https. The synchronous forms (request/get/post/...)
// cannot block one VU of a Node event loop: they throw, naming asyncRequest
// (docs/engine-network.md).
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Metric, ModuleFactory, Sample, Tags, VuRuntime } from '../types.ts';
import { applyUserTags, canonicalHeaderKey, countData, isArrayBuffer, scriptRealm, setSystemTag, urlForMessage } from './net-common.ts';
import { goError, goUrlErrorText, k6HttpErrorCode, type NodeNetError } from './net-errors.ts';

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_REDIRECTS = 10;

export const SYNC_UNSUPPORTED =
  'is not supported by the in-process engine (Node cannot block one VU): use http.asyncRequest';

/** Go duration or k6 extended duration ("1d") → ms; numbers are milliseconds (lib/types GetDurationValue). */
export function durationMs(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const s = String(v).trim();
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/y;
  let total = 0;
  let pos = 0;
  let neg = false;
  let rest = s;
  if (rest.startsWith('-')) {
    neg = true;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    total += Number(m[1]) * (units[m[2]!] ?? 0);
    pos = re.lastIndex;
  }
  if (rest.length === 0 || pos !== rest.length) throw goError(`invalid timeout value: time: invalid duration ${JSON.stringify(s)}`);
  return neg ? -total : total;
}

interface HttpMetrics {
  reqs: Metric;
  duration: Metric;
  blocked: Metric;
  connecting: Metric;
  tls: Metric;
  sending: Metric;
  waiting: Metric;
  receiving: Metric;
  failed: Metric;
}

class ExpectedStatuses {
  constructor(
    readonly exact: number[],
    readonly ranges: Array<[number, number]>,
  ) {}
  match(status: number): boolean {
    return this.exact.includes(status) || this.ranges.some(([a, b]) => status >= a && status <= b);
  }
}

function expectedStatuses(...args: unknown[]): ExpectedStatuses {
  if (args.length === 0) throw goError('no arguments');
  const exact: number[] = [];
  const ranges: Array<[number, number]> = [];
  args.forEach((a, i) => {
    const msg = `argument number ${i + 1} to expectedStatuses was neither an integer nor an object like {min:100, max:329}`;
    if (a === null || a === undefined) throw goError(msg);
    if (Number.isInteger(a)) return void exact.push(a as number);
    const o = Object(a) as { min?: unknown; max?: unknown };
    if (o.min === undefined || o.max === undefined) throw goError(msg);
    if (!Number.isInteger(o.min) || !Number.isInteger(o.max)) throw goError(`both min and max need to be integers for argument number ${i + 1}`);
    ranges.push([o.min as number, o.max as number]);
  });
  return new ExpectedStatuses(exact, ranges);
}

type ResponseType = 'text' | 'binary' | 'none';

interface ParsedRequest {
  method: string;
  url: URL;
  urlString: string;
  name: string | undefined; // from http.url`` templates
  headers: Record<string, string>;
  body: Buffer | undefined;
  bodyText: string | undefined;
  tags: Tags;
  timeoutMs: number;
  redirects: number;
  responseType: ResponseType;
  responseCallback: ExpectedStatuses | null;
  throwErrors: boolean;
}

/** What http.url`...` returns (k6 httpext.URL): the URL plus a name built from the template. */
class K6Url {
  constructor(
    readonly url: string,
    readonly name: string,
  ) {}
  toString(): string {
    return this.url;
  }
}

interface Timings {
  duration: number;
  blocked: number;
  looking_up: number;
  connecting: number;
  tls_handshaking: number;
  sending: number;
  waiting: number;
  receiving: number;
}

interface RawResult {
  status: number;
  statusText: string;
  proto: string;
  headers: Record<string, string>;
  body: Buffer;
  url: string;
  remoteIp: string;
  remotePort: number;
  timings: Timings;
  /** `log`: what k6 logs for it, Go's url.Error text (method, the full URL, the cause). */
  error?: { code: number; message: string; canceled?: boolean; log?: string };
  /** Go's client returns 101 responses: k6 then rejects with "unsupported response status". */
  switchingProtocols?: string;
}

/** Go's URL.Clean for tags: hides user info (httpext/url.go). */
function cleanUrl(s: string, u: URL): string {
  if (!u.username && !u.password) return s;
  return s.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, u.password ? '$1****:****@' : '$1****@');
}

function bodyFromArg(body: unknown, headers: Record<string, string>): { buf?: Buffer; text?: string } {
  if (body === undefined || body === null) return {};
  if (typeof body === 'string') return { buf: Buffer.from(body), text: body };
  if (isArrayBuffer(body)) return { buf: Buffer.from(body.slice(0)), text: Buffer.from(body).toString() };
  if (ArrayBuffer.isView(body)) {
    const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    return { buf: Buffer.from(b), text: b.toString() };
  }
  if (typeof body === 'object') {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(body as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const vals = Array.isArray(v) ? v : [v];
      for (const x of vals) q.append(k, x === null || x === undefined || typeof x === 'object' ? '' : String(x));
    }
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const text = q.toString();
    return { buf: Buffer.from(text), text };
  }
  throw goError(`unknown request body type ${typeof body}`);
}

function goStatusText(code: number, msg: string | undefined): string {
  return `${code} ${msg ?? ''}`.trimEnd();
}

/** The k6/http exports for one VU (typed, for the @types/k6 guard in net-k6-types.ts). */
export function httpExports(vu: VuRuntime) {
  const mm = vu.metrics;
  const m: HttpMetrics = {
    reqs: mm.metric('http_reqs', 'counter'),
    duration: mm.metric('http_req_duration', 'trend', 'time'),
    blocked: mm.metric('http_req_blocked', 'trend', 'time'),
    connecting: mm.metric('http_req_connecting', 'trend', 'time'),
    tls: mm.metric('http_req_tls_handshaking', 'trend', 'time'),
    sending: mm.metric('http_req_sending', 'trend', 'time'),
    waiting: mm.metric('http_req_waiting', 'trend', 'time'),
    receiving: mm.metric('http_req_receiving', 'trend', 'time'),
    failed: mm.metric('http_req_failed', 'rate'),
  };
  // One keep-alive pool per VU, like k6's per-VU transport; idle sockets do not hold the process.
  const agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
  vu.onRunEnd?.(() => {
    agents.http.destroy();
    agents.https.destroy();
  });
  let defaultCallback: ExpectedStatuses | null = expectedStatuses({ min: 200, max: 399 });
  const realm = scriptRealm(vu);

  function parseRequest(method: string, urlArg: unknown, body: unknown, params: unknown): ParsedRequest {
    let urlString: string;
    let name: string | undefined;
    if (urlArg instanceof K6Url) {
      urlString = urlArg.url;
      name = urlArg.name;
    } else if (typeof urlArg === 'string') {
      urlString = urlArg;
    } else {
      throw Object.assign(goError(`invalid URL: '#${String(urlArg)}'`), { k6Code: 1020 });
    }
    let url: URL;
    try {
      url = new URL(urlString);
    } catch {
      throw Object.assign(goError(`invalid URL: parse ${JSON.stringify(urlForMessage(urlString))}: invalid URL`), { k6Code: 1020 });
    }
    const headers: Record<string, string> = { 'User-Agent': vu.userAgent };
    const b = bodyFromArg(body, headers);
    const r: ParsedRequest = {
      method,
      url,
      urlString,
      name,
      headers,
      body: b.buf,
      bodyText: b.text,
      tags: { ...vu.tags() },
      timeoutMs: DEFAULT_TIMEOUT_MS,
      redirects: DEFAULT_MAX_REDIRECTS,
      responseType: 'text',
      responseCallback: defaultCallback,
      throwErrors: false,
    };
    if (params !== undefined && params !== null) {
      const p = Object(params) as Record<string, unknown>;
      for (const k of Object.keys(p)) {
        const v = p[k];
        switch (k) {
          case 'headers':
            if (v === undefined || v === null) break;
            for (const [hk, hv] of Object.entries(Object(v) as Record<string, unknown>)) headers[canonicalHeaderKey(hk)] = String(hv);
            break;
          case 'tags':
            applyUserTags(r.tags, v, 'invalid HTTP request metric tags');
            break;
          case 'timeout':
            r.timeoutMs = durationMs(v);
            break;
          case 'redirects':
            r.redirects = Math.trunc(Number(v)) || 0;
            break;
          case 'responseType': {
            const t = String(v);
            if (t !== 'text' && t !== 'binary' && t !== 'none') throw goError(`${t} does not belong to ResponseType values`);
            r.responseType = t;
            break;
          }
          case 'responseCallback':
            if (v === null || v === undefined) r.responseCallback = null;
            else if (v instanceof ExpectedStatuses) r.responseCallback = v;
            else throw goError('unsupported responseCallback');
            break;
          case 'throw':
            r.throwErrors = Boolean(v);
            break;
          case 'cookies': {
            if (v === undefined || v === null) break;
            const parts: string[] = [];
            for (const [ck, cv] of Object.entries(Object(v) as Record<string, unknown>)) {
              if (cv === null || cv === undefined) continue;
              const val = typeof cv === 'object' ? String((cv as { value?: unknown }).value ?? '') : String(cv);
              parts.push(`${ck}=${val}`);
            }
            if (parts.length) headers['Cookie'] = parts.join('; ');
            break;
          }
          case 'jar':
            break; // accepted; this engine keeps no cookie jar (docs/engine-network.md)
          case 'auth':
          case 'compression':
            throw goError(`http params.${k} ${SYNC_UNSUPPORTED.replace(/: use.*$/, '')}`);
          default:
            break; // k6 ignores unknown keys here
        }
      }
    }
    // k6 httpext.MakeRequest: a templated name different from the URL becomes the name tag.
    if (r.tags['name'] === undefined && name !== undefined && name !== cleanUrl(urlString, url) && vu.systemTags.has('name')) {
      r.tags['name'] = name;
    }
    return r;
  }

  /** One round trip with k6's Trail timings; never rejects. */
  function roundTrip(req: ParsedRequest, url: URL, urlString: string, method: string, body: Buffer | undefined, deadline: number): Promise<RawResult> {
    return new Promise<RawResult>((resolve) => {
      const t0 = performance.now();
      let tSocket = t0;
      let tConnStart = -1;
      let tConnect = -1;
      let tSecure = -1;
      let tWritten = -1;
      let tResponse = -1;
      let socket: net.Socket | undefined;
      let baseW = 0;
      let baseR = 0;
      let done = false;
      const secure = url.protocol === 'https:';
      const mod = secure ? https : http;
      const headers: Record<string, string> = { ...req.headers };
      if (body) headers['Content-Length'] = String(body.length);
      const finish = (r: Omit<RawResult, 'timings' | 'url' | 'remoteIp' | 'remotePort'>, tEnd: number): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        untrack();
        if (socket) countData(vu, socket.bytesWritten - baseW, socket.bytesRead - baseR);
        const connecting = tConnStart >= 0 && tConnect >= 0 ? tConnect - tConnStart : 0;
        const tls = tSecure >= 0 && tConnect >= 0 ? tSecure - tConnect : 0;
        const ready = tSecure >= 0 ? tSecure : tConnect >= 0 ? tConnect : tSocket;
        const blocked = Math.max(0, (tConnStart >= 0 ? tConnStart : ready) - t0);
        const sending = tWritten >= 0 ? Math.max(0, tWritten - ready) : 0;
        const waiting = tResponse >= 0 && tWritten >= 0 ? tResponse - tWritten : 0;
        const receiving = tResponse >= 0 ? tEnd - tResponse : 0;
        resolve({
          ...r,
          url: urlString,
          remoteIp: socket?.remoteAddress?.replace(/^::ffff:/, '') ?? '',
          remotePort: socket?.remotePort ?? 0,
          timings: {
            duration: sending + waiting + receiving,
            blocked,
            looking_up: 0,
            connecting,
            tls_handshaking: tls,
            sending,
            waiting,
            receiving,
          },
        });
      };
      const fail = (err: NodeNetError, phase: 'dial' | 'read' | 'write'): void => {
        const e =
          err.code === 'K6_TIMEOUT'
            ? { code: 1050, message: 'request timeout' }
            : err.code === 'K6_CANCELED'
              ? { code: 0, message: 'context canceled', canceled: true }
            : err.message === 'socket hang up'
              ? { code: 1000, message: 'EOF' }
              : k6HttpErrorCode(err, phase);
        const log = goUrlErrorText(method, urlString, err, { host: url.hostname, port: Number(url.port) || (secure ? 443 : 80) }, phase);
        finish({ status: 0, statusText: '', proto: '', headers: {}, body: Buffer.alloc(0), error: { ...e, log } }, performance.now());
      };
      const r = mod.request(url, { method, headers, agent: secure ? agents.https : agents.http, setHost: true });
      const timer = setTimeout(() => {
        const e: NodeNetError = new Error('request timeout');
        e.code = 'K6_TIMEOUT';
        r.destroy(e);
      }, Math.max(0, deadline - performance.now()));
      // k6 makes the request with the VU context: when the iteration is interrupted (or the
      // run ends) the request is cancelled, its socket closed, and no metric is emitted.
      const signal = vu.signal;
      const cancel = (): void => {
        const e: NodeNetError = new Error('context canceled');
        e.code = 'K6_CANCELED';
        r.destroy(e);
      };
      if (signal.aborted) queueMicrotask(cancel);
      const unwatch = signal.aborted ? () => undefined : watchSignal(signal, cancel);
      const unregisterRunEnd = vu.onRunEnd?.(cancel);
      const untrack = (): void => {
        unwatch();
        unregisterRunEnd?.();
      };
      r.on('socket', (s: net.Socket) => {
        socket = s;
        baseW = s.bytesWritten;
        baseR = s.bytesRead;
        tSocket = performance.now();
        if (s.connecting) {
          tConnStart = tSocket;
          s.once('connect', () => {
            tConnect = performance.now();
          });
          if (secure) s.once('secureConnect', () => (tSecure = performance.now()));
        }
      });
      r.on('finish', () => {
        tWritten = performance.now();
      });
      r.on('error', (err: NodeNetError) => fail(err, tConnect < 0 && tConnStart >= 0 ? 'dial' : tWritten < 0 ? 'write' : 'read'));
      r.on('upgrade', (res, s: net.Socket) => {
        // Go's transport hands back a 101 with the connection as the body; k6 closes it and fails.
        s.destroy();
        tResponse = performance.now();
        finish(
          {
            status: 101,
            statusText: goStatusText(101, res.statusMessage),
            proto: `HTTP/${res.httpVersion}`,
            headers: {},
            body: Buffer.alloc(0),
            switchingProtocols: goStatusText(101, res.statusMessage),
          },
          performance.now(),
        );
      });
      r.on('response', (res) => {
        tResponse = performance.now();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err: NodeNetError) => fail(err, 'read'));
        res.on('end', () => {
          const hdrs: Record<string, string> = {};
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
            const k = canonicalHeaderKey(res.rawHeaders[i]!);
            hdrs[k] = hdrs[k] === undefined ? res.rawHeaders[i + 1]! : `${hdrs[k]}, ${res.rawHeaders[i + 1]!}`;
          }
          finish(
            {
              status: res.statusCode ?? 0,
              statusText: goStatusText(res.statusCode ?? 0, res.statusMessage),
              proto: `HTTP/${res.httpVersion}`,
              headers: hdrs,
              body: Buffer.concat(chunks),
            },
            performance.now(),
          );
        });
      });
      r.end(body);
    });
  }

  function emitMetrics(req: ParsedRequest, method: string, res: RawResult): void {
    const st = vu.systemTags;
    const tags: Tags = { ...req.tags };
    const clean = cleanUrl(res.url, new URL(res.url));
    const manualName = tags['name'];
    if (manualName === undefined) {
      setSystemTag(tags, st, 'name', clean);
      setSystemTag(tags, st, 'url', clean);
    } else {
      setSystemTag(tags, st, 'url', manualName);
    }
    setSystemTag(tags, st, 'method', method);
    if (res.error) {
      setSystemTag(tags, st, 'error', res.error.message);
      setSystemTag(tags, st, 'error_code', String(res.error.code));
      setSystemTag(tags, st, 'status', '0');
    } else {
      setSystemTag(tags, st, 'status', String(res.status));
      if (res.status >= 400) setSystemTag(tags, st, 'error_code', String(1000 + res.status));
      setSystemTag(tags, st, 'proto', res.proto);
    }
    let failed = 0;
    if (req.responseCallback) {
      const expected = req.responseCallback.match(res.error ? 0 : res.status);
      if (!expected) failed = 1;
      setSystemTag(tags, st, 'expected_response', String(expected));
    }
    const time = Date.now();
    const metadata = vu.metadata();
    const s = (metric: Metric, value: number): Sample => ({ metric, time, value, tags, metadata });
    const t = res.timings;
    const samples = [
      s(m.reqs, 1),
      s(m.duration, t.duration),
      s(m.blocked, t.blocked),
      s(m.connecting, t.connecting),
      s(m.tls, t.tls_handshaking),
      s(m.sending, t.sending),
      s(m.waiting, t.waiting),
      s(m.receiving, t.receiving),
    ];
    if (req.responseCallback) samples.push(s(m.failed, failed));
    vu.metrics.push(samples);
  }

  async function perform(req: ParsedRequest): Promise<RawResult & { requestUrl: string }> {
    const deadline = performance.now() + req.timeoutMs;
    let url = req.url;
    let urlString = req.urlString;
    let method = req.method;
    let body = req.body;
    for (let hop = 0; ; hop++) {
      const res = await roundTrip(req, url, urlString, method, body, deadline);
      if (res.switchingProtocols) return { ...res, requestUrl: urlString }; // no metrics: k6 returns before processing the trail
      if (res.error?.canceled) return { ...res, requestUrl: urlString }; // k6 PushIfNotDone: the context is done
      emitMetrics(req, method, res);
      const loc = res.headers['Location'];
      if (res.error || !loc || ![301, 302, 303, 307, 308].includes(res.status) || hop >= req.redirects) {
        return { ...res, requestUrl: urlString };
      }
      url = new URL(loc, url);
      urlString = url.toString();
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
      }
    }
  }

  function makeResponse(req: ParsedRequest, res: RawResult | undefined, parseError?: { code: number; message: string }) {
    const bodyBuf = res?.body;
    let body: unknown = null;
    if (res && !res.error) {
      if (req.responseType === 'text') body = bodyBuf!.toString('utf8');
      else if (req.responseType === 'binary') body = realm.arrayBuffer(bodyBuf!);
    }
    const reqHeaders: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) reqHeaders[k] = [v];
    const response = Object.assign(realm.object(), {
      remote_ip: res?.remoteIp ?? '',
      remote_port: res?.remotePort ?? 0,
      url: res?.url ?? req.urlString,
      status: res?.error ? 0 : (res?.status ?? 0),
      status_text: res?.error ? '' : (res?.statusText ?? ''),
      proto: res?.error ? '' : (res?.proto ?? ''),
      headers: res?.error ? {} : (res?.headers ?? {}),
      cookies: {},
      body,
      timings: res?.timings ?? { duration: 0, blocked: 0, looking_up: 0, connecting: 0, tls_handshaking: 0, sending: 0, waiting: 0, receiving: 0 },
      tls_version: '',
      tls_cipher_suite: '',
      ocsp: { produced_at: 0, this_update: 0, next_update: 0, revoked_at: 0, revocation_reason: '', status: '' },
      error: res?.error?.message ?? parseError?.message ?? '',
      // k6 transport.go: a status ≥ 400 sets error_code = 1000 + status on the Response too.
      error_code: res?.error?.code ?? parseError?.code ?? (res && res.status >= 400 ? 1000 + res.status : 0),
      request: { method: req.method, url: req.urlString, headers: reqHeaders, body: req.bodyText ?? '', cookies: {} },
      json(selector?: unknown): unknown {
        if (this.body === null || this.body === undefined) {
          throw realm.error(goError('the body is null so we can\'t transform it to JSON - this likely was because of a request error getting the response'));
        }
        const text = typeof this.body === 'string' ? this.body : Buffer.from(this.body as ArrayBuffer).toString();
        if (selector !== undefined) {
          let v: unknown;
          try {
            v = realm.jsonParse(text);
          } catch {
            return undefined;
          }
          for (const part of String(selector).split('.')) {
            if (v === null || typeof v !== 'object' || !(part in (v as object))) return undefined;
            v = (v as Record<string, unknown>)[part];
          }
          return v;
        }
        try {
          return realm.jsonParse(text);
        } catch (e) {
          throw realm.error(goError(`cannot parse json due to an error at line 1: ${(e as Error).message}`));
        }
      },
      html(): never {
        throw realm.error(goError(`Response.html() ${SYNC_UNSUPPORTED.replace(/: use.*$/, '')}`));
      },
      clickLink(): never {
        throw realm.error(goError(`Response.clickLink() ${SYNC_UNSUPPORTED.replace(/: use.*$/, '')}`));
      },
      submitForm(): never {
        throw realm.error(goError(`Response.submitForm() ${SYNC_UNSUPPORTED.replace(/: use.*$/, '')}`));
      },
    });
    return response;
  }

  function asyncRequest(method: unknown, url: unknown, body?: unknown, params?: unknown): Promise<unknown> {
    if (vu.inInit) throw realm.error(goError('Making http requests in the init context is not supported'));
    const meth = String(method);
    let req: ParsedRequest;
    try {
      req = parseRequest(meth, url, body, params);
    } catch (e) {
      // k6 handleParseRequestError: a warning and a Response carrying the error, unless throw.
      const k6Code = (e as { k6Code?: number }).k6Code ?? 0;
      if (params !== null && typeof params === 'object' && (params as { throw?: unknown }).throw) return realm.promise((_, rej) => rej(realm.error(e)));
      vu.warn(`Request Failed error=${JSON.stringify((e as Error).message)}`);
      const dummy: ParsedRequest = {
        method: meth, url: new URL('http://invalid/'), urlString: String(url), name: undefined, headers: {}, body: undefined,
        bodyText: undefined, tags: {}, timeoutMs: 0, redirects: 0, responseType: 'text', responseCallback: null, throwErrors: false,
      };
      return realm.promise((res) => res(makeResponse(dummy, undefined, { code: k6Code, message: (e as Error).message })));
    }
    const handle = vu.registerCallback();
    return realm.promise<unknown>((resolve, reject) => {
      perform(req).then(
        (res) => {
          handle.enqueue(() => {
            if (res.switchingProtocols) return reject(realm.error(goError(`unsupported response status: ${res.switchingProtocols}`)));
            if (res.error) {
              if (req.throwErrors) return reject(realm.error(goError(res.error.message)));
              // As k6 (lib/netext/httpext/request.go): the Go url.Error, full URL included, so a
              // script that would leak a token through this line under k6 leaks it here too.
              if (!vu.signal.aborted) vu.warn(`Request Failed error=${JSON.stringify(res.error.log ?? res.error.message)}`);
            }
            resolve(makeResponse(req, res));
          });
          handle.release();
        },
        (e: unknown) => {
          handle.enqueue(() => reject(realm.error(e)));
          handle.release();
        },
      );
    });
  }

  const syncForm = (name: string) => (): never => {
    throw realm.error(goError(`http.${name}() ${SYNC_UNSUPPORTED}`));
  };

  function url(strings: TemplateStringsArray, ...values: unknown[]): K6Url {
    let u = '';
    let name = '';
    strings.forEach((s, i) => {
      u += s;
      name += s;
      if (i < values.length) {
        u += String(values[i]);
        name += '${}';
      }
    });
    return new K6Url(u, name);
  }

  return {
    asyncRequest,
    request: syncForm('request'),
    get: syncForm('get'),
    head: syncForm('head'),
    post: syncForm('post'),
    put: syncForm('put'),
    patch: syncForm('patch'),
    del: syncForm('del'),
    options: syncForm('options'),
    batch: syncForm('batch'),
    expectedStatuses: (...args: unknown[]): ExpectedStatuses => realm.call(() => expectedStatuses(...args)),
    setResponseCallback(cb: unknown): void {
      if (cb === null || cb === undefined) defaultCallback = null;
      else if (cb instanceof ExpectedStatuses) defaultCallback = cb;
      else throw realm.error(goError('unsupported argument, expected http.expectedStatuses'));
    },
    url,
  };
}

export const createHttpModule: ModuleFactory = httpExports;

// One abort listener per iteration signal (not one per request), so an iteration with many
// requests in flight stays below EventTarget's listener warning and removal stays O(1).
const signalWatchers = new WeakMap<AbortSignal, Set<() => void>>();
function watchSignal(signal: AbortSignal, fn: () => void): () => void {
  let set = signalWatchers.get(signal);
  if (!set) {
    const fresh = new Set<() => void>();
    signalWatchers.set(signal, fresh);
    signal.addEventListener(
      'abort',
      () => {
        for (const f of [...fresh]) f();
        fresh.clear();
      },
      { once: true },
    );
    set = fresh;
  }
  set.add(fn);
  return () => set.delete(fn);
}
