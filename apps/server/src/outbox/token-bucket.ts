import { performance } from 'node:perf_hooks';

export interface TokenBucketOptions {
  /** Sustained rate: tokens added per second. */
  ratePerSecond: number;
  /** Largest burst; default max(1, rate / 10) so a burst stays a tenth of a second's worth. */
  capacity?: number;
  /** Clock in milliseconds (monotonic); injectable for tests. */
  now?: () => number;
}

/** The window the provider's rate limit is counted over. */
const WINDOW_MS = 1000;

/**
 * A token bucket: one token per provider request. Refill is computed from elapsed time, so timer
 * lateness never accumulates into a lower rate. One bucket is shared by everything that sends.
 *
 * On top, a sliding 1 s window: never more than floor(rate) tokens (at least 1) in any 1000 ms, so
 * the opening burst of `capacity` cannot push a second over the provider's per-second limit.
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly capacity: number;
  private readonly now: () => number;
  private tokens: number;
  private updatedAt: number;
  /** When each of the last `perWindow` tokens was taken (a ring; `head` is the oldest). */
  private readonly takenAt: Float64Array;
  /** What each ring slot held before its last take (so a refund can restore it). */
  private readonly before: Float64Array;
  private head = 0;
  /** When each of the last floor(rate) requests was written (dispatchSlot). */
  private readonly dispatchedAt: Float64Array;
  private dispatchHead = 0;
  private dispatching: Promise<void> = Promise.resolve();

  constructor(opts: TokenBucketOptions) {
    if (!(opts.ratePerSecond > 0)) throw new Error(`ratePerSecond must be positive, got ${opts.ratePerSecond}`);
    this.ratePerSecond = opts.ratePerSecond;
    this.capacity = opts.capacity ?? Math.max(1, opts.ratePerSecond / 10);
    this.now = opts.now ?? (() => performance.now());
    // One token to start, not a full bucket: an opening burst of `capacity` would be followed by a
    // gap of as long before every later second (the 1 s window below), bunching sends at each second.
    // Idle time fills the bucket as before.
    this.tokens = Math.min(1, this.capacity);
    this.updatedAt = this.now();
    const perWindow = Math.max(1, Math.floor(opts.ratePerSecond));
    this.takenAt = new Float64Array(perWindow).fill(Number.NEGATIVE_INFINITY);
    this.before = new Float64Array(perWindow).fill(Number.NEGATIVE_INFINITY);
    this.dispatchedAt = new Float64Array(perWindow).fill(Number.NEGATIVE_INFINITY);
  }

  /** Most tokens taken in any 1 s window. */
  get perWindow(): number {
    return this.takenAt.length;
  }

  /** Adds the tokens earned since the last refill; returns the time. */
  private refill(): number {
    const now = this.now();
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.updatedAt = now;
    return now;
  }

  /** Takes a token and returns 0, or returns the milliseconds until one is available (taking nothing). */
  tryTake(): number {
    const now = this.refill();
    if (this.tokens < 1) return ((1 - this.tokens) * 1000) / this.ratePerSecond;
    const windowFullFor = (this.takenAt[this.head] ?? Number.NEGATIVE_INFINITY) + WINDOW_MS - now;
    // Tokens keep accruing while the window is full: after a stall, the sends it held back go out
    // as soon as the window allows (a catch-up burst recurs a second later, but nothing is lost).
    if (windowFullFor > 0) return windowFullFor;
    this.tokens -= 1;
    this.before[this.head] = this.takenAt[this.head] ?? Number.NEGATIVE_INFINITY;
    this.takenAt[this.head] = now;
    this.head = (this.head + 1) % this.takenAt.length;
    return 0;
  }

  /** Takes as many tokens as are available now, up to `max` (0 when none is). */
  takeUpTo(max: number): number {
    let n = 0;
    while (n < max && this.tryTake() === 0) n++;
    return n;
  }

  /** Gives back a token taken but not used (the latest taken). */
  refund(): void {
    this.refill();
    this.tokens = Math.min(this.capacity, this.tokens + 1);
    this.head = (this.head - 1 + this.takenAt.length) % this.takenAt.length;
    this.takenAt[this.head] = this.before[this.head] ?? Number.NEGATIVE_INFINITY;
  }

  /**
   * Resolves when a request may be written now: never more than floor(rate) writes in any 1000 ms.
   * The tokens are taken before the rows are claimed, and a claim takes a variable time (a
   * PostgreSQL round trip under load), which would bunch the writes that follow; the provider
   * counts what arrives, so the writes are held to the window too. Calls are served in order.
   */
  dispatchSlot(): Promise<void> {
    const turn = this.dispatching.then(async () => {
      const wait = (this.dispatchedAt[this.dispatchHead] ?? Number.NEGATIVE_INFINITY) + WINDOW_MS - this.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
      this.dispatchedAt[this.dispatchHead] = this.now();
      this.dispatchHead = (this.dispatchHead + 1) % this.dispatchedAt.length;
    });
    this.dispatching = turn;
    return turn;
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
