import { readdirSync } from 'node:fs';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { beforeAllPg, createTestPgDatabase, type TestPgDatabase } from '../../testing/pg';
import { migratePg, openPgPool, pgDb, pgMigrationsFolder } from './client';
import { contacts, conversations } from './schema';

let database: TestPgDatabase;
let pool: pg.Pool;

beforeAllPg(async () => {
  database = await createTestPgDatabase();
  pool = openPgPool(database.url, { max: 2 });
});

afterAll(async () => {
  await pool?.end();
  await database?.dispose();
});

const tables = async () =>
  (
    await pool.query<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = 'public' order by 1`)
  ).rows.map((r) => r.table_name);

describe('PostgreSQL migrations', () => {
  it('apply to an empty database, then again without change; two at once take turns', async () => {
    expect(await tables()).toEqual([]);
    await migratePg(database.url);
    const after = await tables();
    expect(after).toContain('messages');
    expect(after).toContain('stats_hourly');
    const applied = await pool.query<{ n: number }>('select count(*) as n from drizzle.__drizzle_migrations');
    // count(*) is int8: a number, as on SQLite (openPgPool's parser), not pg's default string.
    expect(applied.rows[0]?.n).toBe(readdirSync(pgMigrationsFolder).filter((f) => f.endsWith('.sql')).length);

    // Again, and twice concurrently (instances starting together): nothing more is applied, nothing fails.
    await migratePg(database.url);
    await Promise.all([migratePg(database.url), migratePg(database.url)]);
    expect(await tables()).toEqual(after);
    const again = await pool.query<{ n: number }>('select count(*) as n from drizzle.__drizzle_migrations');
    expect(again.rows[0]?.n).toBe(applied.rows[0]?.n);
    const triggers = await pool.query<{ trigger_name: string }>(
      `select distinct trigger_name from information_schema.triggers where event_object_table = 'messages' order by 1`,
    );
    expect(triggers.rows.map((r) => r.trigger_name)).toEqual([
      'stats_messages_ai',
      'stats_messages_au_delivery',
      'stats_messages_au_failures',
      'stats_messages_au_status',
    ]);
  });

  it('keeps the id and time conventions: 64-bit ids from an identity, ms times read back as numbers', async () => {
    const db = pgDb(pool);
    const big = Date.UTC(2026, 0, 1) * 1000; // beyond 32 bits by far, still a safe integer
    const [contact] = await db.insert(contacts).values({ phone: '+447700900001', createdAt: big }).returning();
    expect(contact).toMatchObject({ id: 1, createdAt: big });
    expect(typeof contact?.createdAt).toBe('number');
    // A given id is kept (as on SQLite).
    if (!contact) throw new Error('no contact returned');
    const [given] = await db
      .insert(conversations)
      .values({ id: 2 ** 40, contactId: contact.id, ourNumber: '+447700900000', createdAt: big })
      .returning();
    expect(given).toMatchObject({ id: 2 ** 40, status: 'open', unreadCount: 0 });
  });
});
