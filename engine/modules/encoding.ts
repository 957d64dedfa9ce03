// `k6/encoding`: b64encode/b64decode with std, rawstd, url, rawurl (k6
// internal/js/modules/k6/encoding/encoding.go).
import type { ModuleFactory, VuRuntime } from '../types.ts';
import { engineVu } from './engine-vu.ts';
import type { VU } from '../vu.ts';

function toBytes(vu: VU, input: unknown): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (input instanceof vu.realm.ArrayBuffer || input instanceof ArrayBuffer) return Buffer.from(new Uint8Array(input as ArrayBuffer));
  if (ArrayBuffer.isView(input)) return Buffer.from(new Uint8Array(input.buffer as ArrayBuffer, input.byteOffset, input.byteLength));
  throw new vu.realm.TypeError('invalid type: b64encode expects a string or an ArrayBuffer');
}

export const createEncodingModule = ((rt: VuRuntime) => {
  const vu = engineVu(rt);
  return {
    b64encode(input: unknown, encoding?: unknown): string {
      const b = toBytes(vu, input);
      switch (encoding ?? 'std') {
        case 'rawstd':
          return b.toString('base64').replace(/=+$/, '');
        case 'url':
          return b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
        case 'rawurl':
          return b.toString('base64url');
        default:
          return b.toString('base64');
      }
    },
    b64decode(input: unknown, encoding?: unknown, format?: unknown): unknown {
      const s = String(input);
      const enc = encoding ?? 'std';
      const url = enc === 'url' || enc === 'rawurl';
      const raw = enc === 'rawstd' || enc === 'rawurl';
      const alphabet = url ? /^[A-Za-z0-9_-]*={0,2}$/ : /^[A-Za-z0-9+/]*={0,2}$/;
      const badPad = raw ? s.includes('=') : s.length % 4 !== 0;
      if (!alphabet.test(s) || badPad) throw new vu.realm.Error(`illegal base64 data at input byte ${Math.max(0, s.search(/[^A-Za-z0-9+/_=-]/))}`);
      const b = Buffer.from(s, url ? 'base64url' : 'base64');
      if (format === 's') return b.toString('utf8');
      const ab = new vu.realm.ArrayBuffer(b.length);
      new vu.realm.Uint8Array(ab).set(b);
      return ab;
    },
  };
}) satisfies ModuleFactory;
