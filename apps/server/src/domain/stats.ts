import { sql } from 'drizzle-orm';
import { MESSAGE_STATUSES, type StatsBucket, type StatsSummary } from '@parley/shared';
import type { Db } from '../db/client';
import { AppError } from '../errors';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DEFAULT_RANGE = 30 * DAY;
/** Buckets in one summary at most (a year of days, ~3 months of hours). */
const MAX_BUCKETS = 2_200;
/** Failure reasons listed at most (most frequent first). */
const MAX_REASONS = 50;
/** Up to this many delivered messages in a range, the median is computed from every duration (exact). */
const EXACT_MEDIAN_MAX = 20_000;

const DELIVERED = ['delivered', 'read'];
const FAILED = ['rejected', 'undeliverable', 'failed'];
const PENDING = ['queued', 'submitted', 'interrupted'];
const list = (statuses: string[]) => `(${statuses.map((x) => `'${x}'`).join(', ')})`;

// Every query walks messages_stats_idx (direction, status, created_at, status_at): one created_at
// range per (direction, status), so counting evaluates no per-row expression and never reads the
// table; only the failures read it, for failed messages alone.
function build(db: Db) {
  const store = db.$store;
  // SQLite's planner is told the index (it would otherwise pick the status index); PostgreSQL's picks it itself.
  const byStatsIdx = sql.raw(store.dialect === 'sqlite' ? 'indexed by messages_stats_idx' : '');
  const delivered = sql.raw(list(DELIVERED));
  const failed = sql.raw(list(FAILED));
  const num = (v: unknown) => Number(v ?? 0);
  return {
    count: async (direction: string, status: string, since: number, until: number): Promise<number> =>
      num(
        (
          await store.rows<{ n: number }>(
            sql`select count(*) as n from messages ${byStatsIdx} where direction = ${direction} and status = ${status} and created_at >= ${since} and created_at < ${until}`,
          )
        )[0]?.n,
      ),
    durations: async (since: number, until: number): Promise<number[]> =>
      (
        await store.rows<{ d: number }>(
          sql`select status_at - created_at as d from messages ${byStatsIdx}
            where direction = 'out' and status in ${delivered} and created_at >= ${since} and created_at < ${until}`,
        )
      ).map((r) => num(r.d)),
    failures: async (since: number, until: number, limit: number) =>
      (
        await store.rows<{ code: string | null; reason: string; count: number }>(
          sql`select error_code as code, coalesce(error_reason, error_title, error_code, 'Unknown reason') as reason, count(*) as count
             from messages ${byStatsIdx}
            where direction = 'out' and status in ${failed} and created_at >= ${since} and created_at < ${until}
            group by 1, 2
            order by 3 desc, 2
            limit ${limit}`,
        )
      ).map((r) => ({ ...r, count: num(r.count) })),
    // The rollups (migration 0012; kept by triggers on messages).
    hourly: async (from: number, to: number) =>
      (
        await store.rows<{ hour: number; direction: string; status: string; n: number }>(
          sql`select hour, direction, status, n from stats_hourly where hour >= ${from} and hour < ${to} and n <> 0`,
        )
      ).map((r) => ({ ...r, hour: num(r.hour), n: num(r.n) })),
    deliveryDaily: async (from: number, to: number) =>
      (
        await store.rows<{ bucket: number; n: number }>(
          sql`select bucket, sum(n) as n from stats_delivery_daily where day >= ${from} and day < ${to} group by bucket`,
        )
      ).map((r) => ({ bucket: num(r.bucket), n: num(r.n) })),
    deliveryHourly: async (from: number, to: number) =>
      (
        await store.rows<{ bucket: number; n: number }>(
          sql`select bucket, sum(n) as n from stats_delivery_hourly where hour >= ${from} and hour < ${to} group by bucket`,
        )
      ).map((r) => ({ bucket: num(r.bucket), n: num(r.n) })),
    failuresHourly: async (from: number, to: number) =>
      (
        await store.rows<{ code: string; reason: string; count: number }>(
          sql`select code, reason, sum(n) as count from stats_failures_hourly where hour >= ${from} and hour < ${to} group by code, reason`,
        )
      ).map((r) => ({ ...r, count: num(r.count) })),
  };
}

