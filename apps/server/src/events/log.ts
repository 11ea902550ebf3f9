import { EventEmitter } from 'node:events';
import { asc, gt, sql } from 'drizzle-orm';
import type { ParleyEvent, ParleyEventBody } from '@parley/shared';
import type { Db } from '../db/client';
import { events } from '../db/schema';

/** The transaction handle domain functions write through (drizzle's, inside db.transaction). */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Appends an event inside the current write (the second argument `EventLog.write` gives its callback). */
export type Append = (event: ParleyEventBody) => ParleyEvent;

const BACKFILL_PAGE = 500;
/** Live events a subscriber may have waiting; beyond it, it reads from the table again. */
const LIVE_BUFFER = 1000;

/**
 * The event log: `append` inside the writer's transaction; after commit `write` wakes subscribers.
 * `subscribe(afterId)` listens first, then backfills from the table, then follows live events,
 * skipping anything at or before the last id it yielded, so nothing is missed and nothing repeats.
 */
export class EventLog {
  private readonly emitter = new EventEmitter();
  private subscribers = 0;
  private appendedCount = 0;
  private readonly cursors = new Set<{ at: number }>();

  private readonly insertEvent;

  constructor(readonly db: Db) {
    this.emitter.setMaxListeners(0);
    // Prepared once: appending is on every write's hot path.
    this.insertEvent = db
      .insert(events)
      .values({ type: sql.placeholder('type'), payload: sql.placeholder('payload'), createdAt: sql.placeholder('createdAt') })
      .returning({ id: events.id })
      .prepare();
  }

  /**
   * Runs `fn` in one SQLite transaction with an `append` bound to it, then (after commit) publishes
   * what was appended. The only way state changes in Parley.
   */
  write<T>(fn: (tx: Tx, append: Append) => T): T {
    const appended: ParleyEvent[] = [];
    const result = this.db.transaction((tx) =>
      fn(tx, (event) => {
        const stored = this.appendIn(tx, event);
        appended.push(stored);
        return stored;
      }),
    );
    if (appended.length > 0) {
      this.appendedCount += appended.length;
      this.emitter.emit('events', appended);
    }
    return result;
  }

  // Runs on the same connection as `tx` (better-sqlite3 is synchronous), so it is inside the transaction.
  private appendIn(_tx: Tx, event: ParleyEventBody): ParleyEvent {
    const createdAt = Date.now();
    const row = this.insertEvent.get({ type: event.type, payload: JSON.stringify(event.payload), createdAt });
    if (!row) throw new Error('event insert returned no row');
    return { ...event, id: row.id, createdAt: new Date(createdAt).toISOString() } as ParleyEvent;
  }

  /** Events with id > afterId, oldest first. */
  readAfter(afterId: number, limit = BACKFILL_PAGE): ParleyEvent[] {
    return this.db
      .select()
      .from(events)
      .where(gt(events.id, afterId))
      .orderBy(asc(events.id))
      .limit(limit)
      .all()
      .map(
        (r) =>
          ({
            id: r.id,
            type: r.type,
            payload: JSON.parse(r.payload) as unknown,
            createdAt: new Date(r.createdAt).toISOString(),
          }) as ParleyEvent,
      );
  }

  lastId(): number {
    const row = this.db.$client.prepare('select max(id) as id from events').get() as { id: number | null };
    return row.id ?? 0;
  }

  get stats(): { subscribers: number; appended: number } {
    return { subscribers: this.subscribers, appended: this.appendedCount };
  }

  /** The oldest event still in the table (0 when it is empty). */
  firstId(): number {
    const row = this.db.$client.prepare('select min(id) as id from events').get() as { id: number | null };
    return row.id ?? 0;
  }

  /**
   * Whether resuming after `afterId` is still possible: false when compaction removed events after
   * it (the client must refetch its state and start again from the tail).
   */
  canResumeAfter(afterId: number): boolean {
    const first = this.firstId();
    return first === 0 || afterId >= first - 1;
  }

  /** The lowest cursor an open subscriber holds (compaction never removes what it still has to read). */
  oldestCursor(): number | null {
    let min: number | null = null;
    for (const c of this.cursors) if (min === null || c.at < min) min = c.at;
    return min;
  }

