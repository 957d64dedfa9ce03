// Entra External ID v2 access-token claims and validity windows. Pure logic, no I/O.
import type { JWTPayload } from 'jose';
import type { TestUser } from './users.ts';

/** nbf is backdated this much before iat, as Entra does, to absorb clock skew. */
export const NBF_BACKDATE_SECONDS = 5 * 60;
/** Default overlap between consecutive validity windows (clamped to half the lifetime). */
export const DEFAULT_WINDOW_OVERLAP_SECONDS = 10 * 60;

export interface TokenContext {
  issuer: string;
  audience: string;
  tenantId: string;
  scope: string;
}

export interface ValidityWindow {
  iat: number;
  nbf: number;
  exp: number;
}

/**
 * Consecutive validity windows starting at `now`: window i is issued at now + i*step,
 * with step = lifetime - overlap, so window i+1 starts (iat) `overlap` seconds before
 * window i expires. nbf = iat - 5 min for every window.
 */
export function validityWindows(now: number, lifetimeSeconds: number, windows: number, overlapSeconds = DEFAULT_WINDOW_OVERLAP_SECONDS): ValidityWindow[] {
  const overlap = Math.min(overlapSeconds, Math.floor(lifetimeSeconds / 2));
  const step = lifetimeSeconds - overlap;
  const out: ValidityWindow[] = [];
  for (let i = 0; i < windows; i++) {
    const iat = now + i * step;
    out.push({ iat, nbf: iat - NBF_BACKDATE_SECONDS, exp: iat + lifetimeSeconds });
  }
  return out;
}

/** The payload of a v2 access token for `user`, as Entra External ID issues it. */
export function accessTokenClaims(user: TestUser, ctx: TokenContext, w: ValidityWindow): JWTPayload {
  return {
    aud: ctx.audience,
    iss: ctx.issuer,
    iat: w.iat,
    nbf: w.nbf,
    exp: w.exp,
    email: user.email,
    name: user.name,
    oid: user.oid,
    preferred_username: user.email,
    scp: ctx.scope,
    sub: user.sub,
    tid: ctx.tenantId,
    ver: '2.0',
  };
}
