// npm run tokens -- --users N [--out DIR] ...   (see usage below and docs/tokens.md)
// Prints counts, paths and public facts only: never a token, a signature or key material.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import { INVALID_FORMAT, INVALID_VERSION, type InvalidCatalogueFile } from '../../lib/token-pool-format.ts';
import { intFlag, parseCliArgs, runMain, UserError } from '../common/cli.ts';
import { buildCatalogue } from './catalogue.ts';
import { ensureWritableDir, FILES, parseJwks, readOptional } from './files.ts';
import { expiryWarning, parseImportText, poolFromImported } from './import.ts';
import { createTokenSet, DEFAULT_LIFETIME_SECONDS, DEFAULT_SEED, loadSigningKey, SIGNING_ALGS, writeTokenSet, type SigningAlg } from './index.ts';
import { signingKeyFromPem } from './keys.ts';

const USAGE = `usage: npm run tokens -- --users N [--out DIR] [options]
       npm run tokens -- --import FILE [--out DIR] [--min-valid 30m]

Mints a signing key (or reuses DIR/signing-key.pem), the public JWKS, a pool of N test users
with Entra External ID v2 access tokens, and the invalid-token catalogue, into DIR.

  --users N          test users to mint (1 or more)
  --out DIR          output folder (default .tokens)
  --seed S           same seed, same users, tenant and audience (default "${DEFAULT_SEED}")
  --alg A            RS256 (default) or ES256
  --issuer URL       iss (default https://voicelivetest.ciamlogin.com/<tenant-id>/v2.0)
  --audience ID      aud, the API's client id (default derived from the seed)
  --tenant-id ID     tid (default derived from the seed)
  --lifetime D       token lifetime, e.g. 75m, 2h, 3600s (default 75m)
  --windows K        tokens per user in consecutive overlapping windows, for soak runs (default 1)
  --key FILE         sign with this PKCS#8 PEM key instead of DIR/signing-key.pem
  --new-key          mint a new key even if DIR/signing-key.pem exists
  --workers N        signing threads (default: all cores for large pools, 0 = main thread)
  --import FILE      build the pool from real tokens (one JWT per line, or JSON)
  --min-valid D      with --import: warn about tokens expiring within D (default 30m)
  -h, --help         this text`;

