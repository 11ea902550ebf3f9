import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes: scrypt with a random salt, parameters kept in the string so they can be raised
 * later without breaking old hashes: `scrypt$<N>$<r>$<p>$<salt b64url>$<key b64url>`.
 */
const PARAMS = { N: 16_384, r: 8, p: 1 } as const;
const KEY_BYTES = 64;
const SALT_BYTES = 16;

function derive(password: string, salt: Buffer, keyBytes: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // 128·N·r bytes are needed; allow twice that so raised parameters still fit.
    const maxmem = 256 * (opts.N ?? PARAMS.N) * (opts.r ?? PARAMS.r);
    scrypt(password.normalize('NFKC'), salt, keyBytes, { ...opts, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** True when `password` matches `stored`; false for a wrong password or a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  const sane = (n: number | undefined): n is number => n !== undefined && Number.isInteger(n) && n > 0 && n <= 1 << 20;
  if (!sane(N) || !sane(r) || !sane(p) || salt.length === 0 || expected.length === 0) return false;
  const actual = await derive(password, salt, expected.length, { N, r, p });
  return timingSafeEqual(actual, expected);
}

/**
 * A hash of a forgotten random string, with the current parameters: verifying a login for an unknown
 * email against it costs what a real check costs, so response time does not reveal who has an account.
 */
export const DUMMY_PASSWORD_HASH =
  'scrypt$16384$8$1$As4rprg5dCIRSRYhFSxoVA$GfXQsrfYgHE_kbzm940tgopDYUxbLRaOnTZrNstaISYcYMziJUR_k9tn0otS8rMwgeU3FgT3YAwwaRHWtF2ACQ';

/** A random password for generated accounts: 20 characters of base64url (120 bits). */
export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}
