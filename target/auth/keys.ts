// Verification keys, imported ONCE at start: a JWKS file (what `npm run tokens` wrote) or a
// JWKS URL (jose's remote set, fetched and cached by jose).

import { readFile } from 'node:fs/promises';
import { createRemoteJWKSet, errors, importJWK, type JWK, type JWTHeaderParameters } from 'jose';
import { UserError } from '../../tools/common/cli.ts';

type ImportedKey = Awaited<ReturnType<typeof importJWK>>;
export type KeyResolver = (header: JWTHeaderParameters) => Promise<ImportedKey> | ImportedKey;

/** Signature algorithms a JWKS key may pin; symmetric (HS*) and 'none' never. */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** When neither the caller nor the keys name an algorithm (Entra's keys: RS256). */
export const FALLBACK_ALGORITHM = 'RS256';

export interface VerificationKeys {
  /** The algorithms tokens are verified with: the caller's, else those the JWKS keys declare. */
  algorithms: readonly string[];
  resolve: KeyResolver;
  /** Expected signature length in bytes for a kid (RSA modulus size), when known. */
  signatureBytes(kid: string | undefined): number | null;
  describe: string;
}

interface LoadedKey {
  kid: string | undefined;
  key: ImportedKey;
  modulusBytes: number | null;
}

/**
 * Imports the signing keys of a JWKS. `algorithms` empty = pin to the asymmetric algorithms
 * the keys themselves declare (`alg`), RS256 when none does.
 */
export async function keysFromJwks(jwks: { keys?: unknown }, pinned: readonly string[], source: string): Promise<VerificationKeys> {
  if (!jwks || !Array.isArray(jwks.keys)) throw new UserError(`${source} is not a JWKS (no "keys" array); run "npm run tokens" or pass --jwks`);
  const declared = [...new Set((jwks.keys as JWK[]).filter((k) => k && k.use !== 'enc' && typeof k.alg === 'string' && ASYMMETRIC_ALGORITHMS.includes(k.alg)).map((k) => k.alg as string))];
  const algorithms = pinned.length > 0 ? pinned : declared.length > 0 ? declared : [FALLBACK_ALGORITHM];
  const loaded: LoadedKey[] = [];
  for (const raw of jwks.keys as JWK[]) {
    if (raw.use === 'enc') continue;
    const alg = raw.alg ?? algorithms[0];
    if (!alg || !algorithms.includes(alg)) continue;
    try {
      const key = await importJWK(raw, alg);
      const modulusBytes = typeof raw.n === 'string' ? Buffer.from(raw.n, 'base64url').length : null;
      loaded.push({ kid: raw.kid, key, modulusBytes });
    } catch (err) {
      throw new UserError(`${source}: key ${raw.kid ?? '(no kid)'} cannot be imported: ${(err as Error).message}`);
    }
  }
  if (loaded.length === 0) throw new UserError(`${source} has no signing key for ${algorithms.join(',')}`);
  const byKid = new Map(loaded.filter((k) => k.kid !== undefined).map((k) => [k.kid as string, k]));
  const pick = (kid: string | undefined): LoadedKey | undefined => (kid !== undefined ? byKid.get(kid) : loaded.length === 1 ? loaded[0] : undefined);
  return {
    algorithms,
    resolve(header) {
      const k = pick(header.kid);
      if (!k) throw new errors.JWKSNoMatchingKey();
      return k.key;
    },
    signatureBytes: (kid) => pick(kid)?.modulusBytes ?? null,
    describe: `${source} (${loaded.length} key${loaded.length === 1 ? '' : 's'})`,
  };
}

export async function keysFromFile(path: string, algorithms: readonly string[]): Promise<VerificationKeys> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UserError(`cannot read JWKS file ${path}; run "npm run tokens" first or pass --jwks FILE|URL`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UserError(`${path} is not valid JSON`);
  }
  return keysFromJwks(json as { keys?: unknown }, algorithms, path);
}

export function keysFromUrl(url: string, pinned: readonly string[]): VerificationKeys {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`--jwks ${url} is neither a readable file nor a URL`);
  }
  const set = createRemoteJWKSet(u, { timeoutDuration: 5000, cooldownDuration: 30_000 });
  return {
    algorithms: pinned.length > 0 ? pinned : [FALLBACK_ALGORITHM],
    resolve: (header) => set(header),
    signatureBytes: () => null,
    describe: `${u.origin}${u.pathname}`,
  };
}
