import { performance } from 'node:perf_hooks';

export interface TokenBucketOptions {
  /** Sustained rate: tokens added per second. */
  ratePerSecond: number;
  /** Largest burst; default max(1, rate / 10) so a burst stays a tenth of a second's worth. */
  capacity?: number;
  /** Clock in milliseconds (monotonic); injectable for tests. */
  now?: () => number;
}

/**
 * A token bucket: one token per provider request. Refill is computed from elapsed time, so timer
 * lateness never accumulates into a lower rate. One bucket is shared by everything that sends.
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly capacity: number;
  private readonly now: () => number;
  private tokens: number;
  private updatedAt: number;

  constructor(opts: TokenBucketOptions) {
    if (!(opts.ratePerSecond > 0)) throw new Error(`ratePerSecond must be positive, got ${opts.ratePerSecond}`);
    this.ratePerSecond = opts.ratePerSecond;
    this.capacity = opts.capacity ?? Math.max(1, opts.ratePerSecond / 10);
    this.now = opts.now ?? (() => performance.now());
    this.tokens = this.capacity;
    this.updatedAt = this.now();
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.updatedAt = now;
  }

  /** Takes a token and returns 0, or returns the milliseconds until one is available (taking nothing). */
  tryTake(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return ((1 - this.tokens) * 1000) / this.ratePerSecond;
  }

  /** Gives back a token taken but not used. */
  refund(): void {
    this.refill();
    this.tokens = Math.min(this.capacity, this.tokens + 1);
  }

  /** Resolves true once a token is taken, or false if `signal` aborts first. */
  async take(signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      const wait = this.tryTake();
      if (wait === 0) return true;
      const woke = await sleep(Math.max(1, Math.ceil(wait)), signal);
      if (!woke) return false;
    }
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
