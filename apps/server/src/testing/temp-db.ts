import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../db/client';
import { EventLog } from '../events/log';

export interface TempDb {
  dir: string;
  path: string;
  db: Db;
  log: EventLog;
  dispose(): Promise<void>;
}

/** A migrated database in a fresh temp directory, with its event log; dispose() closes and removes it. */
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
