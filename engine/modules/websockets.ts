// k6/websockets: the browser-like WebSocket as k6 v2.2 implements it
// (k6: internal/js/modules/k6/websockets/{websockets.go,params.go,listeners.go,blob.go}),
// built on the `ws` npm client. Behaviour and deviations: docs/engine-network.md.
import type { IncomingMessage } from 'node:http';
import type net from 'node:net';
import WsClient from 'ws';
import type { CallbackHandle, Metric, ModuleFactory, Sample, Tags, VuRuntime } from '../types.ts';
import {
  applyUserTags, canonicalHeaderKey, countData, goUrlParts, isArrayBuffer, isDataView, isStringObject, scriptRealm,
  setSystemTag, trackedConnect, urlForMessage, type Realm,
} from './net-common.ts';
import { goError, goNetErrorText, type NodeNetError } from './net-errors.ts';

const HANDSHAKE_TIMEOUT_MS = 60_000; // k6: websocket.Dialer{HandshakeTimeout: 60 s}
/** After vu.signal aborts, how long an unanswered close handshake may take before the socket is dropped. */
const ABORT_CLOSE_GRACE_MS = 1_000;

const enum RS {
  CONNECTING = 0,
  OPEN = 1,
  CLOSING = 2,
  CLOSED = 3,
}

const EVENT_TYPES = ['open', 'message', 'error', 'close', 'ping', 'pong'] as const;
type EventType = (typeof EVENT_TYPES)[number];
type Listener = (ev: unknown) => unknown;

/** gorilla/websocket CloseError.Error(). */
const CLOSE_NAMES: Record<number, string> = {
  1000: 'normal',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported data',
  1005: 'no status',
  1006: 'abnormal closure',
  1007: 'invalid payload data',
  1008: 'policy violation',
  1009: 'message too big',
  1010: 'mandatory extension',
  1011: 'internal server error',
  1015: 'TLS handshake',
};
export function closeErrorText(code: number, text: string): string {
  const name = CLOSE_NAMES[code];
  return `websocket: close ${code}${name ? ` (${name})` : ''}${text ? `: ${text}` : ''}`;
}

// ---------------------------------------------------------------------------------------
// Blob (k6 blob.go): bytes plus a type; arrayBuffer/bytes/text return promises.

const blobBytes = new WeakMap<object, Uint8Array>();

function partBytes(part: unknown, blobCtor: unknown): Uint8Array {
  if (typeof part === 'string') return new TextEncoder().encode(part);
  if (isArrayBuffer(part)) return new Uint8Array(part.slice(0));
  if (isDataView(part)) return new Uint8Array(part.buffer.slice(0)); // k6 takes the whole buffer
  if (ArrayBuffer.isView(part)) return new Uint8Array(part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength));
  if (part !== null && typeof part === 'object' && blobBytes.has(part) && (part as { constructor?: unknown }).constructor === blobCtor) {
    return blobBytes.get(part)!.slice();
  }
  throw goError(`failed to process [blobParts]: unsupported type: ${typeof part}`);
}

