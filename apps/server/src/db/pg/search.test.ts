import { asc } from 'drizzle-orm';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { listConversations } from '../../domain/conversation';
import { beforeAllPg, createTestPgDatabase, type TestPgDatabase } from '../../testing/pg';
import { openTempDb, type TempDb } from '../../testing/temp-db';
import * as lite from '../schema';
import { migratePg, openPgPool, pgDb, type PgDb } from './client';
import * as pgs from './schema';
import { pgMessageTextCondition } from './search';

/*
 * Inbox search by message text: SQLite answers from its trigram FTS5 table (three characters or more)
 * or LIKE (shorter); PostgreSQL from ILIKE over the pg_trgm GIN index. Same messages, same queries:
 * the same conversations.
 */

let database: TestPgDatabase;
let pool: pg.Pool;
let pgdb: PgDb;
let sqlite: TempDb;

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

/** One conversation per text (contacts without names, so only message texts can match). */
const TEXTS = [
  'Crème brûlée for dessert?',
  'ÉCOLE fermée demain',
  'Привет, мир! Как дела?',
  'Καλημέρα από την Ελλάδα',
  '東京タワーで会いましょう',
  'Party tonight 🎉🎉 bring snacks',
  'Die Straße ist gesperrt',
  'I am 100% sure_thing',
  'path C:\\temp\\file',
  'Order ABC-123 shipped',
  'abc lower case',
  'Nothing to see here',
];

/** Queries of three characters or more (the index) and shorter ones (a scan on both stores), with the conversations they must find (1-based). */
const QUERIES: [string, number[]][] = [
  ['crème', [1]],
  ['CRÈME BRÛ', [1]],
  ['école', [2]],
  ['привет', [3]],
  ['МИР', [3]],
  ['ΚΑΛΗΜΈΡΑ', [4]],
  ['タワー', [5]],
  ['東京', [5]],
  ['🎉', [6]],
  ['🎉🎉 b', [6]],
  ['straße', [7]],
  ['100%', [8]],
  ['_thing', [8]],
  ['e_t', [8]],
  ['e%t', []],
  ['%', [8]],
  ['\\temp\\', [9]],
  ['abc', [10, 11]],
  ['Ab', [10, 11]],
  ['c-1', [10]],
  ['zzz', []],
];

beforeAllPg(async () => {
  database = await createTestPgDatabase();
  await migratePg(database.url);
  pool = openPgPool(database.url, { max: 2 });
  pgdb = pgDb(pool);
  sqlite = openTempDb('parley-search-parity-');
  const contacts = TEXTS.map((_, i) => ({ id: i + 1, phone: `+4477009001${String(i).padStart(2, '0')}`, createdAt: T0 }));
  const conversations = TEXTS.map((_, i) => ({
    id: i + 1,
    contactId: i + 1,
    ourNumber: '+447700900000',
    createdAt: T0,
    lastMessageAt: T0 + i,
  }));
  const messages = TEXTS.flatMap((text, i) =>
    [text, 'ok thanks'].map((t, j) => ({
      conversationId: i + 1,
      direction: 'in' as const,
      from: `+4477009001${String(i).padStart(2, '0')}`,
      to: '+447700900000',
      text: t,
      encoding: 'ucs2' as const,
      segments: 1,
      status: 'received',
      statusAt: T0 + i,
      createdAt: T0 + i + j,
    })),
  );
  await sqlite.db.insert(lite.contacts).values(contacts);
  await sqlite.db.insert(lite.conversations).values(conversations);
  await sqlite.db.insert(lite.messages).values(messages);
  await pgdb.insert(pgs.contacts).values(contacts);
  await pgdb.insert(pgs.conversations).values(conversations);
  await pgdb.insert(pgs.messages).values(messages);
});

afterAll(async () => {
  await sqlite?.dispose();
  await pool?.end();
  await database?.dispose();
});

const onSqlite = async (q: string) =>
  (await listConversations({ db: sqlite.db, agentId: 1, filter: 'all', search: q, limit: 100 })).items
    .map((c) => c.id)
    .sort((a, b) => a - b);

const onPg = async (q: string) =>
  (
    await pgdb
      .select({ id: pgs.conversations.id })
      .from(pgs.conversations)
      .where(pgMessageTextCondition(q))
      .orderBy(asc(pgs.conversations.id))
  ).map((r) => r.id);

describe('message search', () => {
  it('finds the same conversations on PostgreSQL (pg_trgm) as on SQLite (trigram FTS)', async () => {
    for (const [q, expected] of QUERIES) {
      expect({ q, sqlite: await onSqlite(q) }).toEqual({ q, sqlite: expected });
      expect({ q, pg: await onPg(q) }).toEqual({ q, pg: expected });
    }
  });

  it('answers a three-character search from the trigram index on PostgreSQL', async () => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      // A dozen rows would be scanned; with scans priced out the plan shows whether the index can serve ILIKE.
      await client.query('set local enable_seqscan = off');
      const plan = await client.query<{ 'QUERY PLAN': string }>(`explain select id from messages where text ilike '%crème%'`);
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('messages_text_trgm_idx');
      await client.query('rollback');
    } finally {
      client.release();
    }
  });
});
