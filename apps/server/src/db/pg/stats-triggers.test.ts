import { asc, eq } from 'drizzle-orm';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { beforeAllPg, createTestPgDatabase, type TestPgDatabase } from '../../testing/pg';
import { openTempDb, type TempDb } from '../../testing/temp-db';
import * as lite from '../schema';
import { migratePg, openPgPool, pgDb, type PgDb } from './client';
import * as pgs from './schema';

/*
 * The stats rollups are kept by triggers on both stores (SQLite migration 0012, PostgreSQL 0001): the
 * same messages, inserted and then moved through the same status, time and error changes, must leave
 * the same rows in all four rollup tables.
 */

let database: TestPgDatabase;
let pool: pg.Pool;
let pgdb: PgDb;
let sqlite: TempDb;

beforeAllPg(async () => {
  database = await createTestPgDatabase();
  await migratePg(database.url);
  pool = openPgPool(database.url, { max: 2 });
  pgdb = pgDb(pool);
  sqlite = openTempDb('parley-stats-parity-');
});

afterAll(async () => {
  await sqlite?.dispose();
  await pool?.end();
  await database?.dispose();
});

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES = ['queued', 'submitted', 'delivered', 'read', 'rejected', 'undeliverable', 'failed', 'received', 'scheduled'] as const;
const CODES = [null, '1320', '1360', 'E42'] as const;
const REASONS = [null, 'Unreachable', '', 'Blocked by carrier'] as const;
const T0 = Date.UTC(2026, 10, 30, 21, 0, 0);

type Row = typeof lite.messages.$inferInsert;
type Patch = Partial<Pick<Row, 'status' | 'statusAt' | 'errorCode' | 'errorReason' | 'errorTitle'>>;

/** Delivery times around every bucket's rounding edge (10^((b + 0.5) / 100) ms and its neighbours), plus 0 and negative ones. */
function edgeDeltas(): number[] {
  const out = [0, -5, 1, 2];
  for (let b = 0; b <= 800; b++) {
    const edge = Math.round(10 ** ((b + 0.5) / 100));
    out.push(edge - 1, edge, edge + 1);
  }
  return out;
}

