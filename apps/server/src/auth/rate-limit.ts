import { eq, inArray, lt, sql } from 'drizzle-orm';
import { AppError } from '../errors';
import type { Db } from '../db/client';
import { loginWindows } from '../db/tables';

export interface LoginRateLimiterOptions {
  /** Failures allowed per key within the window; the next attempt is refused. Default 5. */
  maxFailures?: number;
  /** Default 15 minutes. */
  windowMs?: number;
  now?: () => number;
}

export interface LoginRateLimiter {
  /**
   * Counts an attempt against every key BEFORE the password is checked (so concurrent attempts cannot
   * all pass a check first), or throws TOO_MANY_REQUESTS when any key has used up its attempts.
   */
  attempt(keys: readonly string[]): void | Promise<void>;
  /** Gives an attempt back (a right password, or one never checked). */
  refund(keys: readonly string[]): void | Promise<void>;
  /** Forgets a key's failures (the email's, after a good password; never the IP's). */
  reset(key: string): void | Promise<void>;
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
 * Fixed-window attempt counting, in memory (one per server instance; it lives in the app's deps).
 * Every attempt counts when it starts and a right password refunds it, so only failures remain
 * counted and an agent who types the password right is never slowed down.
 */
/** The in-memory limiter answers at once. */
export interface MemoryLoginRateLimiter extends LoginRateLimiter {
  attempt(keys: readonly string[]): void;
  refund(keys: readonly string[]): void;
  reset(key: string): void;
}

export function createLoginRateLimiter(opts: LoginRateLimiterOptions = {}): MemoryLoginRateLimiter {
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
    attempt(keys) {
      const at = now();
      for (const key of keys) {
        const w = live(key, at);
        if (w && w.failures >= maxFailures) throw tooMany(w.startedAt + windowMs - at);
      }
      prune(at);
      for (const key of keys) {
        const w = live(key, at);
        if (w) w.failures += 1;
        else windows.set(key, { failures: 1, startedAt: at });
      }
    },
    refund(keys) {
      const at = now();
      for (const key of keys) {
        const w = live(key, at);
        if (w) w.failures = Math.max(0, w.failures - 1);
      }
    },
    reset(key) {
      windows.delete(key);
    },
  };
}

function tooMany(msLeft: number): AppError {
  const seconds = msLeft / 1000;
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return new AppError('TOO_MANY_REQUESTS', `Too many failed sign-in attempts; try again in ${minutes} minute${minutes === 1 ? '' : 's'}`, {
    retryAfterSeconds: seconds,
  });
}

/**
 * The same counting kept in the database (login_windows), so every instance behind a balancer
 * counts the same failures: PostgreSQL with several instances. An attempt is one write transaction
 * (check every key, then count it), and write transactions take turns across instances, so
 * concurrent attempts on different instances cannot all pass the check.
 */
export function createSharedLoginRateLimiter(db: Db, opts: LoginRateLimiterOptions = {}): LoginRateLimiter {
  const maxFailures = opts.maxFailures ?? 5;
  const windowMs = opts.windowMs ?? 15 * 60 * 1000;
  const now = opts.now ?? Date.now;
  return {
    async attempt(keys) {
      const at = now();
      await db.$store.tx(async () => {
        const rows = await db
          .select()
          .from(loginWindows)
          .where(inArray(loginWindows.key, [...keys]));
        for (const w of rows) {
          if (at - w.startedAt < windowMs && w.failures >= maxFailures) throw tooMany(w.startedAt + windowMs - at);
        }
        // Windows past their end start again; so does a key seen for the first time.
        for (const key of keys) {
          await db
            .insert(loginWindows)
            .values({ key, failures: 1, startedAt: at })
            .onConflictDoUpdate({
              target: loginWindows.key,
              set: {
                failures: sql`case when ${loginWindows.startedAt} <= ${at - windowMs} then 1 else ${loginWindows.failures} + 1 end`,
                startedAt: sql`case when ${loginWindows.startedAt} <= ${at - windowMs} then ${at} else ${loginWindows.startedAt} end`,
              },
            });
        }
        // Keys whose window ended long ago are forgotten.
        await db.delete(loginWindows).where(lt(loginWindows.startedAt, at - 2 * windowMs));
      });
    },
    async refund(keys) {
      await db
        .update(loginWindows)
        .set({ failures: sql`case when ${loginWindows.failures} > 0 then ${loginWindows.failures} - 1 else 0 end` })
        .where(inArray(loginWindows.key, [...keys]));
    },
    async reset(key) {
      await db.delete(loginWindows).where(eq(loginWindows.key, key));
    },
  };
}