type Queries = ReturnType<typeof build>;

interface Volumes {
  inbound: number;
  outbound: number;
  delivered: number;
  failed: number;
  pending: number;
}

async function volumes(q: Queries, since: number, until: number): Promise<Volumes> {
  const v: Volumes = { inbound: 0, outbound: 0, delivered: 0, failed: 0, pending: 0 };
  for (const status of MESSAGE_STATUSES) {
    v.inbound += (await q.count('in', status, since, until)) ?? 0;
    const out = (await q.count('out', status, since, until)) ?? 0;
    v.outbound += out;
    if (DELIVERED.includes(status)) v.delivered += out;
    else if (FAILED.includes(status)) v.failed += out;
    else if (PENDING.includes(status)) v.pending += out;
  }
  return v;
}

/**
 * The median of the delivered messages' queued → delivered times. `exact` holds single durations
 * (the partial hours at a range's edges, read off the index); `histogram` counts per log-scale
 * bucket (1/100 decade) from the rollups. With no histogram part the median is exact; otherwise a
 * bucket stands for its centre, within ±1.2 % of the true value.
 */
function median(exact: number[], histogram: Map<number, number>): number | null {
  const points: [value: number, count: number][] = exact.map((d) => [d, 1]);
  for (const [bucket, n] of histogram) if (n > 0) points.push([Math.round(10 ** (bucket / 100)), n]);
  const total = points.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return null;
  points.sort((x, y) => x[0] - y[0]);
  const at = (k: number): number => {
    let seen = 0;
    for (const [value, n] of points) {
      seen += n;
      if (k < seen) return value;
    }
    return points[points.length - 1]?.[0] ?? 0;
  };
  const mid = total >> 1;
  return Math.round(total % 2 === 1 ? at(mid) : (at(mid - 1) + at(mid)) / 2);
}

const cache = new WeakMap<Db, ReturnType<typeof build>>();
async function queries(db: Db): Promise<ReturnType<typeof build>> {
  let q = cache.get(db);
  if (!q) {
    q = build(db);
    cache.set(db, q);
  }
  return q;
}

function parseTime(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new AppError('BAD_REQUEST', `${name}: not a date-time ("${value}")`);
  return ms;
}

export interface StatsSummaryInput {
  db: Db;
  /** ISO-8601; default 30 days before `until`. */
  since?: string | undefined;
  /** ISO-8601; default now. */
  until?: string | undefined;
  /** Default: hour for ranges up to two days, else day. */
  bucket?: 'hour' | 'day' | undefined;
  now?: number;
  /** Up to this many delivered messages the median is exact (default 20,000; tests lower it). */
  exactMedianMax?: number;
}

/**
 * Message volumes in a time range (by when each message was created): in and out, outbound by
 * outcome, the delivery rate, the median time from queued to delivered, failures by reason, and the
 * same volumes per UTC hour or day. Whole hours (and, for delivery times, whole days) are read from
 * the rollups the message triggers keep (migration 0012); the partial hours at the range's edges are
 * counted from the messages over their covering index. The median is exact up to EXACT_MEDIAN_MAX
 * delivered messages, beyond that read off the log-scale histogram (within ±1.2 %).
 */
