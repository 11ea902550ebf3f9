import { describe, expect, it } from 'vitest';
import { TokenBucket, sleep } from './token-bucket';

function clock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('TokenBucket', () => {
  it('starts with one token, capacity max(1, rate/10), and then refills at the rate', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 30, now: c.now });
    expect(bucket.capacity).toBe(3);
    expect(bucket.tryTake()).toBe(0);
    expect(bucket.tryTake()).toBeCloseTo(1000 / 30, 5);
    c.advance(2000 / 30);
    expect([bucket.tryTake(), bucket.tryTake()]).toEqual([0, 0]);
    expect(bucket.tryTake()).toBeCloseTo(1000 / 30, 5);
    c.advance(1000 / 30);
    expect(bucket.tryTake()).toBe(0);
    c.advance(10_000); // idle time never builds a burst beyond capacity
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([0, 0, 0]);
    expect(bucket.tryTake()).toBeGreaterThan(0);
  });

  it('has a capacity of at least one token at low rates', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 2, now: c.now });
    expect(bucket.capacity).toBe(1);
    expect(bucket.tryTake()).toBe(0);
    expect(bucket.tryTake()).toBe(500);
  });

  it('refund gives back an unused token', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 1, now: c.now });
    expect(bucket.tryTake()).toBe(0);
    bucket.refund();
    expect(bucket.tryTake()).toBe(0);
  });

  it('never gives more than the rate in any 1 s window, whatever the capacity', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 10, capacity: 5, now: c.now });
    c.advance(500); // idle: the bucket fills to capacity (but the 1 s window still counts from t = 500)
    expect(bucket.takeUpTo(100)).toBe(5);
    c.advance(500);
    expect(bucket.takeUpTo(100)).toBe(5); // 10 within [0, 500]
    c.advance(100); // one token refilled, but the window (100, 1100] is full until t = 1500
    expect(bucket.tryTake()).toBeCloseTo(400, 5);
    c.advance(400);
    expect(bucket.takeUpTo(100)).toBe(5); // the five taken at t = 500 have left the window
    expect(bucket.tryTake()).toBeGreaterThan(0);
  });

  it('a refund gives the window slot back as well', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 2, capacity: 2, now: c.now });
    c.advance(1000);
    expect(bucket.takeUpTo(2)).toBe(2);
    bucket.refund();
    expect(bucket.tryTake()).toBe(0);
    c.advance(600); // a token refilled, but two were taken at t = 0: wait for the window
    expect(bucket.tryTake()).toBeCloseTo(400, 5);
  });

  it('refuses a non-positive rate', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0 })).toThrow(/positive/);
  });

  it('take() waits for a token and sustains the rate', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 100, capacity: 1 });
    const started = performance.now();
    for (let i = 0; i < 21; i++) expect(await bucket.take()).toBe(true);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(400);
  });

  it('take() resolves false when aborted', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 0.1 });
    await bucket.take();
    const controller = new AbortController();
    const taking = bucket.take(controller.signal);
    controller.abort();
    expect(await taking).toBe(false);
    expect(await sleep(10_000, controller.signal)).toBe(false);
  });
});
