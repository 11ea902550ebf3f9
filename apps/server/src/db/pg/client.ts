import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema';
import type { Db } from '../client';
import { useTables } from '../tables';
import { resolveSuppressionKey } from '../../domain/suppression';
import { PgStore } from './pg-store';

/**
 * PostgreSQL beside SQLite: the schema, its migrations, a way to apply them, and Parley's database on it
 * (openPgStoreDb: the domain over the PgStore, db/pg/pg-store.ts).
 */
export type PgDb = NodePgDatabase<typeof schema> & { $client: pg.Pool };

export const pgMigrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * One key for every Parley process migrating the same database: instances starting together take
 * turns (the second finds nothing left to apply). The value is arbitrary, fixed forever.
 */
const MIGRATION_LOCK_KEY = 0x7061726c; // 'parl'

/**
 * int8 (bigint: ids, ms times, count(*)) as a JS number, as better-sqlite3 gives SQLite's integers, also
 * in raw `sql` results the schema's bigint mode 'number' does not map. Parley's ids and times stay far
 * below 2^53; a value beyond it is left a string rather than rounded.
 */
export function parseInt8(value: string): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

/** numeric (what sum() of integers gives) likewise, when it is a safe integer; other values stay strings. */
export const isNumeric = (oid: number): boolean => oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC;

const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    isNumeric(oid) && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** A pool on `url` (postgres://…), int8 read as numbers (this pool only: pg's global parsers are left alone). */
export function openPgPool(url: string, opts: { max?: number } = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, types: pgTypes });
  // An idle connection the server ends (a restart, a failover, an admin's terminate) errors on the
  // pool: without a listener that would end the process. The pool drops it and opens a new one when
  // needed; a query on a broken connection fails on its own.
  pool.on('error', () => undefined);
  return pool;
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

/**
 * Parley's database on PostgreSQL: migrated, the domain's tables pointed at PostgreSQL's
 * (db/tables.ts), drizzle over the PgStore (ambient transactions, serialised write turns), and the
 * suppression key loaded. The handle has the same type as SQLite's; `$client` is not a SQLite
 * connection here (SQLite-only code must check `$store.dialect`).
 */
export async function openPgStoreDb(url: string, opts: { suppressionSecret?: string | undefined; poolSize?: number } = {}): Promise<Db> {
  await migratePg(url);
  useTables('pg');
  const pool = openPgPool(url, { max: opts.poolSize ?? 10 });
  const store = new PgStore(pool);
  try {
    const db = drizzle({ client: store.client as unknown as pg.Pool, schema }) as unknown as Db;
    db.$store = store;
    store.db = db;
    store.suppressionKey = await resolveSuppressionKey(store, opts.suppressionSecret);
    return db;
  } catch (err) {
    await store.close();
    throw err;
  }
}
