import { describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { createLoginRateLimiter, loginKeys } from './rate-limit';

describe('login rate limiter', () => {
  it('allows five counted attempts per key in the window, refuses the sixth with TOO_MANY_REQUESTS and a retry time', () => {
    let now = 0;
    const limiter = createLoginRateLimiter({ now: () => now });
    const keys = loginKeys('A@x.test', '10.0.0.1');
    for (let i = 0; i < 5; i++) limiter.attempt(keys);
    let error: unknown;
    try {
      limiter.attempt(keys);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('TOO_MANY_REQUESTS');
    expect((error as AppError).message).toMatch(/try again in 15 minutes/);
    expect((error as AppError).retryAfterSeconds).toBe(15 * 60);
    now += 15 * 60 * 1000;
    expect(() => limiter.attempt(keys)).not.toThrow();
  });

  it('counts the attempt when it starts: refunded ones (right passwords) do not add up', () => {
    const limiter = createLoginRateLimiter({ maxFailures: 2 });
    const keys = loginKeys('a@x.test', '10.0.0.1');
    for (let i = 0; i < 10; i++) {
      limiter.attempt(keys);
      limiter.refund(keys);
    }
    limiter.attempt(keys);
    limiter.attempt(keys);
    expect(() => limiter.attempt(keys)).toThrow(/Too many/);
  });

  it('counts per email and per IP separately', () => {
    const limiter = createLoginRateLimiter({ maxFailures: 2 });
    limiter.attempt(loginKeys('a@x.test', '10.0.0.1'));
    limiter.attempt(loginKeys('b@x.test', '10.0.0.1'));
    // The IP is spent, whichever email it tries next.
    expect(() => limiter.attempt(loginKeys('c@x.test', '10.0.0.1'))).toThrow(/Too many/);
    // The email is not: from another IP it may still try.
    expect(() => limiter.attempt(loginKeys('a@x.test', '10.0.0.2'))).not.toThrow();
    expect(() => limiter.attempt(loginKeys('A@X.test ', '10.0.0.3'))).toThrow(/Too many/);
  });

  it('reset forgets a key', () => {
    const limiter = createLoginRateLimiter({ maxFailures: 1 });
    const [emailKey = ''] = loginKeys('a@x.test', null);
    limiter.attempt([emailKey]);
    expect(() => limiter.attempt([emailKey])).toThrow();
    limiter.reset(emailKey);
    expect(() => limiter.attempt([emailKey])).not.toThrow();
  });
});
