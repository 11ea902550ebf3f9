import { mkdtempSync, rmSync } from 'node:fs';
import { it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../db/client';
import { openPgStoreDb } from '../db/pg/client';
import { EventLog } from '../events/log';
import { createMigratedTestPgDatabase } from './pg';

export interface TempDb {
  dir: string;
  path: string;
  db: Db;
  log: EventLog;
  dispose(): Promise<void>;
}

/**
 * The store the dialect-neutral suites run on: SQLite unless `PARLEY_TEST_DB=pg` (then PostgreSQL:
 * PARLEY_TEST_PG_URL, else a throwaway cluster of this machine's PostgreSQL, testing/pg.ts).
 */
export const TEST_DB: 'sqlite' | 'pg' = process.env.PARLEY_TEST_DB === 'pg' ? 'pg' : 'sqlite';

/**
 * A test of SQLite itself (its files, locks, pragmas, WAL): runs on the SQLite run, and is reported
 * skipped on the PostgreSQL one (`PARLEY_TEST_DB=pg`), which has its own tests for the same concerns.
 */
export const itSqlite = it.runIf(TEST_DB === 'sqlite');

/** A migrated SQLite database in a fresh temp directory, with its event log; dispose() closes and removes it. */
export function openTempDb(prefix = 'parley-db-'): TempDb {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, 'test.db');
  const db = openDb(path);
  const log = new EventLog(db);
  return {
    dir,
    path,
    db,
    log,
    async dispose() {
      await log.close();
      await db.$store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh migrated database on the store under test (TEST_DB), with its event log. */
export async function openTestDb(prefix = 'parley-db-'): Promise<TempDb> {
  if (TEST_DB === 'sqlite') return openTempDb(prefix);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const database = await createMigratedTestPgDatabase();
  const db = await openPgStoreDb(database.url, { poolSize: 4 });
  const log = new EventLog(db);
  await log.startTail();
  return {
    dir,
    path: database.url,
    db,
    log,
    async dispose() {
      await log.close();
      await db.$store.close();
      await database.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
