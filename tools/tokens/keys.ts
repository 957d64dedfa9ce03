// Signing keys: generate or import a PKCS#8 key, derive its public JWK, kid (RFC 7638
// thumbprint) and JWKS. Errors about the user's key material are UserErrors and never
// quote the key.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { UserError } from '../common/cli.ts';

export type SigningAlg = 'RS256' | 'ES256';
export const SIGNING_ALGS: readonly SigningAlg[] = ['RS256', 'ES256'];

export interface SigningKey {
  alg: SigningAlg;
  kid: string;
  privateKeyPem: string;
  publicKeyPem: string;
  publicJwk: JWK;
}

export interface JsonWebKeySet {
  keys: JWK[];
}

export function generatePrivateKeyPem(alg: SigningAlg): string {
  const pair = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

function algOfKey(key: KeyObject): SigningAlg | undefined {
  if (key.asymmetricKeyType === 'rsa') return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048 ? 'RS256' : undefined;
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  return undefined;
}

/**
 * Loads a PEM private key and checks it suits `alg` (when given; else the alg follows
 * the key type). `what` names the source in errors (a path, never the content).
 */
export async function signingKeyFromPem(pem: string, alg: SigningAlg | undefined, what = 'the signing key'): Promise<SigningKey> {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new UserError(`${what} is not a readable PEM private key; delete it to mint a new key, or pass a PKCS#8 RSA-2048+ or P-256 key`);
  }
  const keyAlg = algOfKey(key);
  if (!keyAlg) throw new UserError(`${what} is neither an RSA (2048 bits or more) nor a P-256 key; use one of those or delete it to mint a new key`);
  if (alg && alg !== keyAlg) throw new UserError(`${what} is a ${keyAlg} key but ${alg} was asked for; pass --alg ${keyAlg} or use another output folder`);
  const pub = createPublicKey(key);
  const jwk = pub.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return {
    alg: keyAlg,
    kid,
    privateKeyPem: key.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: pub.export({ format: 'pem', type: 'spki' }).toString(),
    publicJwk: { ...jwk, kid, alg: keyAlg, use: 'sig' },
  };
}

export async function newSigningKey(alg: SigningAlg): Promise<SigningKey> {
  return signingKeyFromPem(generatePrivateKeyPem(alg), alg);
}

export function jwksOf(key: SigningKey): JsonWebKeySet {
  return { keys: [key.publicJwk] };
}
