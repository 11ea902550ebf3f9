import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../db/client';
import { messages } from '../db/tables';
import { AppError } from '../errors';
import { openTempDb, type TempDb } from '../testing/temp-db';
import { upsertContact, upsertConversation } from './contacts';
import { statsSummary } from './stats';

let t: TempDb;
let db: Db;
let conversationId: number;
beforeEach(async () => {
  t = openTempDb('parley-stats-');
  db = t.db;
  conversationId = (
    await t.log.write(async (tx) => await upsertConversation(tx, (await upsertContact(tx, '+447700900001', 0)).id, '+447700900000', 0))
  ).id;
});
afterEach(async () => await t.dispose());

const at = (iso: string) => Date.parse(iso);
let n = 0;
async function seed(
  direction: 'in' | 'out',
  createdAt: string,
  status: string,
  o: { afterMs?: number; code?: string; reason?: string } = {},
): Promise<void> {
  n += 1;
  const created = at(createdAt);
  await db.insert(messages).values({
    conversationId,
    direction,
    clientRef: `ref-${n}`,
    from: 'a',
    to: 'b',
    text: 'x',
    encoding: 'gsm7',
    segments: 1,
    status,
    statusAt: created + (o.afterMs ?? 0),
    errorCode: o.code ?? null,
    errorReason: o.reason ?? null,
    createdAt: created,
  });
}

const INVALID = { code: '1170', reason: 'Number is invalid or missing' };

/** A hand-counted data set: two days in range, one message before it, one exactly at its end. */
async function seedDataSet(): Promise<void> {
  // 2026-03-08
  await seed('in', '2026-03-08T01:00:00Z', 'received');
  await seed('in', '2026-03-08T09:30:00Z', 'received');
  await seed('in', '2026-03-08T23:59:59Z', 'received');
  await seed('out', '2026-03-08T02:00:00Z', 'delivered', { afterMs: 1_000 });
  await seed('out', '2026-03-08T03:00:00Z', 'delivered', { afterMs: 5_000 });
  await seed('out', '2026-03-08T04:00:00Z', 'read', { afterMs: 3_000 });
  await seed('out', '2026-03-08T05:00:00Z', 'failed', INVALID);
  await seed('out', '2026-03-08T06:00:00Z', 'undeliverable', INVALID);
  await seed('out', '2026-03-08T07:00:00Z', 'rejected', { code: 'http_422', reason: 'Vonage refused the message as invalid' });
  await seed('out', '2026-03-08T08:00:00Z', 'queued');
  await seed('out', '2026-03-08T09:00:00Z', 'submitted');
  // 2026-03-09
  await seed('in', '2026-03-09T00:00:00Z', 'received');
  await seed('in', '2026-03-09T10:00:00Z', 'received');
  await seed('out', '2026-03-09T11:00:00Z', 'delivered', { afterMs: 2_000 });
  await seed('out', '2026-03-09T12:00:00Z', 'interrupted');
  await seed('out', '2026-03-09T13:00:00Z', 'failed', { code: 'CANCELLED', reason: 'Campaign cancelled before this message was sent' });
  // outside the range
  await seed('out', '2026-03-07T23:59:59Z', 'delivered', { afterMs: 99_000 });
  await seed('in', '2026-03-10T00:00:00Z', 'received');
}

