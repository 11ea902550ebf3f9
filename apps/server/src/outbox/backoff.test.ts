import { describe, expect, it } from 'vitest';
import { classifyFailure, failureDetail, retryDelayMs } from './backoff';

describe('retryDelayMs', () => {
  it('doubles the ceiling per attempt with full jitter, up to the cap', () => {
    const top = { random: () => 0.999999 };
    expect(retryDelayMs(1, top)).toBe(999);
    expect(retryDelayMs(2, top)).toBe(1999);
    expect(retryDelayMs(5, top)).toBe(15_999);
    expect(retryDelayMs(30, top)).toBe(299_999);
    expect(retryDelayMs(3, { random: () => 0 })).toBe(0);
    expect(retryDelayMs(3, { baseMs: 10, capMs: 25, random: () => 0.5 })).toBe(12);
  });

  it('honours a longer Retry-After', () => {
    expect(retryDelayMs(1, { random: () => 0.5 }, 7000)).toBe(7000);
    expect(retryDelayMs(10, { random: () => 0.5 }, 10)).toBe(150_000);
  });

  it('stays within [0, ceiling) for random draws', () => {
    for (let i = 0; i < 200; i++) {
      const d = retryDelayMs(4, { baseMs: 100 });
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(800);
    }
  });
});

describe('classifyFailure', () => {
  it('retries what the provider refused or never received', () => {
    expect(classifyFailure({ retryable: true, httpStatus: 429, code: 'http_429', reason: 'Throttled' })).toBe('retry');
    expect(classifyFailure({ retryable: true, httpStatus: 500, code: 'http_500', reason: 'x' })).toBe('retry');
    expect(classifyFailure({ retryable: true, code: '1000', reason: 'x' })).toBe('retry');
    const refused = 'request to http://127.0.0.1:9/v1/messages failed, reason: connect ECONNREFUSED 127.0.0.1:9';
    expect(classifyFailure({ retryable: true, code: 'network', reason: 'Could not reach Vonage', detail: refused })).toBe('retry');
    const dns = 'request to https://api.nexmo.invalid/v1/messages failed, reason: getaddrinfo ENOTFOUND api.nexmo.invalid';
    expect(classifyFailure({ retryable: true, code: 'network', reason: 'Could not reach Vonage', detail: dns })).toBe('retry');
  });

  it('does not resend what may have reached the provider', () => {
    expect(classifyFailure({ retryable: true, code: 'network', reason: 'Vonage did not answer within 100 ms' })).toBe('unknown');
    const reset = 'request to http://127.0.0.1:9/v1/messages failed, reason: socket hang up';
    expect(classifyFailure({ retryable: true, code: 'network', reason: 'Could not reach Vonage', detail: reset })).toBe('unknown');
    expect(classifyFailure({ retryable: true, code: 'network', reason: 'x', detail: 'read ECONNRESET' })).toBe('unknown');
    expect(
      classifyFailure({ retryable: false, code: 'invalid_response', reason: 'Vonage accepted the message but returned no message id' }),
    ).toBe('unknown');
    const explicit = { retryable: true, code: 'network', reason: 'x', detail: 'ECONNREFUSED' };
    expect(classifyFailure({ ...explicit, requestSent: true } as typeof explicit)).toBe('unknown');
  });

  it('fails for good what never will succeed', () => {
    expect(classifyFailure({ retryable: false, httpStatus: 422, code: 'http_422', reason: 'x' })).toBe('fail');
    expect(classifyFailure({ retryable: false, code: 'unknown', reason: 'x' })).toBe('fail');
  });
});

describe('failureDetail', () => {
  it('keeps the detail and the invalid parameters', () => {
    expect(
      failureDetail({
        retryable: false,
        code: 'http_422',
        reason: 'r',
        detail: 'The `to` parameter is invalid.',
        invalidParameters: [{ name: 'to', reason: 'Not a valid number' }],
      }),
    ).toBe('The `to` parameter is invalid. — invalid parameters: to: Not a valid number');
    expect(failureDetail({ retryable: false, code: 'x', reason: 'r' })).toBeNull();
  });
});
