// Reading and writing a token set folder: jwks.json, signing-key.pem (0600), public-key.pem,
// pool.json, invalid.json. Writes are atomic (temp file + rename); reads check the format
// and report problems as one-line UserErrors that name the file, never its content.
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  INVALID_FORMAT, INVALID_VERSION, POOL_FORMAT, POOL_VERSION,
  type InvalidCatalogueFile, type TokenPoolFile,
} from '../../lib/token-pool-format.ts';
import { UserError } from '../common/cli.ts';
import { writeFileAtomic } from '../common/files.ts';
import type { JsonWebKeySet } from './keys.ts';

export const FILES = {
  jwks: 'jwks.json',
  privateKey: 'signing-key.pem',
  publicKey: 'public-key.pem',
  pool: 'pool.json',
  invalid: 'invalid.json',
} as const;

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? (err instanceof Error ? err.message : String(err));
}

/**
 * Creates `dir` one level at a time (recursive mkdir can spin forever on some special
 * file systems, e.g. under /proc), reporting the first failure as a UserError.
 */
export async function ensureWritableDir(dir: string): Promise<void> {
  const chain: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of chain) {
    try {
      await mkdir(d);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        const st = await stat(d).catch(() => undefined);
        if (st?.isDirectory()) continue;
        throw new UserError(`cannot use ${dir} as the output folder: ${d} is not a folder; choose another --out`);
      }
      if (code === 'EISDIR') continue; // mkdir of "/" on some systems
      throw new UserError(`cannot create the output folder ${dir} (${errCode(err)} at ${d}); choose a writable folder with --out`);
    }
  }
}

export async function writeOne(dir: string, name: string, data: string, mode = 0o644): Promise<void> {
  try {
    await writeFileAtomic(join(dir, name), data, mode);
  } catch (err) {
    throw new UserError(`cannot write ${join(dir, name)} (${errCode(err)}); choose a writable folder with --out`);
  }
}

/** Reads a file, or undefined when it does not exist. Other read errors are UserErrors. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`cannot read ${path} (${errCode(err)}); fix its permissions or delete it`);
  }
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UserError(`${path} is not valid JSON; delete it and mint again (npm run tokens -- --users N --out DIR)`);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseJwks(path: string, text: string): JsonWebKeySet {
  const v = parseJson(path, text);
  if (!isObj(v) || !Array.isArray(v.keys) || v.keys.length === 0 || !v.keys.every((k) => isObj(k) && typeof k.kty === 'string' && typeof k.kid === 'string')) {
    throw new UserError(`${path} is not a JWKS (expected {"keys":[{kty, kid, ...}]}); delete it and mint again`);
  }
  if (v.keys.some((k) => isObj(k) && ('d' in k || 'p' in k || 'k' in k))) {
    throw new UserError(`${path} contains private key material; a JWKS must hold public keys only: delete it and mint again`);
  }
  return v as unknown as JsonWebKeySet;
}

export function parsePool(path: string, text: string): TokenPoolFile {
  const v = parseJson(path, text);
  if (!isObj(v) || v.format !== POOL_FORMAT) throw new UserError(`${path} is not a token pool (format must be "${POOL_FORMAT}"); mint again`);
  if (v.version !== POOL_VERSION) throw new UserError(`${path} has pool version ${String(v.version)}, this toolkit reads version ${POOL_VERSION}; mint again`);
  if (!Array.isArray(v.users) || v.users.length === 0) throw new UserError(`${path} has no users; mint again`);
  v.users.forEach((u, i) => {
    if (!isObj(u) || typeof u.oid !== 'string' || !Array.isArray(u.tokens) || u.tokens.length === 0
      || !u.tokens.every((t) => isObj(t) && typeof t.token === 'string' && typeof t.exp === 'number' && typeof t.nbf === 'number')) {
      throw new UserError(`${path}: user ${i} is malformed (needs oid and tokens[{token, nbf, exp}]); mint again`);
    }
  });
  return v as unknown as TokenPoolFile;
}

export function parseInvalid(path: string, text: string): InvalidCatalogueFile {
  const v = parseJson(path, text);
  if (!isObj(v) || v.format !== INVALID_FORMAT) throw new UserError(`${path} is not an invalid-token catalogue (format must be "${INVALID_FORMAT}"); mint again`);
  if (v.version !== INVALID_VERSION) throw new UserError(`${path} has catalogue version ${String(v.version)}, this toolkit reads version ${INVALID_VERSION}; mint again`);
  if (!Array.isArray(v.cases) || !v.cases.every((c) => isObj(c) && typeof c.variant === 'string' && typeof c.token === 'string' && isObj(c.expected))) {
    throw new UserError(`${path} has malformed cases (needs variant, token, expected); mint again`);
  }
  return v as unknown as InvalidCatalogueFile;
}
