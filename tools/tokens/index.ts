// The token toolkit's library API (see docs/tokens.md):
//   createTokenSet(opts)      mint users, tokens and the invalid catalogue in memory
//   writeTokenSet(dir, set)   write the folder (atomic writes, private key and pool 0600)
//   loadTokenSet(dir)         read it back (UserError when missing or malformed)
//   ensureTokens(dir, {...})  reuse the folder when still valid long enough, else mint
import { join } from 'node:path';
import {
  INVALID_FORMAT, INVALID_VERSION, POOL_FORMAT, POOL_VERSION,
  type InvalidCatalogueFile, type TokenPoolFile,
} from '../../lib/token-pool-format.ts';
import { UserError } from '../common/cli.ts';
import { buildCatalogue } from './catalogue.ts';
import { DEFAULT_WINDOW_OVERLAP_SECONDS, validityWindows, type TokenContext } from './claims.ts';
import { ensureWritableDir, FILES, parseInvalid, parseJwks, parsePool, readOptional, writeOne } from './files.ts';
import { jwksOf, newSigningKey, signingKeyFromPem, type JsonWebKeySet, type SigningAlg, type SigningKey } from './keys.ts';
import { mintTokens } from './mint.ts';
import { derivedUuid, makeUsers } from './users.ts';

export type { JsonWebKeySet, SigningAlg, SigningKey } from './keys.ts';
export { SIGNING_ALGS } from './keys.ts';
export { CONTRACT_VARIANTS, EXTRA_VARIANTS, OVERSIZED_MIN_BYTES } from './catalogue.ts';
export { NBF_BACKDATE_SECONDS, DEFAULT_WINDOW_OVERLAP_SECONDS } from './claims.ts';
export { FILES } from './files.ts';

export const DEFAULT_SEED = 'voicelive';
export const DEFAULT_LIFETIME_SECONDS = 75 * 60;
export const DEFAULT_SCOPE = 'Voice.Access';
export const DEFAULT_EMAIL_DOMAIN = 'loadtest.example.com';

export interface TokenSet {
  jwks: JsonWebKeySet;
  privateKeyPem: string;
  publicKeyPem?: string;
  pool: TokenPoolFile;
  invalid: InvalidCatalogueFile;
}

export interface CreateTokenSetOptions {
  /** Number of distinct test users (>= 1). */
  users: number;
  /** Same seed, same users (oid, sub, name, email) and default tenant/audience. Default 'voicelive'. */
  seed?: string;
  alg?: SigningAlg;
  /** Default https://voicelivetest.ciamlogin.com/<tenantId>/v2.0 */
  issuer?: string;
  /** API client id (UUID); default derived from the seed. */
  audience?: string;
  /** Default derived from the seed. */
  tenantId?: string;
  /** Token lifetime, default 75 min. */
  lifetimeSeconds?: number;
  /** Tokens per user: consecutive validity windows overlapping by windowOverlapSeconds (default 1). */
  windows?: number;
  /** Overlap of consecutive windows, default 10 min (at most half the lifetime). */
  windowOverlapSeconds?: number;
  /** Clock, epoch seconds (default: now). */
  now?: number;
  /** Signing key to reuse: a PKCS#8 PEM or a loaded SigningKey. Default: a new key. */
  key?: string | SigningKey;
  scope?: string;
  emailDomain?: string;
  /** Worker threads for signing (0 = this thread); default: all cores for large pools. */
  workers?: number;
  onProgress?: (doneUsers: number, totalUsers: number) => void;
}

export function defaultIssuer(tenantId: string): string {
  return `https://voicelivetest.ciamlogin.com/${tenantId}/v2.0`;
}

function checkPositiveInt(name: string, v: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(v) || v < 1 || v > max) throw new UserError(`${name} must be a whole number between 1 and ${max}, got ${v}`);
}

async function resolveKey(key: string | SigningKey | undefined, alg: SigningAlg | undefined): Promise<SigningKey> {
  if (key === undefined) return newSigningKey(alg ?? 'RS256');
  if (typeof key === 'string') return signingKeyFromPem(key, alg);
  if (alg && key.alg !== alg) throw new UserError(`the signing key is ${key.alg} but ${alg} was asked for`);
  return key;
}

