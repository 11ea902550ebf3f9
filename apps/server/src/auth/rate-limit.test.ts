import { describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { createLoginRateLimiter, loginKeys } from './rate-limit';

describe('login rate limiter', () => {
  it('allows five failures per key in the window, refuses the sixth attempt with TOO_MANY_REQUESTS', () => {
    let now = 0;
    const limiter = createLoginRateLimiter({ now: () => now });
    const keys = loginKeys('A@x.test', '10.0.0.1');
    for (let i = 0; i < 5; i++) {
      limiter.check(keys);
      limiter.fail(keys);
    }
    let error: unknown;
    try {
      limiter.check(keys);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('TOO_MANY_REQUESTS');
    expect((error as AppError).message).toMatch(/try again in 15 minutes/);
    now += 15 * 60 * 1000;
    expect(() => limiter.check(keys)).not.toThrow();
  });

  it('counts per email and per IP separately', () => {
    const limiter = createLoginRateLimiter({ maxFailures: 2 });
    limiter.fail(loginKeys('a@x.test', '10.0.0.1'));
    limiter.fail(loginKeys('b@x.test', '10.0.0.1'));
    // The IP is spent, whichever email it tries next.
    expect(() => limiter.check(loginKeys('c@x.test', '10.0.0.1'))).toThrow(/Too many/);
    // The email is not: from another IP it may still try.
    expect(() => limiter.check(loginKeys('a@x.test', '10.0.0.2'))).not.toThrow();
    limiter.fail(loginKeys('a@x.test', '10.0.0.2'));
    expect(() => limiter.check(loginKeys('A@X.test ', '10.0.0.3'))).toThrow(/Too many/);
  });

  it('reset forgets a key', () => {
    const limiter = createLoginRateLimiter({ maxFailures: 1 });
    const [emailKey = ''] = loginKeys('a@x.test', null);
    limiter.fail([emailKey]);
    expect(() => limiter.check([emailKey])).toThrow();
    limiter.reset(emailKey);
    expect(() => limiter.check([emailKey])).not.toThrow();
  });
});
