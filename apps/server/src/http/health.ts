import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Request, Response } from 'express';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { SqliteStore } from '../db/sqlite-store';

export type HealthExtras = () => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface HealthOptions {
  /** The database file (':memory:' has no disk to check). */
  databasePath?: string;
  /** 503 when the database's file system has fewer free bytes than this. */
  minFreeBytes?: number;
  /** The write probe and the disk check run at most this often (ms); answers in between reuse the last result. */
  probeIntervalMs?: number;
}

/** How long the write probe waits for another connection's lock (ms). */
const PROBE_BUSY_TIMEOUT_MS = 100;

interface Probe {
  at: number;
  /** null: writable and enough space. */
  problem: string | null;
  freeBytes: number | null;
}

/**
 * GET /healthz: 200 when the database answers a query, takes a write (one row rewritten in
 * health_probe, at most every few seconds) and its disk has room; else 503 with the reason. A
 * database that can be read but not written (read-only, full, or its disk nearly full) is not
 * healthy: every webhook would get a 500 while a read-only check said "ok".
 */
export function healthHandler(db: Db, extras: HealthExtras = () => ({}), opts: HealthOptions = {}) {
  const interval = opts.probeIntervalMs ?? 5000;
  const minFree = opts.minFreeBytes ?? 0;
  const dir = opts.databasePath && opts.databasePath !== ':memory:' ? dirname(resolve(opts.databasePath)) : undefined;
  let last: Probe | undefined;
  let running: Promise<Probe> | undefined;

  const probe = async (): Promise<Probe> => {
    const now = Date.now();
    // A short busy timeout for the probe alone: a database another process holds locked is reported
    // at once, instead of /healthz (and the whole process with it) waiting out the connection's timeout.
    const write = sql`insert into health_probe (id, checked_at) values (1, ${now}) on conflict (id) do update set checked_at = excluded.checked_at`;
    try {
      if (db.$store instanceof SqliteStore) await db.$store.executeImpatient(write, PROBE_BUSY_TIMEOUT_MS);
      else await db.$store.execute(write);
    } catch (err) {
      return { at: now, problem: `database cannot be written: ${err instanceof Error ? err.message : String(err)}`, freeBytes: null };
    }
    if (dir === undefined) return { at: now, problem: null, freeBytes: null };
    try {
      const s = await statfs(dir);
      const free = Number(s.bavail) * Number(s.bsize);
      if (free < minFree)
        return {
          at: now,
          problem: `low disk space: ${free} bytes free where the database lives (HEALTH_MIN_FREE_BYTES=${minFree})`,
          freeBytes: free,
        };
      return { at: now, problem: null, freeBytes: free };
    } catch (err) {
      return { at: now, problem: `disk space unknown: ${err instanceof Error ? err.message : String(err)}`, freeBytes: null };
    }
  };

  return async (_req: Request, res: Response): Promise<void> => {
    try {
      if (db.$store instanceof SqliteStore) await db.$store.ping();
      else await db.$store.rows(sql`select 1`);
    } catch (err) {
      res.status(503).json({ status: 'unavailable', db: err instanceof Error ? err.message : 'unusable' });
      return;
    }
    if (!last || Date.now() - last.at >= interval) {
      running ??= probe().finally(() => {
        running = undefined;
      });
      last = await running;
    }
    const disk = last.freeBytes === null ? {} : { diskFreeBytes: last.freeBytes };
    if (last.problem !== null) {
      res.status(503).json({ status: 'unavailable', db: 'ok', reason: last.problem, ...disk });
      return;
    }
    res.status(200).json({ status: 'ok', db: 'ok', ...disk, ...(await extras()) });
  };
}