export async function createTokenSet(opts: CreateTokenSetOptions): Promise<TokenSet> {
  checkPositiveInt('users', opts.users, 10_000_000);
  const windowsCount = opts.windows ?? 1;
  checkPositiveInt('windows', windowsCount, 1000);
  const lifetime = opts.lifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS;
  checkPositiveInt('lifetime (seconds)', lifetime, 366 * 86400);
  if (lifetime < 120) throw new UserError(`lifetime must be at least 2 minutes, got ${lifetime} s`);
  const seed = opts.seed ?? DEFAULT_SEED;
  const now = Math.floor(opts.now ?? Date.now() / 1000);
  const key = await resolveKey(opts.key, opts.alg);
  const tenantId = opts.tenantId ?? derivedUuid(seed, 'tenant-id');
  const ctx: TokenContext = {
    tenantId,
    issuer: opts.issuer ?? defaultIssuer(tenantId),
    audience: opts.audience ?? derivedUuid(seed, 'api-client-id'),
    scope: opts.scope ?? DEFAULT_SCOPE,
  };
  const windows = validityWindows(now, lifetime, windowsCount, opts.windowOverlapSeconds ?? DEFAULT_WINDOW_OVERLAP_SECONDS);
  const users = makeUsers(seed, opts.users, opts.emailDomain ?? DEFAULT_EMAIL_DOMAIN);
  const tokens = await mintTokens({ privateKeyPem: key.privateKeyPem, alg: key.alg, kid: key.kid, ctx, windows }, users, {
    workers: opts.workers,
    onProgress: opts.onProgress,
  });
  const createdAt = new Date(now * 1000).toISOString();
  const pool: TokenPoolFile = {
    format: POOL_FORMAT,
    version: POOL_VERSION,
    createdAt,
    source: 'minted',
    issuer: ctx.issuer,
    audience: ctx.audience,
    tenantId,
    users: users.map((u, i) => ({ oid: u.oid, sub: u.sub, name: u.name, email: u.email, tokens: tokens[i]! })),
  };
  const span = { iat: windows[0]!.iat, nbf: windows[0]!.nbf, exp: windows[windows.length - 1]!.exp };
  const cases = await buildCatalogue({
    key, ctx, seed, now,
    victim: users[0]!,
    otherOid: users[1]?.oid ?? derivedUuid(seed, 'tampered-oid'),
    window: span,
  });
  const invalid: InvalidCatalogueFile = {
    format: INVALID_FORMAT,
    version: INVALID_VERSION,
    createdAt,
    issuer: ctx.issuer,
    audience: ctx.audience,
    cases,
  };
  return { jwks: jwksOf(key), privateKeyPem: key.privateKeyPem, publicKeyPem: key.publicKeyPem, pool, invalid };
}

/**
 * Writes the set into `dir` (created if needed). Every file is written atomically; the
 * private key and the pool (working tokens) get mode 0600; pool.json is written last, so a folder with a pool always
 * has the key and JWKS that signed it.
 */
export async function writeTokenSet(dir: string, set: TokenSet): Promise<void> {
  await ensureWritableDir(dir);
  if (set.privateKeyPem) await writeOne(dir, FILES.privateKey, set.privateKeyPem, 0o600);
  if (set.publicKeyPem) await writeOne(dir, FILES.publicKey, set.publicKeyPem);
  if (set.jwks.keys.length > 0) await writeOne(dir, FILES.jwks, `${JSON.stringify(set.jwks, null, 2)}\n`);
  await writeOne(dir, FILES.invalid, `${JSON.stringify(set.invalid, null, 2)}\n`);
  // One line per user keeps the file diffable and loads as one JSON.parse.
  const { users, ...head } = set.pool;
  const body = users.map((u) => JSON.stringify(u)).join(',\n');
  const headJson = JSON.stringify(head);
  // The pool holds working bearer tokens (real ones when imported): owner-only, like the key.
  await writeOne(dir, FILES.pool, `${headJson.slice(0, -1)},"users":[\n${body}\n]}\n`, 0o600);
}

const MISSING_HINT = (dir: string) => `run: npm run tokens -- --users N --out ${dir}`;

/**
 * Loads a token set. Minted pools need jwks.json and signing-key.pem beside them (checked
 * to match); imported pools have neither (jwks {keys: []}, privateKeyPem '').
 */
export async function loadTokenSet(dir: string): Promise<TokenSet> {
  const poolPath = join(dir, FILES.pool);
  const poolText = await readOptional(poolPath);
  if (poolText === undefined) throw new UserError(`no token pool at ${poolPath}; ${MISSING_HINT(dir)}`);
  const pool = parsePool(poolPath, poolText);
  const invalidPath = join(dir, FILES.invalid);
  const invalidText = await readOptional(invalidPath);
  if (invalidText === undefined) throw new UserError(`no invalid-token catalogue at ${invalidPath}; ${MISSING_HINT(dir)}`);
  const invalid = parseInvalid(invalidPath, invalidText);
  if (pool.source === 'imported') {
    return { jwks: { keys: [] }, privateKeyPem: '', pool, invalid };
  }
  const key = await loadSigningKey(dir);
  if (!key) throw new UserError(`no signing key at ${join(dir, FILES.privateKey)} for the pool beside it; ${MISSING_HINT(dir)}`);
  const jwksPath = join(dir, FILES.jwks);
  const jwksText = await readOptional(jwksPath);
  if (jwksText === undefined) throw new UserError(`no JWKS at ${jwksPath}; ${MISSING_HINT(dir)}`);
  const jwks = parseJwks(jwksPath, jwksText);
  if (!jwks.keys.some((k) => k.kid === key.kid)) {
    throw new UserError(`${jwksPath} does not hold the public key of ${join(dir, FILES.privateKey)} (kid ${key.kid}); delete the folder and mint again`);
  }
  return { jwks, privateKeyPem: key.privateKeyPem, publicKeyPem: key.publicKeyPem, pool, invalid };
}

