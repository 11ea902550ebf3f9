import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema';

/**
 * PostgreSQL beside SQLite (issue 16, groundwork): the schema, its migrations and a way to apply them.
 * The server does not run on PostgreSQL yet (config.ts still refuses a postgres:// DATABASE_URL): the
 * domain is synchronous over better-sqlite3 today. See docs/notes for the store this is meant to carry.
 */
export type PgDb = NodePgDatabase<typeof schema> & { $client: pg.Pool };

export const pgMigrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * One key for every Parley process migrating the same database: instances starting together take
 * turns (the second finds nothing left to apply). The value is arbitrary, fixed forever.
 */
const MIGRATION_LOCK_KEY = 0x7061726c; // 'parl'

/** A pool on `url` (postgres://…). Int8 columns come back as strings from pg; the schema's bigint mode 'number' reads them as numbers. */
export function openPgPool(url: string, opts: { max?: number } = {}): pg.Pool {
  return new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
}

/** drizzle over a pool. */
export function pgDb(pool: pg.Pool): PgDb {
  return drizzle(pool, { schema });
}

/**
 * Applies the committed PostgreSQL migrations (src/db/pg/migrations) to the database at `url`, under a
 * session advisory lock so that several instances starting at once do not race. Migrations already
 * applied (recorded in drizzle.__drizzle_migrations) are skipped: running it again does nothing.
 */
export async function migratePg(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await migrate(drizzle(client, { schema }), { migrationsFolder: pgMigrationsFolder });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}
