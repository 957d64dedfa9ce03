// Helpers shared by the network modules: Go's header canonicalisation, tag options as k6
// parses them (js/common/tags.go ApplyCustomUserTags), and Go-like URL checks.
import net from 'node:net';
import tls from 'node:tls';
import { types as utilTypes } from 'node:util';
import type { ScriptRealm, Tags, VuRuntime } from '../types.ts';
import { goError } from './net-errors.ts';

/** Go's textproto.CanonicalMIMEHeaderKey ("sec-websocket-key" → "Sec-Websocket-Key"). */
export function canonicalHeaderKey(k: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(k)) return k;
  return k
    .split('-')
    .map((p) => (p ? p[0]!.toUpperCase() + p.slice(1).toLowerCase() : p))
    .join('-');
}

/**
 * Applies a `tags` param the way k6 does: string, number and boolean values only; anything
 * else throws `<prefix>: invalid value for metric tag '<k>': ...`.
 */
export function applyUserTags(target: Tags, raw: unknown, prefix: string): void {
  if (raw === null || raw === undefined) return;
  const obj = Object(raw) as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') {
      target[k] = String(v);
    } else {
      throw goError(
        `${prefix}: invalid value for metric tag '${k}': only String, Boolean and Number types are accepted as a metric tag values`,
      );
    }
  }
}

/** Sets a system tag only when it is enabled (k6 TagsAndMeta.SetSystemTagOrMetaIfEnabled). */
export function setSystemTag(tags: Tags, enabled: ReadonlySet<string>, name: string, value: string): void {
  if (enabled.has(name)) tags[name] = value;
}

/** Splits a URL string roughly as Go's url.Parse does (scheme lower-cased; fragment after '#'). */
export function goUrlParts(s: string): { scheme: string; fragment: string } {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(s);
  const hash = s.indexOf('#');
  return { scheme: m ? m[1]!.toLowerCase() : '', fragment: hash >= 0 ? s.slice(hash + 1) : '' };
}

/** Socket factories for `ws`/`http` that let the caller watch the raw socket. */
export function trackedConnect(secure: boolean, onSocket: (s: net.Socket) => void) {
  return (options: Record<string, unknown>): net.Socket => {
    let s: net.Socket;
    if (secure) {
      const o = { ...options, path: undefined } as tls.ConnectionOptions & { host?: string };
      if (!o.servername && o.servername !== '') o.servername = net.isIP(String(o.host ?? '')) ? '' : String(o.host ?? '');
      s = tls.connect(o);
    } else {
      s = net.connect({ ...options, path: options['socketPath'] } as net.NetConnectOpts);
    }
    onSocket(s);
    return s;
  };
}

/**
 * Reports bytes to the engine's data_sent/data_received counters when the VuRuntime offers
 * it (engine/vu.ts countData; not part of engine/types.ts yet).
 */
export function countData(vu: unknown, sent: number, received: number): void {
  const f = (vu as { countData?: (s: number, r: number) => void }).countData;
  if (typeof f === 'function' && (sent > 0 || received > 0)) f.call(vu, sent, received);
}

/**
 * A URL for an error message with its query string elided: k6 quotes the whole URL, but
 * here the query carries the token and thrown errors are logged (docs/engine-network.md).
 */
export function urlForMessage(s: string): string {
  const q = s.indexOf('?');
  return q < 0 ? s : `${s.slice(0, q)}?…`;
}

// ---- the script realm ----------------------------------------------------------------
// Scripts run in another vm context: values handed to them come from their realm so that
// `instanceof ArrayBuffer`/`Error` hold there, and checks on values coming from them must
// not use this realm's constructors.

export const isArrayBuffer = (v: unknown): v is ArrayBuffer => utilTypes.isArrayBuffer(v);
export const isDataView = (v: unknown): v is DataView => utilTypes.isDataView(v);
export const isStringObject = (v: unknown): boolean => typeof v === 'string' || utilTypes.isStringObject(v);

export interface Realm {
  arrayBuffer(bytes: Uint8Array): ArrayBuffer;
  uint8(bytes: Uint8Array): Uint8Array;
  object(): Record<string, unknown>;
  array<T>(xs: readonly T[]): T[];
  jsonParse(text: string): unknown;
  promise<T>(executor: (resolve: (v: T) => void, reject: (e: unknown) => void) => void): Promise<T>;
  /** A main-realm GoError (from goError) as an error of the script realm; other values unchanged. */
  error(e: unknown): unknown;
  /** Runs fn and rethrows its GoErrors in the script realm. */
  call<T>(fn: () => T): T;
}

export function scriptRealm(vu: VuRuntime): Realm {
  const r: ScriptRealm | undefined = vu.realm;
  const realm: Realm = {
    arrayBuffer(bytes) {
      const AB = r?.ArrayBuffer ?? ArrayBuffer;
      const U8 = r?.Uint8Array ?? Uint8Array;
      const ab = new AB(bytes.byteLength);
      new U8(ab).set(bytes);
      return ab;
    },
    uint8(bytes) {
      const U8 = r?.Uint8Array ?? Uint8Array;
      const u = new U8(bytes.byteLength);
      u.set(bytes);
      return u;
    },
    object: () => (r ? new r.Object() : {}) as Record<string, unknown>,
    array: <T,>(xs: readonly T[]) => (r ? r.Array.from(xs) : [...xs]) as T[],
    jsonParse: (text) => (r?.JSON ?? JSON).parse(text),
    promise: <T,>(ex: (res: (v: T) => void, rej: (e: unknown) => void) => void) => new (r?.Promise ?? Promise)<T>(ex),
    error(e) {
      if (!r || !(e instanceof Error) || e.name !== 'GoError') return e;
      const out = new r.Error(e.message);
      out.name = 'GoError';
      return out;
    },
    call<T>(fn: () => T): T {
      try {
        return fn();
      } catch (e) {
        throw realm.error(e);
      }
    },
  };
  return realm;
}
