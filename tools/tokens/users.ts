// Deterministic test users: the same seed always gives the same oids, subs, names and emails.
// Pure derivation (a hash of seed and index), no I/O.
import { createHash } from 'node:crypto';

export interface TestUser {
  oid: string;
  sub: string;
  name: string;
  email: string;
}

function digest(seed: string, label: string): Buffer {
  return createHash('sha256').update(`voicelive-tokens\0${seed}\0${label}`).digest();
}

/** A version-4-shaped UUID derived from seed and label (stable, looks like an Entra object id). */
export function derivedUuid(seed: string, label: string): string {
  const b = digest(seed, label).subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Entra's `sub` is a pairwise, opaque 43-character base64url value: derived the same way here. */
export function derivedSub(seed: string, index: number): string {
  return digest(seed, `sub:${index}`).toString('base64url');
}

export function userAt(seed: string, index: number, emailDomain: string): TestUser {
  const n = String(index + 1).padStart(6, '0');
  return {
    oid: derivedUuid(seed, `oid:${index}`),
    sub: derivedSub(seed, index),
    name: `Load Test User ${n}`,
    email: `loadtest.user${n}@${emailDomain}`,
  };
}

export function makeUsers(seed: string, count: number, emailDomain: string): TestUser[] {
  const users: TestUser[] = new Array(count);
  for (let i = 0; i < count; i++) users[i] = userAt(seed, i, emailDomain);
  return users;
}
