import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ParleyEvent } from '@parley/shared';
import { openTempDb, type TempDb } from '../testing/temp-db';
import type { EventLog } from './log';

let t: TempDb;
let log: EventLog;
beforeEach(() => {
  t = openTempDb('parley-log-');
  log = t.log;
});
afterEach(() => t.dispose());

const contactEvent = (id: number) =>
  ({
    type: 'contact.updated',
    payload: { contact: { id, phone: `+4477009${String(id).padStart(5, '0')}`, name: null, optedOutAt: null, optOutSource: null, createdAt: new Date(0).toISOString() } },
  }) as const;
const appendOne = (id: number) => log.write((_tx, append) => append(contactEvent(id)));

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
  it('appends inside the transaction: a rolled-back write leaves no event and wakes nobody', () => {
    expect(() =>
      log.write((_tx, append) => {
        append(contactEvent(1));
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(log.readAfter(0)).toEqual([]);
  });

  it('backfills after the cursor, then follows live, in order, with no gap or repeat', async () => {
    for (let i = 1; i <= 5; i++) appendOne(i);
    const ac = new AbortController();
    const iter = log.subscribe(2, ac.signal);
    const first = iter.next(); // starts the generator: listener registered, backfill begins
    // Appended while the subscriber is backfilling: must arrive exactly once.
    appendOne(6);
    appendOne(7);
    const got = [(await first).value?.id, ...(await take(iter, 4))];
    expect(got).toEqual([3, 4, 5, 6, 7]);
    setTimeout(() => appendOne(8), 20);
    expect(await take(iter, 1)).toEqual([8]);
    ac.abort();
    await iter.return(undefined);
    expect(log.stats.subscribers).toBe(0);
  });

  it('pages a long backfill (more than one page of 500)', async () => {
    log.write((_tx, append) => {
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
    appendOne(1);
    const ac = new AbortController();
    const iter = log.subscribe(null, ac.signal);
    const next = iter.next();
    await new Promise((r) => setTimeout(r, 10));
    appendOne(2);
    expect((await next).value?.id).toBe(2);
    ac.abort();
  });
});
