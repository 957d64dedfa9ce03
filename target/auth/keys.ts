// Verification keys, imported ONCE at start: a JWKS file (what `npm run tokens` wrote) or a
// JWKS URL (jose's remote set, fetched and cached by jose).

import { readFile } from 'node:fs/promises';
import { createRemoteJWKSet, errors, importJWK, type JWK, type JWTHeaderParameters } from 'jose';
import { UserError } from '../../tools/common/cli.ts';

type ImportedKey = Awaited<ReturnType<typeof importJWK>>;
export type KeyResolver = (header: JWTHeaderParameters) => Promise<ImportedKey> | ImportedKey;

export interface VerificationKeys {
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

export async function keysFromJwks(jwks: { keys?: unknown }, algorithms: readonly string[], source: string): Promise<VerificationKeys> {
  if (!jwks || !Array.isArray(jwks.keys)) throw new UserError(`${source} is not a JWKS (no "keys" array); run "npm run tokens" or pass --jwks`);
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

export function keysFromUrl(url: string): VerificationKeys {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`--jwks ${url} is neither a readable file nor a URL`);
  }
  const set = createRemoteJWKSet(u, { timeoutDuration: 5000, cooldownDuration: 30_000 });
  return {
    resolve: (header) => set(header),
    signatureBytes: () => null,
    describe: `${u.origin}${u.pathname}`,
  };
}