describe('statsSummary', () => {
  it('agrees with a hand count', async () => {
    await seedDataSet();
    const s = await statsSummary({ db, since: '2026-03-08T00:00:00Z', until: '2026-03-10T00:00:00Z', bucket: 'day' });
    expect(s).toEqual({
      since: '2026-03-08T00:00:00.000Z',
      until: '2026-03-10T00:00:00.000Z',
      bucket: 'day',
      inbound: 5,
      outbound: 11,
      delivered: 4,
      failed: 4,
      pending: 3,
      deliveryRate: 0.5,
      // delivered after 1, 2, 3 and 5 s: the middle two average to 2.5 s
      medianTimeToDeliveredMs: 2_500,
      failuresByReason: [
        { code: '1170', reason: 'Number is invalid or missing', count: 2 },
        { code: 'CANCELLED', reason: 'Campaign cancelled before this message was sent', count: 1 },
        { code: 'http_422', reason: 'Vonage refused the message as invalid', count: 1 },
      ],
      buckets: [
        { start: '2026-03-08T00:00:00.000Z', inbound: 3, outbound: 8, delivered: 3, failed: 3 },
        { start: '2026-03-09T00:00:00.000Z', inbound: 2, outbound: 3, delivered: 1, failed: 1 },
      ],
    });
  });

  it('hourly buckets by default for two days or less; partial buckets at the edges; odd medians', async () => {
    await seedDataSet();
    const s = await statsSummary({ db, since: '2026-03-08T01:30:00Z', until: '2026-03-09T12:00:00Z' });
    expect(s.bucket).toBe('hour');
    expect(s.buckets).toHaveLength(35);
    expect(s.buckets[0]).toEqual({ start: '2026-03-08T01:00:00.000Z', inbound: 0, outbound: 0, delivered: 0, failed: 0 });
    expect(s.buckets.find((b) => b.start === '2026-03-08T02:00:00.000Z')).toMatchObject({ outbound: 1, delivered: 1 });
    const sum = (k: 'inbound' | 'outbound' | 'delivered' | 'failed') => s.buckets.reduce((a, b) => a + b[k], 0);
    expect([sum('inbound'), sum('outbound'), sum('delivered'), sum('failed')]).toEqual([s.inbound, s.outbound, s.delivered, s.failed]);
    // in range: 2 in (09:30, 23:59:59) + 1 (00:00 on the 9th) + 1 (10:00) = 4; delivered after 1, 5, 3, 2 s
    expect([s.inbound, s.delivered, s.medianTimeToDeliveredMs]).toEqual([4, 4, 2_500]);
    const odd = await statsSummary({ db, since: '2026-03-08T00:00:00Z', until: '2026-03-09T00:00:00Z' });
    expect(odd.medianTimeToDeliveredMs).toBe(3_000);
  });

  it('defaults to the last 30 days by day; nothing yields zeros and nulls; bad ranges are refused', async () => {
    const empty = await statsSummary({ db, now: at('2026-03-10T12:00:00Z') });
    expect(empty).toMatchObject({
      since: '2026-02-08T12:00:00.000Z',
      until: '2026-03-10T12:00:00.000Z',
      bucket: 'day',
      inbound: 0,
      deliveryRate: null,
      medianTimeToDeliveredMs: null,
      failuresByReason: [],
    });
    expect(empty.buckets).toHaveLength(31);
    const refused = async (f: () => unknown) => {
      try {
        await f();
      } catch (e) {
        expect(e).toBeInstanceOf(AppError);
        return (e as AppError).message;
      }
      return 'no error';
    };
    expect(await refused(async () => await statsSummary({ db, since: '2026-03-10T00:00:00Z', until: '2026-03-09T00:00:00Z' }))).toBe(
      'since must be before until',
    );
    expect(
      await refused(async () => await statsSummary({ db, since: '2025-01-01T00:00:00Z', until: '2026-03-09T00:00:00Z', bucket: 'hour' })),
    ).toMatch(/at most 2200 buckets/);
  });
});

