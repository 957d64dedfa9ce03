// The token files written by the token toolkit (tools/tokens) and read by the scenarios
// (through SharedArray) and the reference target. Pure types: no k6 module, no Node module,
// so both worlds import this file. Documented in docs/tokens.md; bump the version on any
// incompatible change.

export const POOL_FORMAT = 'voicelive-token-pool' as const;
export const POOL_VERSION = 1 as const;
export const INVALID_FORMAT = 'voicelive-invalid-tokens' as const;
export const INVALID_VERSION = 1 as const;

/** One token of a user: valid from nbf to exp (epoch seconds). */
export interface PoolToken {
  token: string;
  nbf: number;
  exp: number;
  /**
   * Issued-at (epoch seconds), when known. Some servers (PyJWT, for one) refuse a token whose
   * iat lies in the future even though its nbf has passed, so clients use a token only once
   * both nbf and iat are behind them. Optional: version-1 pools written before it lack it.
   */
  iat?: number;
}

/** A test user. Its position in `users` is its index (used in session ids). */
export interface PoolUser {
  oid: string;
  sub: string;
  name: string;
  email: string;
  /** Sorted by nbf. One entry by default; more when minted with several validity windows (soak). */
  tokens: PoolToken[];
}

/** pool.json */
export interface TokenPoolFile {
  format: typeof POOL_FORMAT;
  version: typeof POOL_VERSION;
  /** ISO 8601 time of writing. */
  createdAt: string;
  /** minted: by the toolkit with its own key; imported: from real tokens (--import). */
  source: 'minted' | 'imported';
  /** Expected `iss` and `aud`; empty string when imported tokens disagree among themselves. */
  issuer: string;
  audience: string;
  tenantId: string;
  users: PoolUser[];
}

/** How a correct server refuses a token. */
export interface ExpectedRejection {
  /** Close code when the server accepts and then closes (always 1008 here). */
  closeCode: number;
  /** Exact close reason: 'Invalid token' or 'Authentication required'. */
  reason: string;
  /** HTTP statuses that count as a correct refusal of the upgrade itself. */
  httpStatuses: number[];
}

export interface InvalidTokenCase {
  /** Contract §2 variant name, e.g. 'expired', 'alg_none'. */
  variant: string;
  /** The bad token exactly as it goes into `?token=` (before URL-encoding). */
  token: string;
  /** One line: how the token is wrong. */
  description: string;
  expected: ExpectedRejection;
}

/** invalid.json */
export interface InvalidCatalogueFile {
  format: typeof INVALID_FORMAT;
  version: typeof INVALID_VERSION;
  createdAt: string;
  issuer: string;
  audience: string;
  cases: InvalidTokenCase[];
}
