// Tokens for the target's tests: the real token toolkit's set (users, JWKS, invalid
// catalogue), minted once per test process, plus a `mint` for custom claims (short-lived
// tokens, other clocks). Files go under the git-ignored tmp/ folder and are removed by cleanup().
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT, importPKCS8, type JWTPayload } from 'jose';
import { createTokenSet, writeTokenSet, type TokenSet } from '../../tools/tokens/index.ts';

export interface TestTokens {
  set: TokenSet;
  /** Folder with pool.json, jwks.json, invalid.json (for the CLI). */
  dir: string;
  /** The first valid token of user i. */
  valid(i: number): string;
  /** Signs `claims` (merged over user i's usual claims) with the trusted key. */
  mint(i: number, claims?: JWTPayload & { oid?: string | undefined }): Promise<string>;
  cleanup(): Promise<void>;
}

let shared: Promise<TestTokens> | null = null;

export function testTokens(): Promise<TestTokens> {
  shared ??= build();
  return shared;
}

async function build(): Promise<TestTokens> {
  const set = await createTokenSet({ users: 4, workers: 0 });
  await mkdir('tmp', { recursive: true });
  const dir = await mkdtemp(join('tmp', 'target-test-'));
  await writeTokenSet(dir, set);
  const key = await importPKCS8(set.privateKeyPem, 'RS256');
  const kid = set.jwks.keys[0]!.kid as string;
  return {
    set,
    dir,
    valid: (i) => set.pool.users[i]!.tokens[0]!.token,
    async mint(i, claims = {}) {
      const u = set.pool.users[i]!;
      const now = Math.floor(Date.now() / 1000);
      const base: JWTPayload = { iss: set.pool.issuer, aud: set.pool.audience, oid: u.oid, sub: u.sub, name: u.name, email: u.email, iat: now, nbf: now - 300, exp: now + 3600 };
      const payload = { ...base, ...claims } as Record<string, unknown>;
      for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
      return new SignJWT(payload as JWTPayload).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(key);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
