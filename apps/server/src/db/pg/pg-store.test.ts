import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { receiveInboundBatched, type InboundSms } from '../../domain/receive';
import { EventLog } from '../../events/log';
import { beforeAllPg, createMigratedTestPgDatabase, type TestPgDatabase } from '../../testing/pg';
import { raw } from '../../testing/raw';
import type { Db } from '../client';
import { messages } from '../tables';
import { openPgStoreDb } from './client';

/*
 * The PostgreSQL store's transactions where PostgreSQL differs from SQLite: an error, even one the
 * caller caught, aborts the whole transaction, and COMMIT then answers ROLLBACK instead of failing.
 * No caller may hear success for writes that were rolled back.
 */

let database: TestPgDatabase;
let db: Db;

beforeAllPg(async () => {
  database = await createMigratedTestPgDatabase();
  db = await openPgStoreDb(database.url, { poolSize: 3 });
});
afterAll(async () => {
  await db?.$store.close();
  await database?.dispose();
});
afterEach(async () => {
  await raw(db).run('delete from messages');
  await raw(db).run("delete from contacts where phone like '+4477009200%'");
});

let seq = 0;
const inbound = (text: string): InboundSms => {
  seq += 1;
  return {
    messageUuid: `pg-store-${Date.now()}-${seq}`,
    from: '+447700910001',
    to: '+447700900000',
    text,
    timestamp: new Date().toISOString(),
    numMessages: 1,
    price: null,
    currency: null,
  };
};

describe('PgStore transactions', () => {
  it('a statement error caught inside a transaction still fails it: COMMIT would roll back, so tx rejects and nothing is stored', async () => {
    await expect(
      db.$store.tx(async () => {
        await raw(db).run("insert into contacts (phone, created_at) values ('+447700910099', 1)");
        await raw(db)
          .run('select 1 / 0')
          .catch(() => undefined);
      }),
    ).rejects.toThrow('aborted');
    expect(await raw(db).get('select id from contacts where phone = ?', '+447700910099')).toBeUndefined();
    // The connection went back to the pool usable: the next transaction commits.
    await db.$store.tx(async () => await raw(db).run("insert into contacts (phone, created_at) values ('+447700910099', 1)"));
    expect(await raw(db).get('select id from contacts where phone = ?', '+447700910099')).toBeDefined();
  });

  it('savepoints, set lazily: each failed level undoes exactly its own statements, at any depth, whether or not anything ran in it', async () => {
    const add = (phone: string) => raw(db).run('insert into contacts (phone, created_at) values (?, 1)', phone);
    const fail = (msg: string) => {
      throw new Error(msg);
    };
    await db.$store.tx(async () => {
      await add('+447700920001');
      // Nothing ran in it: nothing to undo.
      await expect(db.$store.tx(() => fail('empty level'))).rejects.toThrow('empty level');
      // Succeeds, then a sibling fails after a statement: only the sibling's row goes.
      await db.$store.tx(async () => await add('+447700920002'));
      await expect(
        db.$store.tx(async () => {
          await add('+447700920003');
          fail('sibling');
        }),
      ).rejects.toThrow('sibling');
      // Two levels deep, the inner one succeeded: the outer's failure takes both back.
      await expect(
        db.$store.tx(async () => {
          await db.$store.tx(async () => {
            await db.$store.tx(async () => await add('+447700920004'));
            await add('+447700920005');
          });
          fail('outer');
        }),
      ).rejects.toThrow('outer');
      // An inner failure caught by its level, which then goes on and succeeds.
      await db.$store.tx(async () => {
        await add('+447700920006');
        await expect(
          db.$store.tx(async () => {
            await add('+447700920007');
            await raw(db).run('select 1 / 0');
          }),
        ).rejects.toThrow();
        await add('+447700920008');
      });
      // A statement error rolled back to its level leaves the transaction usable.
      await add('+447700920009');
    });
    const phones = (await raw(db).all<{ phone: string }>("select phone from contacts where phone like '+4477009200%' order by phone")).map(
      (r) => r.phone.slice(-1),
    );
    expect(phones).toEqual(['1', '2', '6', '8', '9']);
  });

  it('group commit: a write that loses the connection mid-batch fails the batch it ran in; the writes after it run again in a new transaction and commit', async () => {
    const log = new EventLog(db);
    const first = receiveInboundBatched({ log, inbound: inbound('before the loss') });
    // The server ends this connection while the batch's transaction is open on it.
    const lost = log.writeBatched(async () => await raw(db).run('select pg_terminate_backend(pg_backend_pid())'));
    const after = ['after 1', 'after 2', 'after 3'].map((text) => receiveInboundBatched({ log, inbound: inbound(text) }));
    const settled = await Promise.allSettled([first, lost, ...after]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(log.batchStats.batches).toBe(2);
    const stored = await db.select({ text: messages.text }).from(messages);
    expect(stored.map((m) => m.text).sort()).toEqual(['after 1', 'after 2', 'after 3']);
    await log.close();
  });
});
