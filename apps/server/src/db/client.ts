import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle as syncDrizzle } from 'drizzle-orm/better-sqlite3';
import { drizzle, type SqliteRemoteDatabase } from 'drizzle-orm/sqlite-proxy';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema';
import { resolveSuppressionKeySqlite } from '../domain/suppression';
import { SqliteStore } from './sqlite-store';
import type { Store } from './store';

/** The database handle domain code queries through (drizzle over the store: see db/store.ts). */
export type Db = SqliteRemoteDatabase<typeof schema> & {
  /** SQLite's writer connection (synchronous; SQLite-only code and tests). */
  $client: Database.Database;
  $store: Store;
};

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** Runs `fn` with umask 077, so files it creates are owner-only from the start (worker threads cannot: chmod follows). */
function withOwnerOnlyFiles<T>(fn: () => T): T {
  let previous: number | undefined;
  try {
    previous = process.umask(0o077);
  } catch {
    previous = undefined;
  }
  try {
    return fn();
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
}

/** chmod 0600 where we may (a file another user owns keeps its mode). */
function ownerOnly(file: string): void {
  try {
    if (existsSync(file)) chmodSync(file, 0o600);
  } catch {
    // not ours to change
  }
}

/**
 * Opens (creating if needed) and migrates the database. WAL, foreign keys on, a busy timeout for
 * other processes — short for the server (`DB_BUSY_TIMEOUT_MS`: better-sqlite3 waits synchronously,
 * freezing the event loop meanwhile); writes that still meet the lock are retried asynchronously
 * (trpc/init.ts) or answered 503 (webhooks).
 */
export function openDb(path: string, opts: { busyTimeoutMs?: number; suppressionSecret?: string | undefined } = {}): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  // It holds password and session hashes and every message: owner-only. SQLite creates the WAL and
  // SHM files with the database file's permissions, so they are 0600 too (chmod below: older files).
  const sqlite = withOwnerOnlyFiles(() => new Database(path));
  if (path !== ':memory:') ownerOnly(path);
  sqlite.pragma('journal_mode = WAL');
  if (path !== ':memory:') for (const file of [`${path}-wal`, `${path}-shm`]) ownerOnly(file);
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  // Deleted content is overwritten with zeros, in the table's pages and in the freed ones: an erased
  // contact's number and texts are not left in free space (erasure checkpoints the WAL after).
  sqlite.pragma('secure_delete = ON');
  // Migrating may wait longer: nothing else is served yet.
  sqlite.pragma('busy_timeout = 5000');
  migrate(syncDrizzle(sqlite, { schema }), { migrationsFolder });
  let suppressionKey: Buffer;
  try {
    suppressionKey = resolveSuppressionKeySqlite(sqlite, opts.suppressionSecret);
  } catch (err) {
    sqlite.close();
    throw err;
  }
  const busyTimeoutMs = Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000));
  sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
  const store = new SqliteStore(sqlite, path === ':memory:' ? null : path, busyTimeoutMs);
  store.suppressionKey = suppressionKey;
  const db = drizzle(store.callback, { schema }) as Db;
  db.$client = sqlite;
  db.$store = store;
  store.db = db;
  return db;
}

/** Whether an error (or its cause chain) is SQLite's "database is locked" (another connection holds the write lock). */
export function isDbBusy(err: unknown): boolean {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return true;
  }
  return false;
}

/**
 * Runs `fn` (one transaction or statement); while SQLite answers SQLITE_BUSY it runs it again after
 * an asynchronous backoff (25 ms doubling, at most 500 ms), for at most `maxMs`; then the error stands.
 */
export async function retryWhileBusy<T>(fn: () => T | Promise<T>, maxMs = 5000): Promise<T> {
  const deadline = Date.now() + maxMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isDbBusy(err) || Date.now() >= deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(25 * 2 ** attempt, 500, Math.max(0, deadline - Date.now()))));
  }
}