export async function statsSummary(opts: StatsSummaryInput): Promise<StatsSummary> {
  const until = parseTime(opts.until, opts.now ?? Date.now(), 'until');
  const since = parseTime(opts.since, until - DEFAULT_RANGE, 'since');
  if (since >= until) throw new AppError('BAD_REQUEST', 'since must be before until');
  const bucket = opts.bucket ?? (until - since <= 2 * DAY ? 'hour' : 'day');
  const size = bucket === 'hour' ? HOUR : DAY;
  const first = Math.floor(since / size) * size;
  const count = Math.ceil((until - first) / size);
  if (count > MAX_BUCKETS) {
    throw new AppError(
      'BAD_REQUEST',
      `That range has ${count} ${bucket}s; at most ${MAX_BUCKETS} buckets fit in one summary — use a longer bucket or a shorter range`,
    );
  }
  const q = await queries(opts.db);

  const total: Volumes = { inbound: 0, outbound: 0, delivered: 0, failed: 0, pending: 0 };
  const perBucket: Volumes[] = Array.from({ length: count }, () => ({ inbound: 0, outbound: 0, delivered: 0, failed: 0, pending: 0 }));
  const add = (into: Volumes, v: Volumes) => {
    for (const k of Object.keys(v) as (keyof Volumes)[]) into[k] += v[k];
  };
  const bucketOf = (at: number) => Math.min(count - 1, Math.floor((at - first) / size));
  const durations: number[] = [];
  const histogram = new Map<number, number>();
  const addHistogram = (rows: { bucket: number; n: number }[]) => {
    for (const r of rows) histogram.set(r.bucket, (histogram.get(r.bucket) ?? 0) + r.n);
  };
  const failures = new Map<string, { code: string | null; reason: string; count: number }>();
  const addFailures = (rows: { code: string | null; reason: string; count: number }[]) => {
    for (const r of rows) {
      const code = r.code === '' ? null : r.code;
      const key = `${code ?? ''}\u0000${r.reason}`;
      const seen = failures.get(key);
      if (seen) seen.count += r.count;
      else failures.set(key, { code, reason: r.reason, count: r.count });
    }
  };
  /** A piece shorter than an hour, counted from the messages themselves (the covering index). */
  const exactly = async (from: number, to: number) => {
    if (from >= to) return;
    // A piece may span two buckets (a range inside one hour, in hour buckets): split at the boundary.
    for (let start = from; start < to;) {
      const end = Math.min(to, first + (bucketOf(start) + 1) * size);
      add(perBucket[bucketOf(start)] as Volumes, await volumes(q, start, end));
      start = end;
    }
    for (const d of await q.durations(from, to)) durations.push(d);
    addFailures(await q.failures(from, to, Number.MAX_SAFE_INTEGER));
  };

  // Whole hours from the rollups; the partial hours at either edge exactly.
  const firstHour = Math.ceil(since / HOUR);
  const endHour = Math.floor(until / HOUR);
  if (firstHour >= endHour) {
    await exactly(since, until);
  } else {
    await exactly(since, firstHour * HOUR);
    await exactly(endHour * HOUR, until);
    for (const r of await q.hourly(firstHour, endHour)) {
      const v = perBucket[bucketOf(r.hour * HOUR)] as Volumes;
      if (r.direction === 'in') v.inbound += r.n;
      else {
        v.outbound += r.n;
        if (DELIVERED.includes(r.status)) v.delivered += r.n;
        else if (FAILED.includes(r.status)) v.failed += r.n;
        else if (PENDING.includes(r.status)) v.pending += r.n;
      }
    }
    // Delivery times: whole days from the daily rollup, the hours around them from the hourly one.
    const firstDay = Math.ceil((firstHour * HOUR) / DAY);
    const endDay = Math.floor((endHour * HOUR) / DAY);
    if (firstDay < endDay) {
      addHistogram(await q.deliveryHourly(firstHour, (firstDay * DAY) / HOUR));
      addHistogram(await q.deliveryDaily(firstDay, endDay));
      addHistogram(await q.deliveryHourly((endDay * DAY) / HOUR, endHour));
    } else {
      addHistogram(await q.deliveryHourly(firstHour, endHour));
    }
    addFailures(await q.failuresHourly(firstHour, endHour));
  }

  const buckets: StatsBucket[] = perBucket.map((v, i) => {
    add(total, v);
    return {
      start: new Date(first + i * size).toISOString(),
      inbound: v.inbound,
      outbound: v.outbound,
      delivered: v.delivered,
      failed: v.failed,
    };
  });
  const settled = total.delivered + total.failed;
  return {
    since: new Date(since).toISOString(),
    until: new Date(until).toISOString(),
    bucket,
    ...total,
    deliveryRate: settled === 0 ? null : total.delivered / settled,
    medianTimeToDeliveredMs:
      total.delivered === 0
        ? null
        : total.delivered <= (opts.exactMedianMax ?? EXACT_MEDIAN_MAX)
          ? median(await q.durations(since, until), new Map())
          : median(durations, histogram),
    failuresByReason: [...failures.values()]
      .filter((f) => f.count > 0)
      .sort((x, y) => y.count - x.count || (x.reason < y.reason ? -1 : x.reason > y.reason ? 1 : 0))
      .slice(0, MAX_REASONS),
    buckets,
  };
}
