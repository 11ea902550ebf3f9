/**
 * The sign-in limiter kept in the database: two limiters over one database stand for two Parley
 * instances behind a balancer; failures counted on one refuse on the other. On the store under test
 * (SQLite, or PostgreSQL with PARLEY_TEST_DB=pg).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDb, type TempDb } from '../testing/temp-db';
import { createSharedLoginRateLimiter, loginKeys } from './rate-limit';

let t: TempDb;
beforeEach(async () => {
  t = await openTestDb('parley-shared-limit-');
});
afterEach(async () => {
  await t.dispose();
});

describe('shared sign-in limiter', () => {
  it('counts the failures of every instance together, and the window ends for all', async () => {
    let now = 1_000_000;
    const opts = { maxFailures: 3, windowMs: 60_000, now: () => now };
    const a = createSharedLoginRateLimiter(t.db, opts);
    const b = createSharedLoginRateLimiter(t.db, opts);
    const keys = loginKeys('agent@parley.test', '10.0.0.9');
    await a.attempt(keys);
    await b.attempt(keys);
    await a.attempt(keys);
    await expect(b.attempt(keys)).rejects.toThrow(/Too many failed sign-in attempts; try again in 1 minute/);
    await expect(a.attempt(loginKeys('other@parley.test', '10.0.0.9'))).rejects.toThrow(/Too many/); // the IP's count
    now += 60_000;
    await expect(b.attempt(keys)).resolves.toBeUndefined();
  });

  it('a right password gives its attempt back; reset forgets the email; concurrent attempts cannot all pass', async () => {
    const a = createSharedLoginRateLimiter(t.db, { maxFailures: 2 });
    const b = createSharedLoginRateLimiter(t.db, { maxFailures: 2 });
    const email = 'agent@parley.test';
    const keys = loginKeys(email, null);
    for (let i = 0; i < 5; i++) {
      await a.attempt(keys);
      await b.refund(keys);
    }
    await a.attempt(keys);
    await a.reset(`email:${email}`);
    const tries = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).attempt(keys)));
    expect(tries.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(tries.filter((r) => r.status === 'rejected')).toHaveLength(4);
  });
});
