import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes: scrypt with a random salt, parameters kept in the string so they can be raised
 * later without breaking old hashes: `scrypt$<N>$<r>$<p>$<salt b64url>$<key b64url>`.
 */
export interface PasswordCost {
  N: number;
  r: number;
  p: number;
}

/** OWASP's current minimum for scrypt: N=2^17, r=8, p=1 (128 MiB and a few hundred ms per hash). */
export const PASSWORD_COST: PasswordCost = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

/**
 * A cheap cost for the test suite only: config.passwordCost is set to it by testConfig, never by
 * loadConfig (the environment cannot lower the cost).
 */
export const TEST_PASSWORD_COST: PasswordCost = Object.freeze({ N: 2 ** 10, r: 8, p: 1 });

const KEY_BYTES = 64;
const SALT_BYTES = 16;

function derive(password: string, salt: Buffer, keyBytes: number, opts: ScryptOptions & PasswordCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // scrypt needs 128·N·r bytes; Node's default maxmem (32 MiB) is below what N=2^17 needs: allow twice.
    const maxmem = 2 * 128 * opts.N * opts.r;
    scrypt(password.normalize('NFKC'), salt, keyBytes, { ...opts, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string, cost: PasswordCost = PASSWORD_COST): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** The parameters a stored hash was made with, or null when it is not one of ours. */
export function hashCost(stored: string): PasswordCost | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const sane = (n: number | undefined): n is number => n !== undefined && Number.isInteger(n) && n > 0 && n <= 1 << 20;
  if (!sane(N) || !sane(r) || !sane(p) || N < 2 || (N & (N - 1)) !== 0) return null;
  return { N, r, p };
}

/** True when a hash was made with less than `cost` (it is rehashed at the next successful login). */
export function needsRehash(stored: string, cost: PasswordCost = PASSWORD_COST): boolean {
  const had = hashCost(stored);
  return had === null || had.N < cost.N || had.r < cost.r || had.p < cost.p;
}

/** True when `password` matches `stored`; false for a wrong password or a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const cost = hashCost(stored);
  if (!cost) return false;
  const parts = stored.split('$');
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (salt.length === 0 || expected.length === 0) return false;
  const actual = await derive(password, salt, expected.length, cost);
  return timingSafeEqual(actual, expected);
}

const dummies = new Map<string, string>();
/**
 * A hash of nothing at `cost` (random salt and key, so no password matches it): verifying a login for
 * an unknown email against it costs what a real check costs, so response time does not reveal who has
 * an account. Made without hashing, once per cost.
 */
export function dummyPasswordHash(cost: PasswordCost = PASSWORD_COST): string {
  const id = `${cost.N}$${cost.r}$${cost.p}`;
  let hash = dummies.get(id);
  if (!hash) {
    hash = [
      'scrypt',
      cost.N,
      cost.r,
      cost.p,
      randomBytes(SALT_BYTES).toString('base64url'),
      randomBytes(KEY_BYTES).toString('base64url'),
    ].join('$');
    dummies.set(id, hash);
  }
  return hash;
}

/** A random password for generated accounts: 20 characters of base64url (120 bits). */
export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}
