// The token files inside k6: pool.json users and invalid.json cases through SharedArray, so
// a 100k-user pool is parsed once per process and never copied per VU (each element is
// materialised only when an iteration reads it). Init context only.

import { SharedArray } from 'k6/data';
import type { InvalidCatalogueFile, InvalidTokenCase, PoolUser, TokenPoolFile } from './token-pool-format.ts';
import { INVALID_FORMAT, POOL_FORMAT } from './token-pool-format.ts';


function readJson(path: string, what: string, env: string): unknown {
  let text: string;
  try {
    text = open(path);
  } catch (err) {
    throw new Error(`cannot read the ${what} "${path}": ${err instanceof Error ? err.message : String(err)}; create it with npm run tokens or point ${env} at it (an absolute path)`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`the ${what} "${path}" (${env}) is not JSON; regenerate it with npm run tokens`);
  }
}

/** Users of pool.json; element i is user index i (the `u<i>` of session ids). */
export function loadPool(path: string): PoolUser[] {
  return new SharedArray('voice-pool-users', () => {
    const f = readJson(path, 'token pool', 'VOICE_TOKEN_POOL') as Partial<TokenPoolFile>;
    if (f.format !== POOL_FORMAT || !Array.isArray(f.users)) throw new Error(`"${path}" is not a ${POOL_FORMAT} file`);
    if (f.users.length === 0) throw new Error(`the token pool "${path}" has no users`);
    return f.users;
  }) as unknown as PoolUser[];
}

/** Cases of invalid.json, in file order. */
export function loadInvalidCases(path: string): InvalidTokenCase[] {
  return new SharedArray('voice-invalid-cases', () => {
    const f = readJson(path, 'invalid-token catalogue', 'VOICE_INVALID_TOKENS') as Partial<InvalidCatalogueFile>;
    if (f.format !== INVALID_FORMAT || !Array.isArray(f.cases)) throw new Error(`"${path}" is not a ${INVALID_FORMAT} file`);
    return f.cases;
  }) as unknown as InvalidTokenCase[];
}
