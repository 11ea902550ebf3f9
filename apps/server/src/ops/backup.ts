/**
 * An online backup of the SQLite database: `VACUUM INTO` a temporary file beside the destination,
 * then rename it into place. It reads one consistent snapshot (a read transaction in WAL mode), so
 * Parley keeps answering webhooks and sending while it runs, and the copy holds exactly what had
 * committed when it began — never half a transaction. The rename makes the destination appear
 * whole or not at all.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import Database from 'better-sqlite3';

export interface BackupResult {
  path: string;
  bytes: number;
  /** Rows of the main tables in the copy (a quick look that it holds what you expect). */
  counts: { messages: number; conversations: number; events: number };
}

export function backupDatabase(sourcePath: string, destPath: string): BackupResult {
  if (sourcePath === ':memory:') throw new Error('DATABASE_URL is in memory: there is nothing on disk to back up');
  if (!existsSync(sourcePath)) throw new Error(`no database at ${sourcePath} (DATABASE_URL)`);
  if (existsSync(destPath)) throw new Error(`${destPath} exists already: name a new file (a backup never overwrites)`);
  const temp = join(dirname(destPath), `.${basename(destPath)}.${process.pid}.partial`);
  const source = new Database(sourcePath, { readonly: true, fileMustExist: true });
  try {
    source.pragma('busy_timeout = 5000');
    source.prepare('VACUUM INTO ?').run(temp);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  } finally {
    source.close();
  }
  renameSync(temp, destPath);
  const copy = new Database(destPath, { readonly: true, fileMustExist: true });
  try {
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`the copy at ${destPath} failed its integrity check: ${String(check)}`);
    const count = (table: string) => (copy.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
    const counts = { messages: count('messages'), conversations: count('conversations'), events: count('events') };
    const bytes = (copy.prepare('select page_count * page_size as b from pragma_page_count(), pragma_page_size()').get() as { b: number })
      .b;
    return { path: destPath, bytes, counts };
  } finally {
    copy.close();
  }
}