export function makeBlobClass(realm: Realm) {
  class Blob {
    constructor(parts?: unknown, options?: unknown) {
      realm.call(() => this.init(parts, options));
    }
    private init(parts?: unknown, options?: unknown): void {
      const chunks: Uint8Array[] = [];
      if (parts !== undefined && parts !== null) {
        if (!Array.isArray(parts)) throw goError('failed to process [blobParts]: expected an array');
        for (const p of parts) chunks.push(partBytes(p, Blob));
      }
      let type = '';
      if (options !== undefined) {
        if (options === null || typeof options !== 'object') throw goError('[options] must be an object');
        const t = (options as { type?: unknown }).type;
        if (t !== undefined) type = String(t);
      }
      const total = chunks.reduce((n, c) => n + c.length, 0);
      const data = new Uint8Array(total);
      let off = 0;
      for (const c of chunks) {
        data.set(c, off);
        off += c.length;
      }
      blobBytes.set(this, data);
      Object.defineProperty(this, 'size', { get: () => data.length, enumerable: true });
      Object.defineProperty(this, 'type', { get: () => type, enumerable: true });
    }
    arrayBuffer(): Promise<ArrayBuffer> {
      const d = blobBytes.get(this)!;
      return realm.promise((res) => res(realm.arrayBuffer(d)));
    }
    bytes(): Promise<Uint8Array> {
      const d = blobBytes.get(this)!;
      return realm.promise((res) => res(realm.uint8(d)));
    }
    text(): Promise<string> {
      const d = blobBytes.get(this)!;
      return realm.promise((res) => res(new TextDecoder().decode(d)));
    }
    slice(start?: number, end?: number, contentType?: string): Blob {
      const d = blobBytes.get(this)!;
      const from = Math.trunc(Number(start ?? 0)) || 0;
      let to = end === undefined ? d.length : Math.trunc(Number(end)) || 0;
      if (to < 0) to = d.length + to;
      return new Blob([d.slice(from, to)], { type: contentType === undefined ? '' : String(contentType) });
    }
    toString(): string {
      return '[object Blob]';
    }
  }
  return Blob;
}
type BlobClass = ReturnType<typeof makeBlobClass>;

// ---------------------------------------------------------------------------------------

interface WsMetrics {
  sessions: Metric;
  connecting: Metric;
  sessionDuration: Metric;
  msgsSent: Metric;
  msgsReceived: Metric;
  ping: Metric;
}

function declareMetrics(vu: VuRuntime): WsMetrics {
  const m = vu.metrics;
  return {
    sessions: m.metric('ws_sessions', 'counter'),
    connecting: m.metric('ws_connecting', 'trend', 'time'),
    sessionDuration: m.metric('ws_session_duration', 'trend', 'time'),
    msgsSent: m.metric('ws_msgs_sent', 'counter'),
    msgsReceived: m.metric('ws_msgs_received', 'counter'),
    ping: m.metric('ws_ping', 'trend', 'time'),
  };
}

interface ParsedParams {
  headers: Record<string, string>;
  tags: Tags;
  compression: boolean;
}

function parseUrl(raw: unknown): string {
  if (raw === undefined || raw === null) throw goError('WebSocket requires a url');
  const s = String(raw);
  const { scheme, fragment } = goUrlParts(s);
  if (/[\x00-\x1f\x7f]/.test(s)) {
    const q = JSON.stringify(urlForMessage(s));
    throw goError(`WebSocket requires valid url, but got ${q} which resulted in parse ${q}: net/url: invalid control character in URL`);
  }
  if (scheme !== 'ws' && scheme !== 'wss') throw goError(`WebSocket requires url with scheme ws or wss, but got ${JSON.stringify(scheme)}`);
  if (fragment !== '') throw goError(`WebSocket requires no url fragment, but got ${JSON.stringify(fragment)}`);
  return s;
}

function parseParams(vu: VuRuntime, raw: unknown): ParsedParams {
  const out: ParsedParams = { headers: { 'User-Agent': vu.userAgent }, tags: { ...vu.tags() }, compression: false };
  if (raw === undefined || raw === null) return out;
  const p = Object(raw) as Record<string, unknown>;
  for (const k of Object.keys(p)) {
    switch (k) {
      case 'headers': {
        const h = p[k];
        if (h === undefined || h === null) break;
        const ho = Object(h) as Record<string, unknown>;
        for (const hk of Object.keys(ho)) out.headers[canonicalHeaderKey(hk)] = String(ho[hk]);
        break;
      }
      case 'tags':
        applyUserTags(out.tags, p[k], 'invalid WebSocket tags option');
        break;
      case 'jar':
        // Accepted like k6; this engine has no cookie jar for WebSockets (docs/engine-network.md).
        break;
      case 'compression': {
        const algo = String(p[k]).trim();
        if (algo !== 'deflate') throw goError(`unsupported compression algorithm '${algo}', supported algorithm is 'deflate'`);
        out.compression = true;
        break;
      }
      default:
        throw goError(`unknown WebSocket's option ${k}`);
    }
  }
  return out;
}