  /**
   * Backfill after `afterId` (null: only new events), then follow live until `signal` aborts.
   * Reading is paced by the consumer: each page is read from the table only after `pace()` resolves
   * (and only when the previous page was taken), and live events wait in a bounded buffer; a
   * consumer that falls further behind than that goes back to reading pages from the table. So
   * a slow subscriber costs at most a page and the buffer, never the whole backlog.
   */
  async *subscribe(
    afterId: number | null,
    signal?: AbortSignal,
    opts: { pace?: (signal: AbortSignal) => Promise<void> } = {},
  ): AsyncGenerator<ParleyEvent> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener('abort', abort, { once: true });
    if (signal?.aborted) controller.abort();
    const pace = opts.pace ?? (() => Promise.resolve());
    // Listen before reading the table: whatever commits during the backfill lands in `pending`.
    let pending: ParleyEvent[] = [];
    let overflow = false;
    let wake: (() => void) | null = null;
    const listener = (batch: ParleyEvent[]) => {
      if (!overflow) {
        pending.push(...batch);
        if (pending.length > LIVE_BUFFER) {
          pending = [];
          overflow = true;
        }
      }
      wake?.();
    };
    this.emitter.on('events', listener);
    const onAbort = () => wake?.();
    controller.signal.addEventListener('abort', onAbort);
    this.subscribers += 1;
    const cursor = { at: afterId ?? this.lastId() };
    this.cursors.add(cursor);
    // Behind: read pages from the table. Caught up: take live events from `pending`.
    let fromTable = true;
    try {
      while (!controller.signal.aborted) {
        if (fromTable) {
          await pace(controller.signal);
          if (controller.signal.aborted) break;
          const page = this.readAfter(cursor.at);
          if (page.length === 0) {
            // Read and switch in one synchronous step: nothing can commit in between.
            fromTable = false;
            overflow = false;
            continue;
          }
          for (const event of page) {
            cursor.at = event.id;
            yield event;
            if (controller.signal.aborted) break;
          }
          continue;
        }
        if (overflow) {
          pending = [];
          fromTable = true;
          continue;
        }
        if (pending.length === 0) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
          continue;
        }
        const batch = pending;
        pending = [];
        for (const event of batch) {
          if (event.id <= cursor.at) continue;
          cursor.at = event.id;
          yield event;
          if (controller.signal.aborted || overflow) break;
        }
        if (!overflow && pending.length > 0) await pace(controller.signal);
      }
    } finally {
      this.subscribers -= 1;
      this.cursors.delete(cursor);
      this.emitter.off('events', listener);
      controller.signal.removeEventListener('abort', onAbort);
      signal?.removeEventListener('abort', abort);
      controller.abort();
    }
  }

  /**
   * Removes old events: beyond the newest `keepCount`, and older than `maxAgeMs` — but never one an
   * open subscriber still has to read, and never the newest (ids keep counting up). Deletes a chunk
   * of ids at a time and yields to the event loop between chunks. Returns how many it removed.
   */
  async compact(opts: { keepCount: number; maxAgeMs: number; now?: number; chunk?: number }): Promise<number> {
    const chunk = opts.chunk ?? 5000;
    const lastId = this.lastId();
    if (lastId === 0) return 0;
    const ageCut = (opts.now ?? Date.now()) - opts.maxAgeMs;
    const countCut = lastId - Math.max(1, Math.floor(opts.keepCount));
    const del = this.db.$client.prepare('delete from events where id >= ? and id < ? and id <= ? and (id <= ? or created_at < ?)');
    let removed = 0;
    let lo = this.firstId();
    for (;;) {
      // Re-read each round: a subscriber may have started meanwhile.
      const oldest = this.oldestCursor();
      const limit = Math.min(lastId - 1, oldest ?? Number.MAX_SAFE_INTEGER);
      if (lo === 0 || lo > limit) break;
      const hi = lo + chunk;
      const changes = del.run(lo, hi, limit, countCut, ageCut).changes;
      removed += changes;
      // Ids and times grow together: past the count cut, a chunk that removed nothing ends it.
      if (lo > countCut && changes === 0) break;
      lo = hi;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return removed;
  }

  close(): void {
    this.emitter.removeAllListeners();
  }
}
