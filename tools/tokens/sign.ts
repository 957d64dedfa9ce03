// Signs access tokens for a range of users with jose. Used in-process and inside the
// mint workers (mint-worker.ts); pure apart from the signing itself.
import { importPKCS8, SignJWT } from 'jose';
import type { PoolToken } from '../../lib/token-pool-format.ts';
import { accessTokenClaims, type TokenContext, type ValidityWindow } from './claims.ts';
import type { SigningAlg } from './keys.ts';
import type { TestUser } from './users.ts';

export interface SignJob {
  privateKeyPem: string;
  alg: SigningAlg;
  kid: string;
  ctx: TokenContext;
  windows: ValidityWindow[];
}

/** Signs in batches of this many concurrent promises (WebCrypto signs off the JS thread). */
const BATCH = 64;

export async function signUsers(
  job: SignJob,
  users: TestUser[],
  onProgress?: (doneUsers: number) => void,
): Promise<PoolToken[][]> {
  const key = await importPKCS8(job.privateKeyPem, job.alg);
  const header = { alg: job.alg, kid: job.kid, typ: 'JWT' };
  const out: PoolToken[][] = new Array(users.length);
  for (let start = 0; start < users.length; start += BATCH) {
    const end = Math.min(users.length, start + BATCH);
    const batch: Promise<void>[] = [];
    for (let i = start; i < end; i++) {
      const user = users[i]!;
      batch.push(
        Promise.all(
          job.windows.map(async (w) => ({
            token: await new SignJWT(accessTokenClaims(user, job.ctx, w)).setProtectedHeader(header).sign(key),
            nbf: w.nbf,
            exp: w.exp,
            iat: w.iat,
          })),
        ).then((tokens) => {
          out[i] = tokens;
        }),
      );
    }
    await Promise.all(batch);
    onProgress?.(end);
  }
  return out;
}
