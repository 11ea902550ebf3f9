import { describe, expect, it } from 'vitest';
import { loadConfig, testConfig } from '../config';
import {
  PASSWORD_COST,
  TEST_PASSWORD_COST,
  dummyPasswordHash,
  generatePassword,
  hashCost,
  hashPassword,
  needsRehash,
  verifyPassword,
} from './password';

describe('password hashing', () => {
  it('hashes at N=2^17, r=8, p=1 by default (OWASP), and the configuration cannot lower it', async () => {
    expect(PASSWORD_COST).toEqual({ N: 131_072, r: 8, p: 1 });
    expect(loadConfig({}).passwordCost).toEqual({ N: 131_072, r: 8, p: 1 });
    // Only the test helper chooses the cheap cost, explicitly.
    expect(testConfig({ databasePath: ':memory:' }).passwordCost).toBe(TEST_PASSWORD_COST);
    const strong = await hashPassword('correct horse');
    expect(strong).toMatch(/^scrypt\$131072\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(await verifyPassword('correct horse', strong)).toBe(true);
    expect(await verifyPassword('correct hors', strong)).toBe(false);
    expect(needsRehash(strong)).toBe(false);
    // The dummy hash an unknown email is checked against costs the same.
    expect(hashCost(dummyPasswordHash())).toEqual(PASSWORD_COST);
    expect(await verifyPassword('anything', dummyPasswordHash())).toBe(false);
  });

  it('verifies the right password, refuses a wrong one, salts every hash', async () => {
    const a = await hashPassword('correct horse', TEST_PASSWORD_COST);
    const b = await hashPassword('correct horse', TEST_PASSWORD_COST);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horse', b)).toBe(true);
    expect(await verifyPassword('correct hors', a)).toBe(false);
    expect(needsRehash(a)).toBe(true);
    expect(needsRehash(a, TEST_PASSWORD_COST)).toBe(false);
  });

  it('reads its parameters from the hash, so older parameters still verify', async () => {
    const { randomBytes, scryptSync } = await import('node:crypto');
    const salt = randomBytes(16);
    const key = scryptSync('pw', salt, 32, { N: 1024, r: 4, p: 2 });
    const stored = ['scrypt', 1024, 4, 2, salt.toString('base64url'), key.toString('base64url')].join('$');
    expect(await verifyPassword('pw', stored)).toBe(true);
    expect(await verifyPassword('px', stored)).toBe(false);
  });

  it('treats malformed hashes as a mismatch, not a crash', async () => {
    for (const bad of ['', 'plain', 'bcrypt$1$2$3$4$5', 'scrypt$0$8$1$c2FsdA$a2V5', 'scrypt$16384$8$1$$', 'scrypt$1000$8$1$c2FsdA$a2V5']) {
      expect(await verifyPassword('x', bad)).toBe(false);
      expect(needsRehash(bad)).toBe(true);
    }
  });

  it('generates long random passwords', () => {
    const p = generatePassword();
    expect(p).toMatch(/^[\w-]{20}$/);
    expect(generatePassword()).not.toBe(p);
  });
});
