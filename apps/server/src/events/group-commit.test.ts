/**
 * Group commit at the event log: writes queued in one turn of the event loop commit in one
 * transaction, each in its own savepoint; events are published after commit, in id order; a write
 * that throws rolls back alone; the first write on an idle log waits for no timer.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ParleyEvent } from '@parley/shared';
import { messages } from '../db/tables';
import { isDbBusy } from '../db/client';
import { receiveInbound, receiveInboundBatched, type InboundSms } from '../domain/receive';
import { itSqlite, openTestDb, TEST_DB, type TempDb } from '../testing/temp-db';
import { raw } from '../testing/raw';
import { holdWriteLock } from '../testing/db-lock';
import { EventLog } from './log';

let t: TempDb;
beforeEach(async () => {
  t = await openTestDb('parley-group-');
});
afterEach(async () => await t.dispose());

let seq = 0;
const inbound = (over: Partial<InboundSms> = {}): InboundSms => {
  seq += 1;
  return {
    messageUuid: `gc-${Date.now()}-${seq}`,
    from: `+4477009${String(10_000 + (seq % 7)).padStart(5, '0')}`,
    to: '+447700900000',
    text: `hello ${seq}`,
    timestamp: new Date().toISOString(),
    numMessages: 1,
    price: null,
    currency: null,
    ...over,
  };
};

/** Everything published, batch by batch, from now on. */
function listen(log: EventLog): { batches: ParleyEvent[][]; stop(): void } {
  const batches: ParleyEvent[][] = [];
  const controller = new AbortController();
  // subscribe() yields one event at a time: regroup by the synchronous run that delivered them.
  const iter = log.subscribe(null, controller.signal);
  let current: ParleyEvent[] | null = null;
  void (async () => {
    for await (const e of iter) {
      if (!current) {
        current = [];
        batches.push(current);
        setImmediate(() => (current = null));
      }
      current.push(e);
    }
  })();
  return { batches, stop: () => controller.abort() };
}

const messageCount = (t: TempDb) => t.db.$count(messages);