/** "75m", "2h", "90s", "1d" or plain seconds. */
export function parseDuration(flag: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(raw.trim());
  if (!m) throw new UserError(`--${flag} must be a duration like 75m, 2h or 3600s, got "${raw}"`);
  const n = Number(m[1]) * ({ s: 1, m: 60, h: 3600, d: 86400 } as const)[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  if (n < 1) throw new UserError(`--${flag} must be more than zero, got "${raw}"`);
  return n;
}

function progressReporter(label: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let lastPct = -1;
  return (done, total) => {
    const pct = Math.floor((done * 100) / total);
    if (pct === lastPct) return;
    lastPct = pct;
    process.stderr.write(`\r${label} ${done}/${total} users (${pct}%)${done === total ? '\n' : ''}`);
  };
}

async function readUserFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); check the path`);
  }
}

async function runImport(file: string, out: string, minValid: number, now: number): Promise<number> {
  const text = await readUserFile(file, 'the import file');
  const tokens = parseImportText(text, file);
  const pool = poolFromImported(tokens, now);
  const warning = expiryWarning(tokens, now, minValid);
  // Catalogue variants that need no trusted key, derived from the longest-lived real token.
  const base = tokens.reduce((a, b) => (b.payload.exp! > a.payload.exp! ? b : a));
  const p = decodeJwt(base.token);
  const first = pool.users.find((u) => u.oid === p.oid)!;
  const cases = await buildCatalogue({
    validToken: base.token,
    ctx: { issuer: pool.issuer, audience: pool.audience, tenantId: pool.tenantId, scope: '' },
    victim: { oid: first.oid, sub: first.sub, name: first.name, email: first.email },
    otherOid: pool.users.find((u) => u.oid !== first.oid)?.oid ?? '00000000-0000-4000-8000-000000000000',
    window: { iat: p.iat ?? now, nbf: p.nbf ?? now, exp: p.exp! },
    now,
    seed: DEFAULT_SEED,
  });
  const invalid: InvalidCatalogueFile = {
    format: INVALID_FORMAT, version: INVALID_VERSION, createdAt: pool.createdAt, issuer: pool.issuer, audience: pool.audience, cases,
  };
  await writeTokenSet(out, { jwks: { keys: [] }, privateKeyPem: '', pool, invalid });
  if (warning) process.stderr.write(`tokens: ${warning}\n`);
  process.stdout.write(`tokens: imported ${tokens.length} tokens for ${pool.users.length} users into ${join(out, FILES.pool)}; `
    + `${cases.length} keyless invalid variants in ${join(out, FILES.invalid)}\n`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseCliArgs(argv, {
    users: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    alg: { type: 'string' },
    issuer: { type: 'string' },
    audience: { type: 'string' },
    'tenant-id': { type: 'string' },
    lifetime: { type: 'string' },
    windows: { type: 'string' },
    key: { type: 'string' },
    'new-key': { type: 'boolean' },
    workers: { type: 'string' },
    import: { type: 'string' },
    'min-valid': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const out = resolve(values.out ?? '.tokens');
  const now = Math.floor(Date.now() / 1000);
  if (values.import !== undefined) {
    for (const f of ['users', 'seed', 'alg', 'issuer', 'audience', 'tenant-id', 'lifetime', 'windows', 'key', 'new-key', 'workers'] as const) {
      if (values[f] !== undefined) throw new UserError(`--${f} does not apply with --import (imported tokens keep their own claims)`);
    }
    return runImport(values.import, out, parseDuration('min-valid', values['min-valid'], 30 * 60), now);
  }
  if (values['min-valid'] !== undefined) throw new UserError('--min-valid applies only with --import');
  if (values.users === undefined) throw new UserError('--users N is required (how many test users to mint); see --help');
  const users = intFlag('users', values.users, 1, 1, 10_000_000);
  const windows = intFlag('windows', values.windows, 1, 1, 1000);
  const workers = values.workers === undefined ? undefined : intFlag('workers', values.workers, 0, 0, 64);
  const lifetime = parseDuration('lifetime', values.lifetime, DEFAULT_LIFETIME_SECONDS);
  if (lifetime < 120) throw new UserError(`--lifetime must be at least 2m, got "${values.lifetime}"`);
  let alg: SigningAlg | undefined;
  if (values.alg !== undefined) {
    if (!(SIGNING_ALGS as readonly string[]).includes(values.alg)) throw new UserError(`--alg must be RS256 or ES256, got "${values.alg}"`);
    alg = values.alg as SigningAlg;
  }
  if (values.key !== undefined && values['new-key']) throw new UserError('--key and --new-key exclude each other; pick one');

  await ensureWritableDir(out);
  let key;
  if (values.key !== undefined) {
    key = await signingKeyFromPem(await readUserFile(values.key, 'the key file'), alg, values.key);
  } else if (!values['new-key']) {
    key = await loadSigningKey(out, alg);
    if (key) {
      const jwksPath = join(out, FILES.jwks);
      const jwksText = await readOptional(jwksPath);
      if (jwksText !== undefined) parseJwks(jwksPath, jwksText); // a malformed JWKS is reported, not silently replaced
    }
  }
  const reused = key !== undefined;
  const set = await createTokenSet({
    users, windows, workers, alg, key,
    seed: values.seed,
    issuer: values.issuer,
    audience: values.audience,
    tenantId: values['tenant-id'],
    lifetimeSeconds: lifetime,
    now,
    onProgress: progressReporter('tokens: minting'),
  });
  await writeTokenSet(out, set);
  const jwk = set.jwks.keys[0]!;
  const lastExp = Math.min(...set.pool.users.map((u) => u.tokens[u.tokens.length - 1]!.exp));
  process.stdout.write(`tokens: ${users} users x ${windows} token(s), ${jwk.alg} key ${jwk.kid} (${reused ? 'reused' : 'new'}), `
    + `valid until ${new Date(lastExp * 1000).toISOString()}; ${set.invalid.cases.length} invalid variants; written to ${out}\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runMain('tokens', () => main(process.argv.slice(2)));
}
