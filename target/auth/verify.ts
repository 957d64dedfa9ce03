// Token verification: pinned algorithms, issuer and audience, a small clock tolerance, an
// injectable clock, and the oid requirement. Every call is independent (no queue): the
// upgrade handler awaits its own verification while others run.

import { decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { inspectShape, kindFromJoseError, type FailureKind } from './classify.ts';
import type { VerificationKeys } from './keys.ts';

export interface UserIdentity {
  id: string;
  email: string;
  display_name: string;
}

export type VerifyResult =
  | { ok: true; user: UserIdentity; exp: number | null }
  | { ok: false; kind: FailureKind; /** identity from the unverified payload, for bypass faults only */ unverified: UserIdentity | null; exp: number | null };

export interface VerifierOptions {
  keys: VerificationKeys;
  issuer: string;
  audience: string;
  algorithms: readonly string[];
  /** Seconds of clock skew tolerated on exp/nbf/iat. */
  clockToleranceSec: number;
  /** Tokens longer than this are refused without parsing (variant `oversized`). */
  maxTokenChars: number;
  now: () => number;
}

export function identityFromClaims(c: JWTPayload): UserIdentity | null {
  const oid = c.oid;
  if (typeof oid !== 'string' || oid === '') return null;
  const emails = (c as { emails?: unknown }).emails;
  const email =
    typeof c.email === 'string' ? c.email
    : typeof c.preferred_username === 'string' ? c.preferred_username
    : Array.isArray(emails) && typeof emails[0] === 'string' ? emails[0]
    : '';
  return { id: oid, email, display_name: typeof c.name === 'string' ? c.name : '' };
}

function unverifiedIdentity(token: string): { user: UserIdentity | null; exp: number | null } {
  try {
    const c = decodeJwt(token);
    return { user: identityFromClaims(c), exp: typeof c.exp === 'number' ? c.exp : null };
  } catch {
    return { user: null, exp: null };
  }
}

export type Verifier = (token: string) => Promise<VerifyResult>;

export function createVerifier(o: VerifierOptions): Verifier {
  return async (token) => {
    const shape = inspectShape(token, o.algorithms, o.maxTokenChars);
    if (shape.kind !== null) {
      const u = shape.kind === 'oversized' ? { user: null, exp: null } : unverifiedIdentity(token);
      return { ok: false, kind: shape.kind, unverified: u.user, exp: u.exp };
    }
    try {
      const { payload } = await jwtVerify(token, o.keys.resolve, {
        algorithms: [...o.algorithms],
        issuer: o.issuer,
        audience: o.audience,
        clockTolerance: o.clockToleranceSec,
        currentDate: new Date(o.now()),
        requiredClaims: ['exp'],
      });
      const user = identityFromClaims(payload);
      const exp = typeof payload.exp === 'number' ? payload.exp : null;
      if (!user) return { ok: false, kind: 'missing_oid', unverified: null, exp };
      return { ok: true, user, exp };
    } catch (err) {
      const kid = typeof shape.header?.kid === 'string' ? shape.header.kid : undefined;
      const kind = kindFromJoseError(err, shape, o.keys.signatureBytes(kid));
      const u = unverifiedIdentity(token);
      return { ok: false, kind, unverified: u.user, exp: u.exp };
    }
  };
}
