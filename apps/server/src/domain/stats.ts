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

const DELIVERED = ['delivered', 'read'];
const FAILED = ['rejected', 'undeliverable', 'failed'];
const PENDING = ['queued', 'submitted', 'interrupted'];
const list = (statuses: string[]) => `(${statuses.map((x) => `'${x}'`).join(', ')})`;

// Every query walks messages_stats_idx (direction, status, created_at, status_at): one created_at
// range per (direction, status), so counting evaluates no per-row expression and never reads the
// table; only the failures read it, for failed messages alone.
function build(db: Db) {
  const c = db.$client;
  return {
    // Plus the messages erased with their contact (domain/erasure.ts), kept as counts per UTC hour.
    count: c
      .prepare<[{ d: string; s: string; since: number; until: number }], number>(
        `select (select count(*) from messages indexed by messages_stats_idx where direction = @d and status = @s and created_at >= @since and created_at < @until)
              + (select coalesce(sum(count), 0) from erased_message_counts where direction = @d and status = @s and hour >= @since and hour < @until)`,
      )
      .pluck(),
    durations: c
      .prepare<[number, number], number>(
        `select status_at - created_at from messages indexed by messages_stats_idx
          where direction = 'out' and status in ${list(DELIVERED)} and created_at >= ? and created_at < ?`,
      )
      .pluck(),
    failures: c.prepare<[number, number, number], { code: string | null; reason: string; count: number }>(
      `select error_code as code, coalesce(error_reason, error_title, error_code, 'Unknown reason') as reason, count(*) as count
         from messages indexed by messages_stats_idx
        where direction = 'out' and status in ${list(FAILED)} and created_at >= ? and created_at < ?
        group by 1, 2
        order by 3 desc, 2
        limit ?`,
    ),
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

function volumes(q: Queries, since: number, until: number): Volumes {
  const v: Volumes = { inbound: 0, outbound: 0, delivered: 0, failed: 0, pending: 0 };
  for (const status of MESSAGE_STATUSES) {
    v.inbound += q.count.get({ d: 'in', s: status, since, until }) ?? 0;
    const out = q.count.get({ d: 'out', s: status, since, until }) ?? 0;
    v.outbound += out;
    if (DELIVERED.includes(status)) v.delivered += out;
    else if (FAILED.includes(status)) v.failed += out;
    else if (PENDING.includes(status)) v.pending += out;
  }
  return v;
}

/** The median of the delivered messages' queued → delivered times: read off the index, selected here. */
function medianDurationMs(q: Queries, since: number, until: number): number | null {
  const d = Float64Array.from(q.durations.all(since, until));
  if (d.length === 0) return null;
  d.sort();
  const mid = d.length >> 1;
  return Math.round(d.length % 2 === 1 ? (d[mid] ?? 0) : ((d[mid - 1] ?? 0) + (d[mid] ?? 0)) / 2);
}

const cache = new WeakMap<Db, ReturnType<typeof build>>();
function queries(db: Db): ReturnType<typeof build> {
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
}

/**
 * Message volumes in a time range (by when each message was created): in and out, outbound by
 * outcome, the delivery rate, the median time from queued to delivered, failures by reason, and the
 * same volumes per UTC hour or day. Counted by SQL over one covering index: per bucket, one range
 * count per (direction, status).
 */
export function statsSummary(opts: StatsSummaryInput): StatsSummary {
  const until = parseTime(opts.until, opts.now ?? Date.now(), 'until');
  const since = parseTime(opts.since, until - DEFAULT_RANGE, 'since');
  if (since >= until) throw new AppError('BAD_REQUEST', 'since must be before until');
  const bucket = opts.bucket ?? (until - since <= 2 * DAY ? 'hour' : 'day');
  const size = bucket === 'hour' ? HOUR : DAY;
  const first = Math.floor(since / size) * size;
  const count = Math.ceil((until - first) / size);
  if (count > MAX_BUCKETS) {
    throw new AppError('BAD_REQUEST', `That range has ${count} ${bucket}s; at most ${MAX_BUCKETS} buckets fit in one summary — use a longer bucket or a shorter range`);
  }
  const q = queries(opts.db);

  const total: Volumes = { inbound: 0, outbound: 0, delivered: 0, failed: 0, pending: 0 };
  const buckets: StatsBucket[] = [];
  for (let start = first; start < until; start += size) {
    const v = volumes(q, Math.max(start, since), Math.min(start + size, until));
    for (const k of Object.keys(total) as (keyof Volumes)[]) total[k] += v[k];
    buckets.push({ start: new Date(start).toISOString(), inbound: v.inbound, outbound: v.outbound, delivered: v.delivered, failed: v.failed });
  }

  const settled = total.delivered + total.failed;
  return {
    since: new Date(since).toISOString(),
    until: new Date(until).toISOString(),
    bucket,
    ...total,
    deliveryRate: settled === 0 ? null : total.delivered / settled,
    medianTimeToDeliveredMs: total.delivered === 0 ? null : medianDurationMs(q, since, until),
    failuresByReason: q.failures.all(since, until, MAX_REASONS),
    buckets,
  };
}