/** The signing key stored in `dir`, or undefined when there is none. Malformed → UserError. */
export async function loadSigningKey(dir: string, alg?: SigningAlg): Promise<SigningKey | undefined> {
  const path = join(dir, FILES.privateKey);
  const pem = await readOptional(path);
  if (pem === undefined) return undefined;
  return signingKeyFromPem(pem, alg, path);
}

export interface EnsureTokensOptions extends Partial<Omit<CreateTokenSetOptions, 'users' | 'key'>> {
  users: number;
  /** Every user's last token must stay valid at least this long from now. */
  minValidSeconds: number;
}

/** Why an existing set cannot be reused, or undefined when it can. */
export function reuseProblem(set: TokenSet, opts: EnsureTokensOptions, now: number): string | undefined {
  const { pool } = set;
  if (pool.users.length < opts.users) return `the pool has ${pool.users.length} users, ${opts.users} needed`;
  if (opts.issuer !== undefined && opts.issuer !== pool.issuer) return 'the issuer differs';
  if (opts.audience !== undefined && opts.audience !== pool.audience) return 'the audience differs';
  if (opts.tenantId !== undefined && opts.tenantId !== pool.tenantId) return 'the tenant id differs';
  if (pool.source === 'minted' && opts.alg !== undefined && set.jwks.keys[0]?.alg !== opts.alg) return 'the algorithm differs';
  for (const u of pool.users.slice(0, opts.users)) {
    const first = u.tokens[0]!;
    const last = u.tokens[u.tokens.length - 1]!;
    if (first.nbf > now) return 'tokens are not valid yet';
    if (last.exp - now < opts.minValidSeconds) return `tokens expire within ${opts.minValidSeconds} s`;
  }
  return undefined;
}

/**
 * Reuses the set in `dir` when it exists (minted or imported), has enough users and every user's last token
 * stays valid for minValidSeconds; otherwise mints a new set with the existing key (or a
 * new one when there is none or the algorithm changes), keeping the existing issuer,
 * audience and tenant unless given, and writes it.
 */
export async function ensureTokens(dir: string, opts: EnsureTokensOptions): Promise<TokenSet & { reused: boolean }> {
  checkPositiveInt('users', opts.users, 10_000_000);
  if (!(opts.minValidSeconds >= 0)) throw new UserError(`minValidSeconds must be 0 or more, got ${opts.minValidSeconds}`);
  const now = Math.floor(opts.now ?? Date.now() / 1000);
  let existing: TokenSet | undefined;
  try {
    existing = await loadTokenSet(dir);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    existing = undefined; // missing or unusable pool: mint below (a malformed key still fails there)
  }
  const problem = existing && reuseProblem(existing, opts, now);
  if (existing && problem === undefined) return { ...existing, reused: true };
  if (existing?.pool.source === 'imported') {
    // Real tokens cannot be re-minted, and are never overwritten by minted ones.
    throw new UserError(`the imported pool in ${dir} cannot be used: ${problem}; import fresh tokens (npm run tokens -- --import FILE --out ${dir}) or use another folder`);
  }

  let key = await loadSigningKey(dir).catch((err: unknown) => {
    throw err instanceof UserError ? new UserError(`${err.message} (ensureTokens will not overwrite a key it cannot read)`) : err;
  });
  if (key && opts.alg && key.alg !== opts.alg) key = undefined;
  const lifetime = opts.lifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS;
  const { minValidSeconds, users, ...rest } = opts;
  // Enough windows that the last one lasts minValidSeconds past now.
  const overlap = Math.min(opts.windowOverlapSeconds ?? DEFAULT_WINDOW_OVERLAP_SECONDS, Math.floor(lifetime / 2));
  const step = lifetime - overlap;
  const needed = minValidSeconds <= lifetime ? 1 : 1 + Math.ceil((minValidSeconds - lifetime) / step);
  const prior = existing?.pool;
  const set = await createTokenSet({
    ...rest,
    users: Math.max(users, 1),
    now,
    key,
    windows: Math.max(opts.windows ?? 1, needed),
    issuer: opts.issuer ?? prior?.issuer,
    audience: opts.audience ?? prior?.audience,
    tenantId: opts.tenantId ?? prior?.tenantId,
  });
  await writeTokenSet(dir, set);
  return { ...set, reused: false };
}
