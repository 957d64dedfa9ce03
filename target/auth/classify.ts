// Why a token failed, in the catalogue's words (contract §2 variants). A server cannot tell
// every variant apart (a tampered payload and a forged signature both fail the signature
// check), so each failure KIND maps to the set of variant names it covers. Pure: no I/O.

import { errors } from 'jose';

/** What the target reports (log field, /stats, accept-invalid matching). */
export type FailureKind =
  | 'oversized'
  | 'garbage'
  | 'malformed'
  | 'truncated'
  | 'alg_none'
  | 'hs256_key_confusion'
  | 'alg_not_allowed'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_audience'
  | 'wrong_issuer'
  | 'claim_invalid'
  | 'missing_oid'
  /** More than one `token` query parameter (decided before any verification). */
  | 'repeated_token';

/**
 * The catalogue variants each failure kind covers. `accept-invalid=V` accepts a token when V
 * is in the set of its kind: e.g. accept-invalid=tampered_claims accepts every token whose
 * signature does not verify, because that is all a server can see.
 */
export const KIND_VARIANTS: Readonly<Record<FailureKind, readonly string[]>> = {
  oversized: ['oversized'],
  garbage: ['garbage'],
  malformed: ['malformed'],
  truncated: ['truncated'],
  alg_none: ['alg_none', 'alg_none_mixed_case'],
  hs256_key_confusion: ['hs256_key_confusion'],
  alg_not_allowed: ['alg_not_allowed'],
  unknown_key: ['unknown_key', 'jku_header_injection', 'empty_kid'],
  bad_signature: ['bad_signature', 'tampered_claims', 'embedded_jwk_header'],
  expired: ['expired'],
  not_yet_valid: ['not_yet_valid'],
  wrong_audience: ['wrong_audience', 'id_token_audience'],
  wrong_issuer: ['wrong_issuer'],
  claim_invalid: ['claim_invalid'],
  missing_oid: ['missing_oid'],
  repeated_token: ['repeated_token'],
};

export function kindMatches(kind: FailureKind, accepted: ReadonlySet<string> | 'all' | null): boolean {
  if (accepted === null) return false;
  if (accepted === 'all') return true;
  return KIND_VARIANTS[kind].some((v) => accepted.has(v));
}

const B64URL = /^[A-Za-z0-9_-]*$/;

function decodeJsonSegment(seg: string): Record<string, unknown> | null {
  if (seg === '' || !B64URL.test(seg)) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export interface TokenShape {
  /** A failure known from the shape alone (no crypto needed), or null when it looks like a JWS. */
  kind: FailureKind | null;
  header: Record<string, unknown> | null;
  /** Decoded bytes of the signature segment (for the truncation check). */
  signatureBytes: number;
}

/**
 * Looks at the token's structure before any cryptography: cheap, and tells garbage,
 * malformed, truncated and the forbidden algorithms apart.
 */
export function inspectShape(token: string, allowedAlgs: readonly string[], maxChars: number): TokenShape {
  if (token.length > maxChars) return { kind: 'oversized', header: null, signatureBytes: 0 };
  const parts = token.split('.');
  const header = decodeJsonSegment(parts[0] ?? '');
  if (parts.length === 1) return { kind: header ? 'truncated' : 'garbage', header, signatureBytes: 0 };
  if (!header) return { kind: parts.length === 3 ? 'malformed' : 'garbage', header: null, signatureBytes: 0 };
  const alg = header.alg;
  if (typeof alg === 'string' && alg.toLowerCase() === 'none') return { kind: 'alg_none', header, signatureBytes: 0 };
  if (typeof alg === 'string' && /^HS\d+$/.test(alg)) return { kind: 'hs256_key_confusion', header, signatureBytes: 0 };
  if (typeof alg !== 'string' || !allowedAlgs.includes(alg)) return { kind: 'alg_not_allowed', header, signatureBytes: 0 };
  if (parts.length === 2) return { kind: 'truncated', header, signatureBytes: 0 };
  if (parts.length > 3) return { kind: 'malformed', header, signatureBytes: 0 };
  const payload = decodeJsonSegment(parts[1] ?? '');
  if (!payload) {
    // Header fine but payload not JSON: cut short inside the payload, or simply malformed.
    return { kind: parts[2] === '' ? 'truncated' : 'malformed', header, signatureBytes: 0 };
  }
  const sig = parts[2] ?? '';
  if (!B64URL.test(sig)) return { kind: 'malformed', header, signatureBytes: 0 };
  return { kind: null, header, signatureBytes: Math.floor((sig.length * 3) / 4) };
}

/** Maps a jose verification error to a failure kind. */
export function kindFromJoseError(err: unknown, shape: TokenShape, expectedSigBytes: number | null): FailureKind {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'not_yet_valid';
    if (err.claim === 'aud') return 'wrong_audience';
    if (err.claim === 'iss') return 'wrong_issuer';
    return 'claim_invalid';
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return 'unknown_key';
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    if (expectedSigBytes !== null && shape.signatureBytes < expectedSigBytes) return 'truncated';
    return 'bad_signature';
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  return 'malformed';
}
