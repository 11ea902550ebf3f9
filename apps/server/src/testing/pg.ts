import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, beforeEach, inject } from 'vitest';
import { PG_MISSING_HELP, runDatabasePrefix, sharedCluster, stopCluster } from './pg-cluster';
import { migratePg, pgMigrationsFolder } from '../db/pg/client';

/**
 * PostgreSQL for tests. `PARLEY_TEST_PG_URL` (a postgres://… URL of a role that may create databases)
 * when set; otherwise a throwaway cluster of this machine's PostgreSQL (initdb + pg_ctl into a temp dir,
 * on a free loopback port, password auth), started by the first test file that asks for it and stopped
 * when the run ends (pg-global-setup.ts). Each test file gets a database of its own.
 *
 * Without PostgreSQL the tests that use it fail, saying how to get it: they are never skipped.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the run's throwaway cluster lives once a test file starts it (pg-global-setup.ts). */
    parleyPgStateDir: string;
    /** This run's tag, in the name of every test database it creates (its teardown drops them). */
    parleyPgRun: string;
  }
}

export interface TestPgDatabase {
  /** postgres://… of a fresh, empty database (UTF-8, C.UTF-8 locale where the server has it). */
  url: string;
  /** Drops the database (its connections first): call after closing your own pools. */
  dispose(): Promise<void>;
}

let ownStateDir: string | undefined;

/** What pg-global-setup.ts provided, or undefined outside vitest's global setup. */
function provided<K extends 'parleyPgStateDir' | 'parleyPgRun'>(key: K): string | undefined {
  try {
    return inject(key);
  } catch {
    return undefined;
  }
}

/** The run's state directory: from pg-global-setup.ts, or (outside vitest's global setup) one of this process's, removed at exit. */
function stateDirOfRun(): string {
  const dir = provided('parleyPgStateDir');
  if (dir) return dir;
  if (!ownStateDir) {
    const created = mkdtempSync(join(tmpdir(), 'parley-pg-'));
    ownStateDir = created;
    process.once('exit', () => stopCluster(created));
  }
  return ownStateDir;
}

/** The names this run's test databases start with (the run's tag from pg-global-setup.ts, else this process's id). */
function databasePrefix(): string {
  return runDatabasePrefix(provided('parleyPgRun') ?? `p${process.pid}`);
}

/** A URL for the server's administrative connection (a role that may create databases). */
async function adminUrl(): Promise<string> {
  const external = process.env.PARLEY_TEST_PG_URL;
  if (external) return external;
  return (await sharedCluster(stateDirOfRun())).url;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`Cannot connect to the test PostgreSQL (${new URL(url).host}): ${(err as Error).message}. ${PG_MISSING_HELP}`);
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function createDatabase(client: pg.Client, name: string, template = 'template0'): Promise<void> {
  try {
    await client.query(`create database "${name}" template ${template} encoding 'UTF8' lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'`);
  } catch (err) {
    if (template !== 'template0') throw err;
    // A server without the C.UTF-8 locale: its default locale.
    await client.query(`create database "${name}" template template0 encoding 'UTF8'`);
  }
}

/** A fresh empty database for one test file (call in beforeAll, dispose in afterAll). */
export async function createTestPgDatabase(): Promise<TestPgDatabase> {
  const admin = await adminUrl();
  const name = `${databasePrefix()}${randomBytes(4).toString('hex')}`;
  await withAdmin(admin, (client) => createDatabase(client, name));
  return {
    url: withDatabase(admin, name),
    async dispose() {
      await withAdmin(admin, (client) => client.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

/** The migrated template of this run's Parley databases (its name names the migrations it holds). */
let template: Promise<string> | undefined;

async function migratedTemplate(admin: string): Promise<string> {
  const files = readdirSync(pgMigrationsFolder)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const digest = createHash('sha256');
  for (const f of files) digest.update(f).update(readFileSync(join(pgMigrationsFolder, f)));
  const name = `parley_template_${digest.digest('hex').slice(0, 12)}`;
  await withAdmin(admin, async (client) => {
    // One test worker builds it; the others wait on the lock and find it there.
    await client.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
      if (rowCount) return;
      const building = `${name}_building_${process.pid}`;
      await createDatabase(client, building);
      await migratePg(withDatabase(admin, building));
      await client.query(`alter database "${building}" rename to "${name}"`);
    } finally {
      await client.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
    }
  });
  return name;
}
const TEMPLATE_LOCK_KEY = 0x7074706c; // 'ptpl'

/**
 * A fresh database with Parley's migrations applied, copied from a template built once per run (a
 * copy takes milliseconds; migrating each one would take the suite minutes).
 */
export async function createMigratedTestPgDatabase(): Promise<TestPgDatabase> {
  const admin = await adminUrl();
  template ??= migratedTemplate(admin);
  const from = await template;
  const name = `${databasePrefix()}${randomBytes(4).toString('hex')}`;
  await withAdmin(admin, (client) => createDatabase(client, name, `"${from}"`));
  return {
    url: withDatabase(admin, name),
    async dispose() {
      await withAdmin(admin, (client) => client.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

/**
 * beforeAll for a file's PostgreSQL setup that fails every test of the file (not just the hook: vitest
 * would report the tests as skipped) when PostgreSQL cannot be had, with the message saying how to get it.
 */
export function beforeAllPg(setup: () => Promise<void>, timeoutMs = 120_000): void {
  let error: unknown;
  beforeAll(async () => {
    try {
      await setup();
    } catch (err) {
      error = err;
    }
  }, timeoutMs);
  beforeEach(() => {
    if (error) throw error;
  });
}
