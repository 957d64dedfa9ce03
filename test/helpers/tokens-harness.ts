// Test helpers for the token toolkit: temp folders, the CLI as a child process, and the
// pinned jose verification every valid token must pass (and every bad one must fail).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTVerifyOptions } from 'jose';
import type { TokenPoolFile } from '../../lib/token-pool-format.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }, prefix = 'tokens-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `tools/tokens/cli.ts` with tsx in a child process (killed after timeoutMs). */
export function runTokensCli(args: string[], { cwd = repoRoot, timeoutMs = 20_000 }: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'tools/tokens/cli.ts'), ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The verification a correct backend does: JWKS, issuer, audience and algorithm pinned, oid required. */
export function pinnedVerifier(jwks: JSONWebKeySet, pool: Pick<TokenPoolFile, 'issuer' | 'audience'>, alg: string) {
  const keySet = createLocalJWKSet(jwks);
  const options: JWTVerifyOptions = { issuer: pool.issuer, audience: pool.audience, algorithms: [alg], requiredClaims: ['oid', 'exp', 'nbf'] };
  return (token: string, currentDate?: Date) => jwtVerify(token, keySet, currentDate ? { ...options, currentDate } : options);
}

export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** The base64url of '{"' that starts every JWT header (built here so no source file holds it). */
export const JWT_PREFIX = Buffer.from('{"alg"').toString('base64url').slice(0, 3);
/** PEM armour words, built at run time for the same reason. */
export const PEM_PRIVATE = ['PRIVATE', 'KEY'].join(' ');
export const fakePem = (body: string) => `-----${['BEGIN', PEM_PRIVATE].join(' ')}-----\n${body}\n-----${['END', PEM_PRIVATE].join(' ')}-----\n`;

/** Everything that must never appear in output: JWT prefix, PEM armour, key body lines. */
export function secretNeedles(privateKeyPem: string, tokens: string[]): string[] {
  const body = privateKeyPem.split('\n').filter((l) => l && !l.startsWith('-----'));
  const sigs = tokens.map((t) => t.split('.')[2]).filter((s): s is string => !!s && s.length > 20);
  return [JWT_PREFIX, PEM_PRIVATE, ...body, ...sigs.map((s) => s.slice(0, 24))];
}
