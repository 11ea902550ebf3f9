/**
 * `pnpm backup <file>`: an online backup of the database DATABASE_URL names (see backup.ts).
 * The file is resolved against the directory the command was run from.
 */
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '../config';
import { backupDatabase } from './backup';

function main(): void {
  const dest = process.argv[2];
  if (!dest || dest.startsWith('-')) {
    console.error('usage: pnpm backup <file>   (an online copy of the database DATABASE_URL names; never overwrites)');
    process.exit(2);
  }
  let databasePath: string;
  try {
    const config = loadConfig(process.env);
    if (config.databaseUrl) {
      console.error('DATABASE_URL is PostgreSQL: back it up with pg_dump -Fc (README, Operations: backups)');
      process.exit(2);
    }
    databasePath = config.databasePath;
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : String(err));
    process.exit(1);
  }
  const where = resolve(process.env.INIT_CWD ?? process.cwd(), dest);
  try {
    const r = backupDatabase(databasePath, where);
    console.log(
      `backed up ${databasePath} to ${r.path}: ${(r.bytes / 1024 / 1024).toFixed(1)} MB, ` +
        `${r.counts.conversations} conversations, ${r.counts.messages} messages, ${r.counts.events} events; integrity ok`,
    );
  } catch (err) {
    console.error(`backup failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

main();
