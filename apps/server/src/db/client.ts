import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

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

/** Opens (creating if needed) and migrates the database. WAL, foreign keys on, a busy timeout for other processes. */
export function openDb(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  // It holds password and session hashes and every message: owner-only. SQLite creates the WAL and
  // SHM files with the database file's permissions, so they are 0600 too (chmod below: older files).
  const sqlite = withOwnerOnlyFiles(() => new Database(path));
  if (path !== ':memory:') ownerOnly(path);
  sqlite.pragma('journal_mode = WAL');
  if (path !== ':memory:') for (const file of [`${path}-wal`, `${path}-shm`]) ownerOnly(file);
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder });
  return db;
}
