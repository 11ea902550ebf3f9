import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ParleyEvent } from '@parley/shared';
import { openTestDb, type TempDb } from '../testing/temp-db';
import type { EventLog } from './log';

let t: TempDb;
let log: EventLog;
beforeEach(async () => {
  t = await openTestDb('parley-log-');
  log = t.log;
});
afterEach(async () => await t.dispose());

const contactEvent = (id: number) =>
  ({
    type: 'contact.updated',
    payload: {
      contact: {
        id,
        phone: `+4477009${String(id).padStart(5, '0')}`,
        name: null,
        optedOutAt: null,
        optOutSource: null,
        createdAt: new Date(0).toISOString(),
      },
    },
  }) as const;
const appendOne = async (id: number) => await log.write((_tx, append) => append(contactEvent(id)));

/** The table's end answers late (a busy database): what commits meanwhile came after subscribing. */
function slowTableEnd(): void {
  const lastId = log.lastId.bind(log);
  log.lastId = async () => {
    await new Promise((r) => setTimeout(r, 300));
    return await lastId();
  };
}

async function take(iter: AsyncGenerator<ParleyEvent>, n: number): Promise<number[]> {
  const ids: number[] = [];
  while (ids.length < n) {
    const r = await iter.next();
    if (r.done) break;
    ids.push(r.value.id);
  }
  return ids;
}

describe('EventLog', () => {
  it('appends inside the transaction: a rolled-back write leaves no event and wakes nobody', async () => {
    await expect(
      log.write((_tx, append) => {
        append(contactEvent(1));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await log.readAfter(0)).toEqual([]);
  });

  it('backfills after the cursor, then follows live, in order, with no gap or repeat', async () => {
    for (let i = 1; i <= 5; i++) await appendOne(i);
    const ac = new AbortController();
    const iter = log.subscribe(2, ac.signal);
    const first = iter.next(); // starts the generator: listener registered, backfill begins
    // Appended while the subscriber is backfilling: must arrive exactly once.
    await appendOne(6);
    await appendOne(7);
    const got = [(await first).value?.id, ...(await take(iter, 4))];
    expect(got).toEqual([3, 4, 5, 6, 7]);
    setTimeout(() => void appendOne(8), 20);
    expect(await take(iter, 1)).toEqual([8]);
    ac.abort();
    await iter.return(undefined);
    expect(log.stats.subscribers).toBe(0);
  });

  it('pages a long backfill (more than one page of 500)', async () => {
    await log.write((_tx, append) => {
      for (let i = 1; i <= 1203; i++) append(contactEvent(i));
    });
    const ac = new AbortController();
    const ids = await take(log.subscribe(0, ac.signal), 1203);
    ac.abort();
    expect(ids.length).toBe(1203);
    expect(new Set(ids).size).toBe(1203);
    expect(ids.at(-1)).toBe(1203);
  });

  it('with no cursor, streams only what comes after subscribing', async () => {
    await appendOne(1);
    const ac = new AbortController();
    const iter = log.subscribe(null, ac.signal);
    const next = iter.next();
    await new Promise((r) => setTimeout(r, 10));
    await appendOne(2);
    expect((await next).value?.id).toBe(2);
    ac.abort();
  });

  it('with no cursor, misses nothing that commits while it starts, however slow the table is to answer', async () => {
    await appendOne(1);
    slowTableEnd();
    const ac = new AbortController();
    const iter = log.subscribe(null, ac.signal);
    const next = iter.next();
    await appendOne(2);
    await appendOne(3);
    expect([(await next).value?.id, ...(await take(iter, 1))]).toEqual([2, 3]);
    ac.abort();
  });

  it('with no cursor on a log that has published nothing yet, delivers what commits while it starts, once', async () => {
    slowTableEnd();
    const ac = new AbortController();
    const iter = log.subscribe(null, ac.signal);
    const next = iter.next();
    await appendOne(1);
    await appendOne(2);
    expect([(await next).value?.id, ...(await take(iter, 1))]).toEqual([1, 2]);
    setTimeout(() => void appendOne(3), 20);
    expect(await take(iter, 1)).toEqual([3]);
    ac.abort();
  });
});

describe('EventLog compaction and pacing', () => {
  const appendN = async (n: number) =>
    await log.write((_tx, append) => {
      for (let i = 1; i <= n; i++) append(contactEvent(i));
    });

  it('keeps the newest events and never removes what an open subscriber still has to read', async () => {
    await appendN(200);
    const ac = new AbortController();
    const iter = log.subscribe(50, ac.signal);
    expect(await take(iter, 1)).toEqual([51]);
    // Keep 10: but the subscriber is at 51, so only 1..51 may go.
    expect(await log.compact({ keepCount: 10, maxAgeMs: 1e12, chunk: 16 })).toBe(51);
    expect(await log.firstId()).toBe(52);
    const rest = await take(iter, 149);
    expect(rest).toEqual(Array.from({ length: 149 }, (_, i) => i + 52));
    ac.abort();
    await iter.return(undefined);
    // Nobody reading: down to the newest 10.
    expect(await log.compact({ keepCount: 10, maxAgeMs: 1e12, chunk: 16 })).toBe(139);
    expect(await log.firstId()).toBe(191);
    expect(await log.canResumeAfter(190)).toBe(true);
    expect(await log.canResumeAfter(189)).toBe(false);
  });

  it('removes events older than the retention age even under the count', async () => {
    await appendN(30);
    const now = Date.now() + 10 * 86_400_000;
    expect(await log.compact({ keepCount: 1000, maxAgeMs: 86_400_000, now })).toBe(29);
    // The newest always stays: ids keep counting from it.
    expect(await log.firstId()).toBe(30);
    await appendOne(31);
    expect(await log.lastId()).toBe(31);
  });

  it('reads a page only when pace() lets it, and falls back to the table when live events overflow', async () => {
    await appendN(1200);
    const ac = new AbortController();
    let release!: () => void;
    let paced = 0;
    const iter = log.subscribe(0, ac.signal, {
      pace: () => {
        paced += 1;
        return paced === 2 ? new Promise<void>((r) => (release = r)) : Promise.resolve();
      },
    });
    expect((await take(iter, 500)).at(-1)).toBe(500);
    const next = iter.next();
    await new Promise((r) => setTimeout(r, 20));
    expect(paced).toBe(2); // waiting before the second page
    // Meanwhile a burst bigger than the live buffer commits.
    await appendN(3000);
    release();
    const ids = [(await next).value?.id, ...(await take(iter, 3699))];
    expect(ids).toEqual(Array.from({ length: 3700 }, (_, i) => i + 501));
    ac.abort();
  });
});