describe('EventLog.writeBatched', () => {
  it('commits writes queued in one turn together, answers each with its own result, and publishes once in id order', async () => {
    const seen: ParleyEvent[] = [];
    const controller = new AbortController();
    const following = (async () => {
      for await (const e of t.log.subscribe(null, controller.signal)) {
        seen.push(e);
        if (seen.length === 20) return;
      }
    })();
    await new Promise((r) => setImmediate(r));
    const before = t.log.batchStats;
    const results = await Promise.all(
      Array.from({ length: 10 }, async () => await receiveInboundBatched({ log: t.log, inbound: inbound() })),
    );
    const after = t.log.batchStats;
    expect(after.batches - before.batches).toBe(1);
    expect(after.items - before.items).toBe(10);
    expect(results.every((r) => !r.duplicate)).toBe(true);
    await following;
    controller.abort();
    const ids = seen.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(20);
    expect(seen.filter((e) => e.type === 'message.created')).toHaveLength(10);
    expect(await messageCount(t)).toBe(10);
  });

  it('a write that throws fails only its own caller; the rest of its batch commits and nothing of it is published', async () => {
    const heard = listen(t.log);
    await new Promise((r) => setImmediate(r));
    const good1 = receiveInboundBatched({ log: t.log, inbound: inbound({ text: 'first' }) });
    // Throws after its domain write appended events: the savepoint takes both back.
    const poison = t.log.writeBatched(async () => {
      await receiveInbound({ log: t.log, inbound: inbound({ text: 'poison' }) });
      throw new Error('poisoned item');
    });
    const good2 = receiveInboundBatched({ log: t.log, inbound: inbound({ text: 'last' }) });
    const settled = await Promise.allSettled([good1, poison, good2]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(settled[1]?.status === 'rejected' && (settled[1].reason as Error).message).toBe('poisoned item');
    expect(t.log.batchStats).toMatchObject({ batches: 1, items: 3, failedItems: 1 });
    const texts = await raw(t.db).all<{ text: string }>('select text from messages order by id');
    expect(texts.map((r) => r.text)).toEqual(['first', 'last']);
    await new Promise((r) => setTimeout(r, 20));
    heard.stop();
    expect(heard.batches).toHaveLength(1);
    const published = heard.batches.flat();
    expect(
      published.filter((e) => e.type === 'message.created').map((e) => (e.payload as { message: { text: string } }).message.text),
    ).toEqual(['first', 'last']);
    // The ids the rolled-back item used are reused by the next one: still strictly increasing, no gap published.
    const ids = published.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect((await t.log.readAfter(0)).map((e) => e.id)).toEqual(ids);
  });

  it('the same message twice in one batch is stored once: the second is a duplicate', async () => {
    const sms = inbound();
    const [a, b] = await Promise.all([
      receiveInboundBatched({ log: t.log, inbound: sms }),
      receiveInboundBatched({ log: t.log, inbound: sms }),
    ]);
    expect(t.log.batchStats.batches).toBe(1);
    expect(a?.duplicate).toBe(false);
    expect(b?.duplicate).toBe(true);
    expect(await messageCount(t)).toBe(1);
  });

  it('a lone write waits for no timer: committed within one turn of the event loop with every timer frozen', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    try {
      let done = false;
      const p = receiveInboundBatched({ log: t.log, inbound: inbound() }).then((r) => {
        done = true;
        return r;
      });
      if (TEST_DB === 'sqlite') {
        // setImmediate is not faked: the flush scheduled first runs first, then its resolution, then this.
        await new Promise((r) => setImmediate(r));
        expect(done).toBe(true);
      }
      // PostgreSQL answers over the network, after more than one turn, but no timer is waited for either.
      expect((await p).duplicate).toBe(false);
      expect(t.log.batchStats).toMatchObject({ batches: 1, items: 1 });
    } finally {
      vi.useRealTimers();
    }
  });

  it('bounds a batch: more than maxBatch queued at once commit in several transactions, all of them', async () => {
    const log = new EventLog(t.db, { maxBatch: 4 });
    const results = await Promise.all(Array.from({ length: 10 }, async () => await receiveInboundBatched({ log, inbound: inbound() })));
    expect(results).toHaveLength(10);
    expect(log.batchStats).toMatchObject({ batches: 3, items: 10, largest: 4 });
    expect(await messageCount(t)).toBe(10);
    await log.close();
  });

  it('a write inside a write is a savepoint: its events are published with the outer one, after the outer commit', async () => {
    const heard = listen(t.log);
    await new Promise((r) => setImmediate(r));
    await expect(
      t.log.write(async () => {
        await receiveInbound({ log: t.log, inbound: inbound() });
        throw new Error('outer fails after the inner returned');
      }),
    ).rejects.toThrow('outer fails');
    expect(await t.log.readAfter(0)).toHaveLength(0);
    const inner: number[] = [];
    await t.log.write(async (_tx, append) => {
      await receiveInbound({ log: t.log, inbound: inbound() });
      // Not yet published: the outer write is still open.
      inner.push(...heard.batches.flat().map((e) => e.id));
      append({ type: 'settings.updated', payload: { settings: {} as never } });
    });
    await new Promise((r) => setTimeout(r, 20));
    heard.stop();
    expect(inner).toEqual([]);
    expect(heard.batches).toHaveLength(1);
    expect(heard.batches[0]?.map((e) => e.type)).toEqual(['message.created', 'conversation.updated', 'settings.updated']);
  });

  itSqlite(
    'another process holding the write lock: every write of the batch rejects busy (nothing stored); the next batch commits',
    async () => {
      const busyLog = new EventLog(t.db);
      t.db.$client.pragma('busy_timeout = 0');
      const lock = await holdWriteLock(t.path, 400);
      const during = await Promise.allSettled(
        Array.from({ length: 5 }, async () => await receiveInboundBatched({ log: busyLog, inbound: inbound() })),
      );
      expect(during.every((s) => s.status === 'rejected' && isDbBusy(s.reason))).toBe(true);
      await lock.released;
      expect(await messageCount(t)).toBe(0);
      const after = await Promise.all(
        Array.from({ length: 5 }, async () => await receiveInboundBatched({ log: busyLog, inbound: inbound() })),
      );
      expect(after.every((r) => !r.duplicate)).toBe(true);
      expect(await messageCount(t)).toBe(5);
      await busyLog.close();
    },
  );

  it('close() commits what is still queued', async () => {
    const log = new EventLog(t.db);
    const p = await receiveInboundBatched({ log, inbound: inbound() });
    await log.close();
    expect((await p).duplicate).toBe(false);
    expect(await messageCount(t)).toBe(1);
    await expect(receiveInboundBatched({ log, inbound: inbound() })).rejects.toThrow('closed');
  });
});
