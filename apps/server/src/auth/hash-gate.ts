import { AppError } from '../errors';

export interface HashGate {
  /** Runs `fn` when a slot is free; waits in a bounded queue; a full queue is TOO_MANY_REQUESTS at once. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Hashes running now and waiting. */
  stats(): { running: number; waiting: number };
}

/**
 * A small semaphore around password hashing: each scrypt at the default cost takes 128 MiB and a few
 * hundred ms of a libuv thread, so unauthenticated sign-in attempts must not start them without bound.
 */
export function createHashGate(opts: { concurrency: number; queue: number }): HashGate {
  const concurrency = Math.max(1, Math.floor(opts.concurrency));
  const maxWaiting = Math.max(0, Math.floor(opts.queue));
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    running -= 1;
    const next = waiting.shift();
    if (next) {
      running += 1;
      next();
    }
  };
  return {
    async run(fn) {
      if (running >= concurrency) {
        if (waiting.length >= maxWaiting) {
          throw new AppError('TOO_MANY_REQUESTS', 'Too many sign-ins at once; try again in a moment', { retryAfterSeconds: 1 });
        }
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else {
        running += 1;
      }
      try {
        return await fn();
      } finally {
        release();
      }
    },
    stats: () => ({ running, waiting: waiting.length }),
  };
}
