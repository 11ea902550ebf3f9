import { AppError } from '../errors';

export interface LoginRateLimiterOptions {
  /** Failures allowed per key within the window; the next attempt is refused. Default 5. */
  maxFailures?: number;
  /** Default 15 minutes. */
  windowMs?: number;
  now?: () => number;
}

export interface LoginRateLimiter {
  /** Throws TOO_MANY_REQUESTS when any key has used up its failures. Call before checking the password. */
  check(keys: readonly string[]): void;
  /** Counts a failed attempt against every key. */
  fail(keys: readonly string[]): void;
  /** Forgets a key's failures (the email's, after a good password; never the IP's). */
  reset(key: string): void;
}

interface Window {
  failures: number;
  startedAt: number;
}

/** Keys for one login attempt: per email and per client IP. */
export function loginKeys(email: string, ip: string | null): string[] {
  const keys = [`email:${email.trim().toLowerCase()}`];
  if (ip) keys.push(`ip:${ip}`);
  return keys;
}

/**
 * Fixed-window failure counting, in memory (one per server instance; it lives in the app's deps).
 * Only failures count, so an agent who types the password right is never slowed down.
 */
export function createLoginRateLimiter(opts: LoginRateLimiterOptions = {}): LoginRateLimiter {
  const maxFailures = opts.maxFailures ?? 5;
  const windowMs = opts.windowMs ?? 15 * 60 * 1000;
  const now = opts.now ?? Date.now;
  const windows = new Map<string, Window>();

  const live = (key: string, at: number): Window | undefined => {
    const w = windows.get(key);
    if (w && at - w.startedAt >= windowMs) {
      windows.delete(key);
      return undefined;
    }
    return w;
  };
  const prune = (at: number) => {
    if (windows.size < 10_000) return;
    for (const key of windows.keys()) live(key, at);
  };

  return {
    check(keys) {
      const at = now();
      for (const key of keys) {
        const w = live(key, at);
        if (w && w.failures >= maxFailures) {
          const minutes = Math.max(1, Math.ceil((w.startedAt + windowMs - at) / 60_000));
          throw new AppError(
            'TOO_MANY_REQUESTS',
            `Too many failed sign-in attempts; try again in ${minutes} minute${minutes === 1 ? '' : 's'}`,
          );
        }
      }
    },
    fail(keys) {
      const at = now();
      prune(at);
      for (const key of keys) {
        const w = live(key, at);
        if (w) w.failures += 1;
        else windows.set(key, { failures: 1, startedAt: at });
      }
    },
    reset(key) {
      windows.delete(key);
    },
  };
}
