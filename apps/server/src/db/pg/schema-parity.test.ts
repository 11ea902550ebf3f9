import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { beforeAllPg, createTestPgDatabase, type TestPgDatabase } from '../../testing/pg';
import { pgConventionBreaches, pgShape, sqliteShape } from '../../testing/schema-shape';
import { openTempDb, type TempDb } from '../../testing/temp-db';
import { migratePg, openPgPool } from './client';

/*
 * The two stores' schemas must stay the same. A change to src/db/schema.ts (SQLite) fails here until
 * src/db/pg/schema.ts follows (and `pnpm db:generate:pg` made its migration), and the other way round.
 */

let database: TestPgDatabase;
let pool: pg.Pool;
let sqlite: TempDb;

beforeAllPg(async () => {
  database = await createTestPgDatabase();
  await migratePg(database.url);
  pool = openPgPool(database.url, { max: 2 });
  sqlite = openTempDb('parley-parity-');
});

afterAll(async () => {
  await sqlite?.dispose();
  await pool?.end();
  await database?.dispose();
});

describe('SQLite and PostgreSQL schemas', () => {
  it('have the same tables, columns, nullability, defaults, keys, indexes and foreign keys', async () => {
    const fromSqlite = sqliteShape(sqlite.db.$client);
    const fromPg = await pgShape(pool);
    // Sanity: the comparison sees what it should (not two empty objects).
    expect(Object.keys(fromSqlite).length).toBeGreaterThan(30);
    expect(fromSqlite.messages?.indexes.map((i) => i.name)).toContain('messages_retry_of_uq');
    expect(fromSqlite.webhook_deliveries?.foreignKeys).toEqual([
      { column: 'endpoint_id', references: 'webhook_endpoints.id', onDelete: 'cascade' },
    ]);
    expect(fromSqlite.contacts?.indexes).toEqual([{ name: 'contacts_phone_unique', columns: ['phone'], unique: true, where: null }]);
    expect(Object.keys(fromPg)).toEqual(Object.keys(fromSqlite));
    for (const table of Object.keys(fromSqlite)) expect({ table, ...fromPg[table] }).toEqual({ table, ...fromSqlite[table] });
  });

  it('keep the conventions on PostgreSQL: ids, references and ms times are bigint', async () => {
    expect(await pgConventionBreaches(pool)).toEqual([]);
  });

  it('tell a drift on either side (the comparison can fail)', async () => {
    const before = await pgShape(pool);
    await pool.query('alter table contacts add column nickname text');
    await pool.query('create index contacts_name_idx on contacts (name)');
    const drifted = await pgShape(pool);
    expect(drifted.contacts).not.toEqual(before.contacts);
    expect(drifted.contacts?.columns.map((c) => c.name)).toContain('nickname');
    await pool.query('drop index contacts_name_idx');
    await pool.query('alter table contacts drop column nickname');
    expect(await pgShape(pool)).toEqual(before);

    const sqliteBefore = sqliteShape(sqlite.db.$client);
    sqlite.db.$client.exec(`create index notes_agent_idx on notes (agent_id) where agent_id > 0`);
    expect(sqliteShape(sqlite.db.$client).notes).not.toEqual(sqliteBefore.notes);
    sqlite.db.$client.exec('drop index notes_agent_idx');

    await pool.query('alter table outbox alter column attempts drop not null');
    expect((await pgShape(pool)).outbox).not.toEqual(sqliteBefore.outbox);
    await pool.query('alter table outbox alter column attempts set not null');
    expect((await pgShape(pool)).outbox).toEqual(sqliteBefore.outbox);
  });
});
