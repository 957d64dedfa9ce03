// `k6/crypto`: hashes, hmac, randomBytes, createHash/createHMAC (k6
// internal/js/modules/k6/crypto/crypto.go). Output encodings: hex, base64, base64url,
// base64rawurl, binary (ArrayBuffer).
import { createHash, createHmac, randomBytes as nodeRandomBytes } from 'node:crypto';
import type { ModuleFactory, VuRuntime } from '../types.ts';
import { engineVu } from './engine-vu.ts';
import type { VU } from '../vu.ts';

const ALGOS: Record<string, string> = {
  md4: 'md4',
  md5: 'md5',
  sha1: 'sha1',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
  sha512_224: 'sha512-224',
  sha512_256: 'sha512-256',
  ripemd160: 'ripemd160',
};

function bytes(vu: VU, input: unknown): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (input instanceof vu.realm.ArrayBuffer || input instanceof ArrayBuffer) return Buffer.from(new Uint8Array(input as ArrayBuffer));
  if (ArrayBuffer.isView(input)) return Buffer.from(new Uint8Array(input.buffer as ArrayBuffer, input.byteOffset, input.byteLength));
  throw new vu.realm.TypeError('invalid type: expected a string or an ArrayBuffer');
}

function encode(vu: VU, digest: Buffer, enc: unknown): unknown {
  switch (enc) {
    case 'hex':
      return digest.toString('hex');
    case 'base64':
      return digest.toString('base64');
    case 'base64url':
      return digest.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    case 'base64rawurl':
      return digest.toString('base64url');
    case 'binary': {
      const ab = new vu.realm.ArrayBuffer(digest.length);
      new vu.realm.Uint8Array(ab).set(digest);
      return ab;
    }
    default:
      throw new vu.realm.Error(`Invalid output encoding: ${String(enc)}`);
  }
}

export const createCryptoModule = ((rt: VuRuntime) => {
  const vu = engineVu(rt);
  const algo = (a: unknown) => {
    const n = ALGOS[String(a)];
    if (!n) throw new vu.realm.Error(`invalid algorithm: ${String(a)}`);
    return n;
  };
  const hasher = (a: unknown, key?: Buffer) => {
    const name = algo(a);
    const h = key ? createHmac(name, key) : createHash(name);
    return {
      update(input: unknown) {
        h.update(bytes(vu, input));
      },
      digest(enc: unknown) {
        return encode(vu, h.digest(), enc);
      },
    };
  };
  const hashFn = (name: string) => (input: unknown, enc: unknown) => encode(vu, createHash(algo(name)).update(bytes(vu, input)).digest(), enc);
  return {
    createHash: (a: unknown) => hasher(a),
    createHMAC: (a: unknown, key: unknown) => hasher(a, bytes(vu, key)),
    hmac: (a: unknown, key: unknown, data: unknown, enc: unknown) =>
      encode(vu, createHmac(algo(a), bytes(vu, key)).update(bytes(vu, data)).digest(), enc),
    md4: hashFn('md4'),
    md5: hashFn('md5'),
    sha1: hashFn('sha1'),
    sha256: hashFn('sha256'),
    sha384: hashFn('sha384'),
    sha512: hashFn('sha512'),
    sha512_224: hashFn('sha512_224'),
    sha512_256: hashFn('sha512_256'),
    ripemd160: hashFn('ripemd160'),
    randomBytes(n: unknown) {
      const count = Number(n);
      if (!Number.isInteger(count) || count < 1) throw new vu.realm.Error('invalid size');
      const b = nodeRandomBytes(count);
      const ab = new vu.realm.ArrayBuffer(count);
      new vu.realm.Uint8Array(ab).set(b);
      return ab;
    },
  };
}) satisfies ModuleFactory;