function parseProtocols(raw: unknown): string[] {
  if (raw === undefined || raw === null) return [];
  if (isStringObject(raw)) return [String(raw)];
  if (Array.isArray(raw)) return raw.map((x) => String(x));
  return [];
}

/** The bytes k6 sends for a `send()` argument, or throws its error. */
function sendPayload(data: unknown, Blob: BlobClass): { bytes: Buffer | string; binary: boolean; size: number } {
  if (typeof data === 'string') return { bytes: data, binary: false, size: Buffer.byteLength(data) };
  if (isArrayBuffer(data)) return { bytes: Buffer.from(data.slice(0)), binary: true, size: data.byteLength };
  if (ArrayBuffer.isView(data)) {
    const b = Buffer.from(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    return { bytes: b, binary: true, size: b.length };
  }
  if (data instanceof Blob) {
    const b = Buffer.from(blobBytes.get(data)!);
    return { bytes: b, binary: true, size: b.length };
  }
  const t = data === null ? 'nil' : Array.isArray(data) ? '[]interface {}' : typeof data === 'object' ? 'map[string]interface {}' : typeof data;
  throw goError(`unsupported send type ${t}`);
}

// Handshake headers gorilla refuses (client.go DialContext: "duplicate header not allowed").
function forbiddenHeader(headers: Record<string, string>, compression: boolean, protocols: string[]): string | undefined {
  for (const k of Object.keys(headers)) {
    if (k === 'Upgrade' || k === 'Connection' || k === 'Sec-Websocket-Key' || k === 'Sec-Websocket-Version') return k;
    if (k === 'Sec-Websocket-Extensions' && compression) return k;
    if (k === 'Sec-Websocket-Protocol' && protocols.length > 0) return k;
  }
  return undefined;
}

class Socket {
  readonly obj: Record<string, unknown>;
  private readyState: RS = RS.CONNECTING;
  private bufferedAmount = 0;
  private binaryType: 'blob' | 'arraybuffer' = 'blob';
  private protocol = '';
  private extensions: string[] = [];
  private closeCode = 0;
  private closeReason = '';
  private readonly on = new Map<EventType, Listener | null>();
  private readonly lists = new Map<EventType, Listener[]>();
  private client: WsClient | undefined;
  private rawSocket: net.Socket | undefined;
  private readonly handle: CallbackHandle;
  private released = false;
  private dialDone = false;
  private opened = false;
  private sessionDurationEmitted = false;
  private readonly started = Date.now();
  private readonly startedPerf = performance.now();
  private pingCounter = 0;
  private readonly pingTimes = new Map<string, number>();
  private readonly tags: Tags;
  private readonly metadata: Record<string, string>;
  // Wire observations that classify a close like gorilla's readPump would.
  private sawFin = false;
  private sawSocketError = false;
  private sawProtocolError = false;
  private wsCloseSeen = false;
  private loopClosed = false;
  private abortTimer: NodeJS.Timeout | undefined;
  private signal: AbortSignal | undefined;
  private unregisterRunEnd: (() => void) | undefined;

  constructor(
    private readonly vu: VuRuntime,
    private readonly m: WsMetrics,
    private readonly Blob: BlobClass,
    private readonly realm: Realm,
    private readonly url: string,
    protocols: string[],
    private readonly params: ParsedParams,
  ) {
    this.tags = params.tags;
    this.metadata = { ...vu.metadata() };
    this.handle = vu.registerCallback();
    this.obj = this.defineObject();
    if (vu.signal.aborted) {
      queueMicrotask(() => this.dialFailed('context canceled', undefined));
      return;
    }
    this.signal = vu.signal;
    watchAbort(this.signal, this);
    // The run ended with this socket still on the wire (interrupted, close unanswered): drop it.
    this.unregisterRunEnd = vu.onRunEnd?.(() => {
      if (this.abortTimer) clearTimeout(this.abortTimer);
      this.terminate();
      this.rawSocket?.destroy();
    });
    this.dial(protocols);
  }

  // ----- JS surface (defineWebsocket) -----

  private defineObject(): Record<string, unknown> {
    const o = this.realm.object();
    const R = this.realm;
    const ro = (v: unknown) => ({ value: v, enumerable: true, writable: false, configurable: false });
    const get = (g: () => unknown, s?: (v: unknown) => void) => ({ get: g, set: s, enumerable: true, configurable: false });
    Object.defineProperties(o, {
      addEventListener: ro((type: unknown, handler: unknown) => R.call(() => this.addEventListener(type, handler))),
      send: ro((data: unknown) => R.call(() => this.send(data))),
      ping: ro(() => R.call(() => this.ping())),
      close: ro((code?: unknown, reason?: unknown) => R.call(() => this.close(code, reason))),
      url: ro(this.url),
      readyState: get(() => this.readyState),
      bufferedAmount: get(() => this.bufferedAmount),
      extensions: get(() => R.array(this.extensions)),
      protocol: get(() => this.protocol),
      binaryType: get(
        () => this.binaryType,
        (v: unknown) =>
          R.call(() => {
            const s = String(v);
            if (s !== 'blob' && s !== 'arraybuffer') throw goError(`unknown binaryType ${s}, the supported ones are "blob" and "arraybuffer"`);
            this.binaryType = s;
          }),
      ),
    });
    for (const t of ['message', 'error', 'open', 'close', 'ping', 'pong'] as const) {
      const prop = `on${t}`;
      Object.defineProperty(o, prop, get(
        () => this.on.get(t) ?? null,
        (v: unknown) =>
          R.call(() => {
            if (v === null || v === undefined) return void this.on.set(t, null);
            if (typeof v !== 'function') throw goError(`a value for '${prop}' should be callable`);
            this.on.set(t, v as Listener);
          }),
      ));
    }
    return o;
  }

  private addEventListener(type: unknown, handler: unknown): void {
    const t = String(type);
    if (typeof handler !== 'function') throw goError(`handler for event type ${JSON.stringify(t)} isn't a callable function`);
    if (!(EVENT_TYPES as readonly string[]).includes(t)) {
      this.vu.warn(`can't add event handler: unknown event type: ${t}`);
      return;
    }
    const list = this.lists.get(t as EventType) ?? [];
    list.push(handler as Listener);
    this.lists.set(t as EventType, list);
  }

  private listeners(t: EventType): Listener[] {
    const on = this.on.get(t);
    const list = this.lists.get(t) ?? [];
    return on ? [on, ...list] : [...list];
  }

  private send(data: unknown): void {
    this.assertOpen();
    const { bytes, binary, size } = sendPayload(data, this.Blob);
    this.bufferedAmount += size;
    this.write(bytes, binary, size);
  }

  private write(bytes: Buffer | string, binary: boolean, size: number): void {
    const c = this.client!;
    c.send(bytes, { binary }, (err) => {
      if (err) {
        this.writeFailed(err as NodeNetError);
        return;
      }
      this.enqueue(() => {
        this.bufferedAmount -= size;
      });
      this.countSent();
    });
  }

  /**
   * A frame write (data or ping) failed. When it failed only because the server's close frame
   * was already on its way (`ws` refuses the write with no errno: the socket is CLOSING on its
   * side), k6's read pump delivers that close frame and the close event carries its code and
   * reason, so the ending is left to the close path. Any other failure ends the socket, as k6's
   * write pump does.
   */
  private writeFailed(err: NodeNetError): void {
    const c = this.client;
    if (!err.code && c !== undefined && c.readyState !== c.OPEN) return;
    this.enqueue(() => {
      this.terminate();
      this.connectionClosedWithError(this.writeErrorText(err));
    });
  }

  private writeErrorText(err: NodeNetError): string {
    if (err.code) return goNetErrorText(err, this.connInfo(), 'write');
    return 'websocket: close sent';
  }

  private ping(): void {
    this.assertOpen();
    const id = String(this.pingCounter);
    this.client!.ping(Buffer.from(id), undefined, (err) => {
      if (err) {
        this.writeFailed(err as NodeNetError);
        return;
      }
      // k6 writePump counts every frame it writes, pings included.
      this.countSent();
    });
    this.pingTimes.set(id, performance.now());
    this.pingCounter++;
  }

  private assertOpen(): void {
    if (this.readyState !== RS.OPEN) throw goError('InvalidStateError');
  }

  private close(codeArg?: unknown, reasonArg?: unknown): void {
    if (this.readyState === RS.CLOSED || this.readyState === RS.CLOSING) return;
    let code = codeArg === undefined || codeArg === null ? 0 : Math.trunc(Number(codeArg)) || 0;
    const reason = reasonArg === undefined || reasonArg === null ? '' : String(reasonArg);
    if (code !== 0 && !(code === 1000 || (code >= 3000 && code <= 4999))) {
      throw goError(
        `InvalidAccessError: Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999. ${code} is neither`,
      );
    }
    if (Buffer.byteLength(reason) > 123) {
      throw goError(`SyntaxError: Failed to execute 'close' on 'WebSocket': The message must not be greater than 123 bytes`);
    }
    if (code === 0) code = 1000;
    const wasConnecting = this.readyState === RS.CONNECTING;
    this.readyState = RS.CLOSING;
    this.closeCode = code;
    if (wasConnecting) {
      // k6 blocks the JS thread here until the handshake ends; we queue the frame instead.
      this.pendingClose = { code, reason };
      return;
    }
    this.sendCloseFrame(code, reason);
  }

  private pendingClose: { code: number; reason: string } | undefined;

  private sendCloseFrame(code: number, reason: string): void {
    const c = this.client;
    const writable = c !== undefined && c.readyState === WsClient.OPEN;
    try {
      c?.close(code, reason);
    } catch {
      this.terminate();
      return;
    }
    // k6 writePump counts the close frame of close() as a message sent (PushIfNotDone: not
    // when the VU context is done, i.e. the close k6 itself sends on interruption).
    if (writable) this.countSent();
  }

  private countSent(): void {
    if (this.signal?.aborted) return;
    this.push(this.m.msgsSent, Date.now(), 1);
  }

  // ----- events -----

  private newEvent(type: EventType, time: number, extra?: Record<string, unknown>): Record<string, unknown> {
    const ev = this.realm.object();
    const obj = this.obj;
    Object.defineProperties(ev, {
      type: { get: () => type, enumerable: true },
      target: { get: () => obj, enumerable: true },
      timestamp: { get: () => time, enumerable: true },
    });
    if (extra) {
      for (const [k, v] of Object.entries(extra)) Object.defineProperty(ev, k, { value: v, enumerable: true, writable: false });
    }
    return ev;
  }

  /** Calls listeners in k6 order with `this` undefined; the first exception stops the chain and propagates. */
  private callListeners(type: EventType, ev: unknown): void {
    for (const l of this.listeners(type)) l.call(undefined, ev);
  }

  private callErrorListeners(text: string): void {
    this.callListeners('error', this.newEvent('error', nowMs(), { error: text }));
  }

  private callCloseListeners(): void {
    const extra: Record<string, unknown> = {};
    if (this.closeCode !== 0) extra['code'] = this.closeCode;
    extra['reason'] = this.closeReason;
    this.callListeners('close', this.newEvent('close', nowMs(), extra));
  }

  /** k6 connectionClosedWithError: CLOSED, error listeners (unless a clean 1000), then close listeners. */
  private connectionClosedWithError(errText: string | undefined, isNormalCloseError = false): void {
    if (this.readyState === RS.CLOSED) return;
    this.readyState = RS.CLOSED;
    this.loopEnded();
    if (errText !== undefined && !isNormalCloseError) this.callErrorListeners(errText);
    this.callCloseListeners();
  }

  /** A listener exception in open/message: close the TCP connection, error+close listeners, then fail the iteration. */
  private failFromHandler(e: unknown): never {
    this.terminate();
    try {
      this.connectionClosedWithError(errorText(e));
    } catch {
      // k6 ignores what those listeners throw here.
    }
    throw e;
  }

  private enqueue(fn: () => void): void {
    if (this.released) return;
    this.handle.enqueue(fn);
  }

  // ----- connection -----

  private connInfo() {
    const u = safeUrl(this.url);
    const s = this.rawSocket;
    return {
      host: u?.hostname.replace(/^\[|\]$/g, '') ?? '',
      port: Number(u?.port || (u?.protocol === 'wss:' ? 443 : 80)),
      local: s?.localAddress ? `${fmtAddr(s.localAddress)}:${s.localPort}` : undefined,
      remote: s?.remoteAddress ? `${fmtAddr(s.remoteAddress)}:${s.remotePort}` : undefined,
    };
  }

  private dial(protocols: string[]): void {
    const bad = forbiddenHeader(this.params.headers, this.params.compression, protocols);
    if (bad) {
      queueMicrotask(() => this.dialFailed(`websocket: duplicate header not allowed: ${bad}`, undefined));
      return;
    }
    const secure = goUrlParts(this.url).scheme === 'wss';
    const wsUrl = this.url.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:/, secure ? 'wss:' : 'ws:');
    let client: WsClient;
    try {
      client = new WsClient(wsUrl, protocols, {
        headers: this.params.headers,
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
        perMessageDeflate: this.params.compression ? { clientNoContextTakeover: true, serverNoContextTakeover: true } : false,
        maxPayload: 0,
        skipUTF8Validation: true, // gorilla does not validate UTF-8 on read
        followRedirects: false,
        autoPong: true,
        createConnection: trackedConnect(secure, (s) => {
          this.rawSocket = s;
          s.on('end', () => {
            this.sawFin = true;
          });
          s.on('error', () => {
            this.sawSocketError = true;
          });
          s.once('close', () => countData(this.vu, s.bytesWritten, s.bytesRead));
        }) as never,
      });
    } catch (e) {
      const msg = e instanceof SyntaxError && /subprotocol/.test(e.message) ? e.message : 'malformed ws or wss URL';
      queueMicrotask(() => this.dialFailed(msg, undefined));
      return;
    }
    this.client = client;
    let upgradeRes: IncomingMessage | undefined;
    client.on('upgrade', (res) => {
      upgradeRes = res;
    });
    client.on('unexpected-response', (req, res) => {
      if (this.dialDone) return;
      res.resume();
      res.destroy();
      req.destroy();
      this.dialFailed('websocket: bad handshake', res);
    });
    client.on('open', () => this.dialSucceeded(upgradeRes));
    client.on('error', (err: NodeNetError) => {
      if (!this.dialDone) {
        if (upgradeRes) return this.dialFailed('websocket: bad handshake', upgradeRes);
        return this.dialFailed(this.dialErrorText(err), undefined);
      }
      // After open: frame/protocol errors. gorilla returns them as non-close errors → swallowed.
      this.sawProtocolError = true;
    });
    client.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const t = Date.now();
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.enqueue(() => this.deliverMessage(buf, isBinary, t));
    });
    client.on('ping', () => {
      this.enqueue(() => this.callListeners('ping', this.newEvent('ping', nowMs())));
    });
    client.on('pong', (data: Buffer) => {
      const t = performance.now();
      const wall = Date.now();
      const id = data.toString();
      this.enqueue(() => {
        this.trackPong(id, t, wall);
        this.callListeners('pong', this.newEvent('pong', nowMs()));
      });
    });
    client.on('close', (code: number, reason: Buffer) => this.wireClosed(code, reason.toString()));
  }

  private dialErrorText(err: NodeNetError): string {
    if (this.vu.signal.aborted) return 'context canceled';
    if (err.message === 'Opening handshake has timed out') {
      const ci = this.connInfo();
      return this.rawSocket && !this.rawSocket.connecting && ci.local
        ? `read tcp ${ci.local}->${ci.remote}: i/o timeout`
        : `dial tcp ${ci.host}:${ci.port}: i/o timeout`;
    }
    if (err.message === 'socket hang up') return 'unexpected EOF';
    if (err.code) return goNetErrorText(err, this.connInfo(), 'dial');
    return err.message;
  }

  private setResponseTags(res: IncomingMessage | undefined): void {
    const st = this.vu.systemTags;
    if (res) {
      setSystemTag(this.tags, st, 'status', String(res.statusCode));
      const ext = res.headers['sec-websocket-extensions'];
      this.extensions = ext === undefined ? [] : Array.isArray(ext) ? ext : [ext];
      setSystemTag(this.tags, st, 'subproto', this.protocol);
    }
    const name = this.tags['name'];
    if (name !== undefined) {
      setSystemTag(this.tags, st, 'url', name);
    } else {
      setSystemTag(this.tags, st, 'url', this.url);
      setSystemTag(this.tags, st, 'name', this.url);
    }
  }

  private emitConnectionMetrics(): void {
    const dur = performance.now() - this.startedPerf;
    this.vu.metrics.push([
      this.sample(this.m.sessions, this.started, 1),
      this.sample(this.m.connecting, this.started, dur),
    ]);
  }

  private dialFailed(errText: string, res: IncomingMessage | undefined): void {
    if (this.dialDone) return;
    this.dialDone = true;
    this.setResponseTags(res);
    this.emitConnectionMetrics();
    if (this.signal) unwatchAbort(this.signal, this);
    this.unregisterRunEnd?.();
    this.enqueue(() => this.connectionClosedWithError(errText));
    this.releaseSoon();
  }

  private dialSucceeded(res: IncomingMessage | undefined): void {
    if (this.dialDone) return;
    this.dialDone = true;
    const c = this.client!;
    this.protocol = c.protocol;
    const s = this.rawSocket;
    if (s?.remoteAddress) setSystemTag(this.tags, this.vu.systemTags, 'ip', s.remoteAddress);
    this.setResponseTags(res);
    this.emitConnectionMetrics();
    this.opened = true;
    if (this.pendingClose) {
      const { code, reason } = this.pendingClose;
      this.pendingClose = undefined;
      this.sendCloseFrame(code, reason);
    }
    this.enqueue(() => {
      if (this.readyState !== RS.CONNECTING) return;
      this.readyState = RS.OPEN;
      const ev = this.newEvent('open', nowMs());
      try {
        this.callListeners('open', ev);
      } catch (e) {
        this.failFromHandler(e);
      }
    });
  }

  private deliverMessage(buf: Buffer, isBinary: boolean, t: number): void {
    if (this.readyState !== RS.OPEN) return; // k6 drops messages unless OPEN
    this.push(this.m.msgsReceived, t, 1);
    let data: unknown;
    if (isBinary) {
      data = this.binaryType === 'blob' ? new this.Blob([buf]) : this.realm.arrayBuffer(buf);
    } else {
      data = buf.toString('utf8');
    }
    const ev = this.newEvent('message', t, { data, origin: this.url });
    try {
      this.callListeners('message', ev);
    } catch (e) {
      this.failFromHandler(e);
    }
  }

  private trackPong(id: string, t: number, wall: number): void {
    const sent = this.pingTimes.get(id);
    if (sent === undefined) {
      this.vu.warn(`received pong for unknown ping ID ${id}`);
      return;
    }
    this.push(this.m.ping, wall, t - sent);
  }

  /** The `ws` client finished: classify the way gorilla's readPump reports it to k6. */
  private wireClosed(code: number, reason: string): void {
    this.wsCloseSeen = true;
    if (this.abortTimer) clearTimeout(this.abortTimer);
    if (this.signal) unwatchAbort(this.signal, this);
    this.unregisterRunEnd?.();
    if (!this.opened) return; // dial failures are handled by dialFailed
    const frameReceived = code !== 1006; // 1006 is never accepted on the wire by `ws`
    let recvCode = 0;
    let recvReason = '';
    let err: string | undefined;
    if (frameReceived) {
      recvCode = code;
      recvReason = reason;
      if (code !== 1000 && code !== 1001) err = closeErrorText(code, reason);
    } else if (!this.sawProtocolError && !this.sawSocketError && this.sawFin) {
      recvCode = 1006;
      recvReason = 'unexpected EOF';
      err = closeErrorText(1006, 'unexpected EOF');
    }
    // else: reset, protocol error, or our own terminate → no error, previous code kept.
    this.enqueue(() => {
      if (this.readyState !== RS.CLOSED && recvCode !== 0) {
        this.closeCode = recvCode;
        this.closeReason = recvReason;
      }
      this.connectionClosedWithError(err);
    });
    this.releaseSoon();
  }

  /** The socket loop ended (k6 loop() defer): ws_session_duration, once, for opened sockets. */
  private loopEnded(): void {
    if (this.loopClosed) return;
    this.loopClosed = true;
    if (this.opened && !this.sessionDurationEmitted) {
      this.sessionDurationEmitted = true;
      this.push(this.m.sessionDuration, Date.now(), performance.now() - this.startedPerf);
    }
    if (this.opened && !this.wsCloseSeen) this.terminate();
  }

  private releaseSoon(): void {
    if (this.released) return;
    this.released = true;
    this.handle.release();
  }

  private terminate(): void {
    const c = this.client;
    if (c && c.readyState !== WsClient.CLOSED) c.terminate();
  }

  abortedByContext(): void {
    // k6 loop(): on ctx done, queue close(1000); the runtime may not run handlers any more.
    if (!this.dialDone) {
      this.terminate();
      return;
    }
    if (this.readyState === RS.OPEN) {
      this.readyState = RS.CLOSING;
      this.closeCode = 1000;
      this.sendCloseFrame(1000, '');
    }
    this.abortTimer = setTimeout(() => this.terminate(), ABORT_CLOSE_GRACE_MS);
    this.abortTimer.unref();
  }

  private sample(metric: Metric, time: number, value: number): Sample {
    return { metric, time, value, tags: this.tags, metadata: this.metadata };
  }

  private push(metric: Metric, time: number, value: number): void {
    this.vu.metrics.push(this.sample(metric, time, value));
  }
}

