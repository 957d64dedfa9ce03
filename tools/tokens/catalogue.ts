// The invalid-token catalogue: one real, jose-built token per variant, each wrong in exactly
// one way, with the rejection a correct server gives. Variant names are the contract's (§2)
// plus a few extras. Deterministic apart from the signatures and the attacker keys.
import { createHash } from 'node:crypto';
import { base64url, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importPKCS8, SignJWT, calculateJwkThumbprint, type CryptoKey, type GenerateKeyPairResult, type JWK, type JWTPayload } from 'jose';
import type { ExpectedRejection, InvalidTokenCase } from '../../lib/token-pool-format.ts';
import { accessTokenClaims, NBF_BACKDATE_SECONDS, type TokenContext, type ValidityWindow } from './claims.ts';
import type { SigningAlg, SigningKey } from './keys.ts';
import { derivedUuid, type TestUser } from './users.ts';

/** The variants contract §2 requires, in its order. */
export const CONTRACT_VARIANTS = [
  'expired', 'not_yet_valid', 'wrong_audience', 'wrong_issuer', 'bad_signature', 'unknown_key', 'alg_none',
  'hs256_key_confusion', 'tampered_claims', 'missing_oid', 'malformed', 'truncated', 'garbage', 'oversized',
] as const;
/** Extra variants this toolkit adds. */
export const EXTRA_VARIANTS = ['id_token_audience', 'jku_header_injection', 'embedded_jwk_header', 'empty_kid', 'alg_none_mixed_case'] as const;

/** Size the oversized token reaches: above the usual 8-16 KiB request-line/header limits. */
export const OVERSIZED_MIN_BYTES = 24 * 1024;

const INVALID: ExpectedRejection = { closeCode: 1008, reason: 'Invalid token', httpStatuses: [401, 403] };
const INVALID_OR_TOO_LARGE: ExpectedRejection = { closeCode: 1008, reason: 'Invalid token', httpStatuses: [401, 403, 414, 431] };

export interface CatalogueInput {
  /** The trusted signing key. Without it (imported real tokens) only the variants that need
   * no trusted key are built, from `validToken`. */
  key?: SigningKey;
  /** A real valid token (used when there is no key). */
  validToken?: string;
  ctx: TokenContext;
  /** The identity the bad tokens claim (a real pool user, so a bypass would look plausible). */
  victim: TestUser;
  /** Another user's oid, for tampered_claims. */
  otherOid: string;
  /** The validity window the otherwise-valid bad tokens carry (the pool's whole span). */
  window: ValidityWindow;
  now: number;
  seed: string;
}

const enc = new TextEncoder();
const b64json = (v: unknown): string => base64url.encode(enc.encode(JSON.stringify(v)));

function unsigned(header: Record<string, unknown>, payload: JWTPayload): string {
  return `${b64json(header)}.${b64json(payload)}.`;
}

/** A key pair no server trusts, like an attacker's: one per algorithm and process. */
const attackerKeys = new Map<SigningAlg, Promise<{ attacker: GenerateKeyPairResult; attackerJwk: JWK; attackerKid: string }>>();
function attackerKey(alg: SigningAlg) {
  let p = attackerKeys.get(alg);
  if (!p) {
    p = (async () => {
      const attacker = await generateKeyPair(alg, { extractable: true });
      const attackerJwk = await exportJWK(attacker.publicKey);
      return { attacker, attackerJwk, attackerKid: await calculateJwkThumbprint(attackerJwk, 'sha256') };
    })();
    attackerKeys.set(alg, p);
  }
  return p;
}