describe('stats rollups (kept by triggers on messages)', () => {
  const exact = async (since: string, until: string) =>
    await statsSummary({ db, since, until, bucket: 'hour', exactMedianMax: Number.MAX_SAFE_INTEGER });
  const rollup = async (since: string, until: string) => await statsSummary({ db, since, until, bucket: 'hour', exactMedianMax: 0 });

  it('follow every status change, error change and delivery time, and survive deletes', async () => {
    await seedDataSet();
    const range = ['2026-03-08T00:00:00Z', '2026-03-10T00:00:00Z'] as const;
    const before = await statsSummary({ db, since: range[0], until: range[1] });
    // Move messages through their lives: queued → submitted → delivered (later), a failure's reason
    // rewritten, a delivered one read later (a new time to delivered).
    db.$client.exec(`update messages set status = 'submitted' where status = 'queued'`);
    db.$client.exec(`update messages set status = 'delivered', status_at = created_at + 7000 where status = 'submitted'`);
    db.$client.exec(`update messages set error_reason = 'Number is invalid' where error_code = '1170' and status = 'failed'`);
    db.$client.exec(
      `update messages set status = 'read', status_at = created_at + 4000 where status = 'delivered' and status_at = created_at + 5000`,
    );
    const after = await statsSummary({ db, since: range[0], until: range[1] });
    expect(after.delivered).toBe(before.delivered + 2);
    expect(after.pending).toBe(before.pending - 2);
    expect(after.failuresByReason).toContainEqual({ code: '1170', reason: 'Number is invalid', count: 1 });
    expect(after.failuresByReason).toContainEqual({ code: '1170', reason: 'Number is invalid or missing', count: 1 });
    // The rollups agree with a count of the messages themselves, bucket by bucket.
    const fromRows = await exact(range[0], range[1]);
    const fromRollups = await rollup(range[0], range[1]);
    expect(fromRollups.buckets).toEqual(fromRows.buckets);
    expect(fromRollups.failuresByReason).toEqual(fromRows.failuresByReason);
    expect(fromRollups.medianTimeToDeliveredMs).toBeGreaterThanOrEqual(Math.floor((fromRows.medianTimeToDeliveredMs ?? 0) * 0.988));
    expect(fromRollups.medianTimeToDeliveredMs).toBeLessThanOrEqual(Math.ceil((fromRows.medianTimeToDeliveredMs ?? 0) * 1.012));
    // Erasure and retention delete messages; the counts stay.
    db.$client.exec(`delete from messages`);
    const gone = await rollup(range[0], range[1]);
    expect([gone.inbound, gone.outbound, gone.delivered, gone.failed]).toEqual([
      after.inbound,
      after.outbound,
      after.delivered,
      after.failed,
    ]);
  });

  it('a range with ragged edges: whole hours from the rollups, the edges from the messages', async () => {
    await seedDataSet();
    const since = '2026-03-08T01:30:00Z';
    const until = '2026-03-09T11:00:00.001Z';
    const a = await rollup(since, until);
    const b = await exact(since, until);
    expect(a.buckets).toEqual(b.buckets);
    expect([a.inbound, a.outbound, a.delivered, a.failed, a.pending]).toEqual([b.inbound, b.outbound, b.delivered, b.failed, b.pending]);
    expect(a.failuresByReason).toEqual(b.failuresByReason);
    // Inside one hour: all of it from the messages.
    const inside = await rollup('2026-03-08T02:00:00Z', '2026-03-08T02:30:00Z');
    expect([inside.outbound, inside.delivered, inside.medianTimeToDeliveredMs]).toEqual([1, 1, 1_000]);
  });

  it('the histogram median is within 1.2 % of the exact one over thousands of delivery times', async () => {
    for (let i = 0; i < 3_000; i++) {
      const hour = String(i % 24).padStart(2, '0');
      await seed('out', `2026-03-0${1 + (i % 7)}T${hour}:${String(i % 60).padStart(2, '0')}:00Z`, 'delivered', {
        afterMs: 400 + ((i * 7919) % 90_000),
      });
    }
    const since = '2026-03-01T00:00:00Z';
    const until = '2026-03-08T00:00:00Z';
    const truth = (await statsSummary({ db, since, until, exactMedianMax: Number.MAX_SAFE_INTEGER })).medianTimeToDeliveredMs ?? 0;
    const approx = (await statsSummary({ db, since, until, exactMedianMax: 0 })).medianTimeToDeliveredMs ?? 0;
    expect(Math.abs(approx - truth) / truth).toBeLessThanOrEqual(0.012);
  });
});