function fixtures(): { rows: Row[]; patches: [number, Patch][] } {
  const next = random(16);
  const pick = <T>(list: readonly [T, ...T[]]): T => list[Math.floor(next() * list.length)] ?? list[0];
  const rows: Row[] = [];
  const deltas = edgeDeltas();
  const base = (id: number, createdAt: number, direction: 'in' | 'out', status: string, statusAt: number): Row => ({
    id,
    conversationId: 1,
    direction,
    from: '+447700900001',
    to: '+447700900000',
    text: `m${id}`,
    encoding: 'gsm7',
    segments: 1,
    status,
    statusAt,
    createdAt,
    errorCode: null,
    errorReason: null,
    errorTitle: null,
  });
  // Delivered at every bucket edge.
  deltas.forEach((d, i) => {
    const createdAt = T0 + i * 97_003; // spread over ~3 days, across hour and day boundaries
    rows.push(base(rows.length + 1, createdAt, 'out', i % 2 ? 'delivered' : 'read', createdAt + d));
  });
  // A random mix of directions, statuses and errors.
  for (let i = 0; i < 800; i++) {
    const createdAt = T0 + Math.floor(next() * 4 * 86_400_000);
    const status = pick(STATUSES);
    const row = base(rows.length + 1, createdAt, next() < 0.7 ? 'out' : 'in', status, createdAt + Math.floor(next() * 10 ** (next() * 8)));
    row.errorCode = pick(CODES);
    row.errorReason = pick(REASONS);
    row.errorTitle = next() < 0.5 ? null : 'Title';
    rows.push(row);
  }
  // Status, time and error changes, including no-op updates and moves back and forth.
  const patches: [number, Patch][] = [];
  for (let i = 0; i < 1200; i++) {
    const id = 1 + Math.floor(next() * rows.length);
    const kind = next();
    const row = rows[id - 1];
    if (!row) throw new Error(`no row ${id}`);
    if (kind < 0.5) patches.push([id, { status: pick(STATUSES), statusAt: row.createdAt + Math.floor(next() * 10 ** (next() * 7)) }]);
    else if (kind < 0.65) patches.push([id, { statusAt: row.createdAt + Math.floor(next() * 10 ** (next() * 7)) }]);
    else if (kind < 0.8)
      patches.push([id, { errorCode: pick(CODES), errorReason: pick(REASONS), errorTitle: next() < 0.5 ? null : 'Other' }]);
    else if (kind < 0.9) patches.push([id, { status: row.status }]);
    else patches.push([id, { status: pick(STATUSES) }]);
  }
  return { rows, patches };
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

async function rollupsOfPg() {
  return {
    hourly: await pgdb
      .select()
      .from(pgs.statsHourly)
      .orderBy(asc(pgs.statsHourly.hour), asc(pgs.statsHourly.direction), asc(pgs.statsHourly.status)),
    deliveryDaily: await pgdb
      .select()
      .from(pgs.statsDeliveryDaily)
      .orderBy(asc(pgs.statsDeliveryDaily.day), asc(pgs.statsDeliveryDaily.bucket)),
    deliveryHourly: await pgdb
      .select()
      .from(pgs.statsDeliveryHourly)
      .orderBy(asc(pgs.statsDeliveryHourly.hour), asc(pgs.statsDeliveryHourly.bucket)),
    failures: await pgdb
      .select()
      .from(pgs.statsFailuresHourly)
      .orderBy(asc(pgs.statsFailuresHourly.hour), asc(pgs.statsFailuresHourly.code), asc(pgs.statsFailuresHourly.reason)),
  };
}

async function rollupsOfSqlite() {
  const db = sqlite.db;
  return {
    hourly: await db
      .select()
      .from(lite.statsHourly)
      .orderBy(asc(lite.statsHourly.hour), asc(lite.statsHourly.direction), asc(lite.statsHourly.status)),
    deliveryDaily: await db
      .select()
      .from(lite.statsDeliveryDaily)
      .orderBy(asc(lite.statsDeliveryDaily.day), asc(lite.statsDeliveryDaily.bucket)),
    deliveryHourly: await db
      .select()
      .from(lite.statsDeliveryHourly)
      .orderBy(asc(lite.statsDeliveryHourly.hour), asc(lite.statsDeliveryHourly.bucket)),
    failures: await db
      .select()
      .from(lite.statsFailuresHourly)
      .orderBy(asc(lite.statsFailuresHourly.hour), asc(lite.statsFailuresHourly.code), asc(lite.statsFailuresHourly.reason)),
  };
}

describe('stats rollup triggers', () => {
  it('give the same rollup rows on PostgreSQL as on SQLite for the same inserts, changes and deletes', async () => {
    const { rows, patches } = fixtures();
    const contact = { id: 1, phone: '+447700900001', createdAt: T0 };
    const conversation = { id: 1, contactId: 1, ourNumber: '+447700900000', createdAt: T0 };
    await sqlite.db.insert(lite.contacts).values(contact);
    await sqlite.db.insert(lite.conversations).values(conversation);
    await pgdb.insert(pgs.contacts).values(contact);
    await pgdb.insert(pgs.conversations).values(conversation);

    await sqlite.db.transaction(async (tx) => {
      for (const part of chunks(rows, 500)) await tx.insert(lite.messages).values(part);
    });
    for (const part of chunks(rows, 500)) await pgdb.insert(pgs.messages).values(part);
    const afterInserts = await rollupsOfSqlite();
    expect(afterInserts.deliveryDaily.length).toBeGreaterThan(500); // every bucket edge is there
    expect(await rollupsOfPg()).toEqual(afterInserts);

    await sqlite.db.transaction(async (tx) => {
      for (const [id, patch] of patches) await tx.update(lite.messages).set(patch).where(eq(lite.messages.id, id));
    });
    await pgdb.transaction(async (tx) => {
      for (const [id, patch] of patches) await tx.update(pgs.messages).set(patch).where(eq(pgs.messages.id, id));
    });
    const afterChanges = await rollupsOfSqlite();
    expect(afterChanges).not.toEqual(afterInserts);
    expect(afterChanges.hourly.some((r) => r.n === 0)).toBe(true); // counts moved out of some rows entirely
    expect(afterChanges.failures.length).toBeGreaterThan(10);
    expect(await rollupsOfPg()).toEqual(afterChanges);

    // Deletes subtract nothing on either store.
    await sqlite.db.delete(lite.messages);
    await pgdb.delete(pgs.messages);
    expect(await rollupsOfSqlite()).toEqual(afterChanges);
    expect(await rollupsOfPg()).toEqual(afterChanges);
  });
});