export async function buildCatalogue(input: CatalogueInput): Promise<InvalidTokenCase[]> {
  const { key, ctx, victim, window, now, seed } = input;
  let alg: SigningAlg;
  let kid: string;
  let claims: JWTPayload;
  let valid: string;
  let ourKey: CryptoKey | undefined;
  if (key) {
    alg = key.alg;
    kid = key.kid;
    ourKey = await importPKCS8(key.privateKeyPem, alg);
    claims = accessTokenClaims(victim, ctx, window);
    valid = await new SignJWT(claims).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(ourKey);
  } else {
    if (!input.validToken) throw new Error('buildCatalogue needs a key or a valid token');
    valid = input.validToken;
    const h = decodeProtectedHeader(valid);
    alg = h.alg === 'ES256' ? 'ES256' : 'RS256';
    kid = typeof h.kid === 'string' ? h.kid : '';
    claims = decodeJwt(valid);
  }
  const header = { alg, kid, typ: 'JWT' };
  const sign = (payload: JWTPayload, h: Record<string, unknown> = header, k: CryptoKey | Uint8Array | undefined = ourKey) => {
    if (!k) throw new Error('no key');
    return new SignJWT(payload).setProtectedHeader(h as { alg: string }).sign(k);
  };
  /** Variants that need the trusted key are skipped when there is none. */
  const trusted = ourKey !== undefined;

  const { attacker, attackerJwk, attackerKid } = await attackerKey(alg);

  const [h64, p64, s64] = valid.split('.') as [string, string, string];

  const cases: InvalidTokenCase[] = [];
  const add = (variant: string, token: string, description: string, expected = INVALID) => cases.push({ variant, token, description, expected });

  if (trusted) {
  // expired: exp two hours ago; everything else as issued.
  {
    const iat = now - 2 * 3600 - 75 * 60;
    add('expired', await sign({ ...claims, iat, nbf: iat - NBF_BACKDATE_SECONDS, exp: now - 2 * 3600 }),
      'signed by the trusted key with correct claims, but exp is two hours in the past');
  }
  // not_yet_valid: nbf a year ahead, so a reused catalogue never turns valid.
  {
    const nbf = now + 365 * 86400;
    add('not_yet_valid', await sign({ ...claims, iat: now, nbf, exp: nbf + (window.exp - window.nbf) }),
      'signed by the trusted key with correct claims, but nbf is one year in the future');
  }
  add('wrong_audience', await sign({ ...claims, aud: derivedUuid(seed, 'other-api-audience') }),
    'signed by the trusted key, but aud is another API\'s client id');
  const otherTenant = derivedUuid(seed, 'other-tenant');
  const otherIssuer = ctx.tenantId && ctx.issuer.includes(ctx.tenantId) ? ctx.issuer.split(ctx.tenantId).join(otherTenant) : `${ctx.issuer}-other`;
  add('wrong_issuer', await sign({ ...claims, iss: otherIssuer }),
    'signed by the trusted key, but iss names another tenant');
  }
  {
    // Flip bits in the middle of the signature; same length, still valid base64url.
    const sig = base64url.decode(s64);
    const mid = sig.length >> 1;
    sig[mid] = sig[mid]! ^ 0xff;
    sig[mid + 1] = sig[mid + 1]! ^ 0x55;
    add('bad_signature', `${h64}.${p64}.${base64url.encode(sig)}`,
      'correct header and claims, but bytes of the signature are altered');
  }
  add('unknown_key', await sign(claims, { alg, kid: attackerKid, typ: 'JWT' }, attacker.privateKey),
    'correct claims, signed by a key that is not in the JWKS (its kid is unknown)');
  add('alg_none', unsigned({ alg: 'none', typ: 'JWT' }, claims),
    'correct claims, header alg "none" and an empty signature');
  if (trusted) {
  add('hs256_key_confusion', await sign(claims, { alg: 'HS256', kid, typ: 'JWT' }, enc.encode(key!.publicKeyPem)),
    'correct claims, HS256 with the trusted public key (PEM) used as the HMAC secret');
  }
  add('tampered_claims', `${h64}.${b64json({ ...claims, oid: input.otherOid })}.${s64}`,
    'a validly signed token whose oid was changed to another user after signing');
  if (trusted) {
  {
    const { oid: _oid, ...noOid } = claims;
    add('missing_oid', await sign(noOid), 'signed by the trusted key with correct claims, but without the oid claim');
  }
  }
  add('malformed', `${base64url.encode(enc.encode('{"alg":"' + alg + '","kid":'))}.${p64}.${s64}`,
    'three segments, but the header segment is not valid JSON');
  add('truncated', valid.slice(0, h64.length + 1 + Math.floor(p64.length / 2)),
    'a valid token cut off in the middle of its payload (no signature segment)');
  add('garbage', createHash('sha256').update(`garbage:${seed}`).digest('hex') + createHash('sha256').update(`garbage2:${seed}`).digest('hex'),
    '128 hex characters that are not a JWT at all');
  {
    // Structurally valid, with a large filler claim; signed by an untrusted key so that a
    // server without a size limit must still refuse it.
    const filler = 'x'.repeat(OVERSIZED_MIN_BYTES);
    add('oversized', await sign({ ...claims, filler }, { alg, kid: attackerKid, typ: 'JWT' }, attacker.privateKey),
      `a structurally valid JWT over ${OVERSIZED_MIN_BYTES / 1024} KiB (filler claim), signed by an unknown key: refused for its size or its key`,
      INVALID_OR_TOO_LARGE);
  }
  if (trusted) {
  add('id_token_audience', await sign({ ...claims, aud: derivedUuid(seed, 'spa-client-id') }),
    'signed by the trusted key, but aud is the SPA\'s own client id (an ID token sent instead of an access token)');
  }
  add('jku_header_injection', await sign(claims, { alg, kid: attackerKid, typ: 'JWT', jku: 'http://127.0.0.1:9/.well-known/jwks.json' }, attacker.privateKey),
    'signed by an untrusted key whose JWKS the header points to with jku (loopback discard port); a server must not fetch it');
  add('embedded_jwk_header', await sign(claims, { alg, kid, typ: 'JWT', jwk: attackerJwk }, attacker.privateKey),
    'signed by an untrusted key embedded in the header (jwk) under the trusted kid');
  add('empty_kid', await sign(claims, { alg, kid: '', typ: 'JWT' }, attacker.privateKey),
    'signed by an untrusted key with an empty kid; a server that falls back to "any key" must still refuse it');
  add('alg_none_mixed_case', unsigned({ alg: 'nOnE', typ: 'JWT' }, claims),
    'correct claims, header alg "nOnE" (case trick for "none") and an empty signature');

  // Self-check: every signed case kept the header we meant (guards against jose changes).
  for (const c of cases) {
    if (c.variant === 'embedded_jwk_header' && !decodeProtectedHeader(c.token).jwk) throw new Error('embedded_jwk_header lost its jwk header');
  }
  return cases;
}