// One abort listener per signal (not per socket), so a VU with many sockets stays below
// EventTarget's listener warning.
const watchers = new WeakMap<AbortSignal, Set<Socket>>();
function watchAbort(signal: AbortSignal, s: Socket): void {
  let set = watchers.get(signal);
  if (!set) {
    const fresh = new Set<Socket>();
    watchers.set(signal, fresh);
    signal.addEventListener('abort', () => {
      for (const x of [...fresh]) x.abortedByContext();
      fresh.clear();
    }, { once: true });
    set = fresh;
  }
  set.add(s);
}
function unwatchAbort(signal: AbortSignal, s: Socket): void {
  watchers.get(signal)?.delete(s);
}

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function fmtAddr(a: string): string {
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return v4.includes(':') ? `[${v4}]` : v4;
}

function safeUrl(s: string): URL | undefined {
  try {
    return new URL(s.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:/, (m) => m.toLowerCase()));
  } catch {
    return undefined;
  }
}

/** What k6 passes to error listeners for a JS exception: its string form. */
function errorText(e: unknown): string {
  return String(e);
}

/** The k6/websockets exports for one VU (typed, for the @types/k6 guard in net-k6-types.ts). */
export function websocketsExports(vu: VuRuntime) {
  const realm = scriptRealm(vu);
  const Blob = makeBlobClass(realm);
  const metrics = declareMetrics(vu); // k6's built-in metrics always exist
  function WebSocket(url: unknown, protocols?: unknown, params?: unknown): Record<string, unknown> {
    return realm.call(() => {
      const u = parseUrl(url);
      const p = parseParams(vu, params);
      const protos = parseProtocols(protocols);
      return new Socket(vu, metrics, Blob, realm, u, protos, p).obj;
    });
  }
  return { WebSocket, Blob };
}

export const createWebsocketsModule: ModuleFactory = websocketsExports;
