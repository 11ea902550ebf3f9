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

/** What `writeBatched` keeps of one queued write until the batch holding it has committed. */
interface QueuedWrite {
  fn: (tx: Tx, append: Append) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** One open write (a transaction, a batch, or a savepoint inside one): where its appends are collected. */
interface WriteScope {
  appended: ParleyEvent[];
  /** The transaction handle of the outermost write: savepoints inside reuse it (one drizzle handle per transaction). */
  tx: Tx;
}

/** Writes committed together at most (WRITE_BATCH_MAX): a batch is one transaction, so this bounds how long it holds the writer. */
export const DEFAULT_WRITE_BATCH_MAX = 128;

export interface EventLogOptions {
  /** Queued writes one batch (one transaction) takes at most; the rest wait for the next batch. */
  maxBatch?: number;
}

/** How group commit has gone since start (tests and /metrics). */
export interface BatchStats {
  /** Batches run (each one transaction, committed or not). */
  batches: number;
  /** Writes they held. */
  items: number;
  /** Writes that failed on their own (their savepoint rolled back; the rest of their batch committed). */
  failedItems: number;
  /** The most writes one batch held. */
  largest: number;
}

/**
 * The event log: `append` inside the writer's transaction; after commit `write` wakes subscribers.
 * `subscribe(afterId)` listens first, then backfills from the table, then follows live events,
 * skipping anything at or before the last id it yielded, so nothing is missed and nothing repeats.
 *
 * Group commit (`writeBatched`): concurrent writes queue and run together in one transaction, each in
 * its own savepoint, so one that throws rolls back alone and fails only its own caller. A `write`
 * called while a write or batch is open runs as a savepoint inside it and its events join the
 * enclosing write's: published once, after the outermost commit, in id order.
 */
export class EventLog {
  private readonly emitter = new EventEmitter();
  private subscribers = 0;
  private appendedCount = 0;
  private readonly cursors = new Set<{ at: number }>();

  private readonly insertEvent;
  private readonly maxBatch: number;
  /** The write open on this connection now (better-sqlite3 is synchronous: at most one, with savepoints inside). */
  private scope: WriteScope | null = null;
  private queue: QueuedWrite[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly batchCounters: BatchStats = { batches: 0, items: 0, failedItems: 0, largest: 0 };

  constructor(
    readonly db: Db,
    opts: EventLogOptions = {},
  ) {
    this.emitter.setMaxListeners(0);
    this.maxBatch = Math.max(1, Math.floor(opts.maxBatch ?? DEFAULT_WRITE_BATCH_MAX));
    // Prepared once: appending is on every write's hot path.
    this.insertEvent = db
      .insert(events)
      .values({ type: sql.placeholder('type'), payload: sql.placeholder('payload'), createdAt: sql.placeholder('createdAt') })
      .returning({ id: events.id })
      .prepare();
  }

  /**
   * Runs `fn` in one SQLite transaction with an `append` bound to it, then (after commit) publishes
   * what was appended. The only way state changes in Parley. Inside an open write or batch it is a
   * savepoint of it instead (an error rolls back only what `fn` did), and its events are published
   * with the enclosing write's, after that commits.
   */
  write<T>(fn: (tx: Tx, append: Append) => T): T {
    if (this.scope) return this.savepoint(this.scope, fn);
    let scope: WriteScope | null = null;
    let result: T;
    try {
      result = this.db.transaction((tx) => {
        const open: WriteScope = { appended: [], tx };
        this.scope = scope = open;
        return fn(tx, this.appender(tx, open.appended));
      });
    } finally {
      this.scope = null;
    }
    if (scope) this.publish((scope as WriteScope).appended);
    return result;
  }

  /**
   * Group commit: queues `fn` for the writer and resolves once the transaction holding it has
   * committed (rejects with `fn`'s own error, which rolled back only `fn`'s savepoint). The first
   * write queued on an idle log runs at the end of this turn of the event loop (setImmediate, no
   * timer), with whatever else was queued by then, at most `maxBatch` per transaction. `fn` runs
   * synchronously inside the transaction (better-sqlite3); domain functions that call `write`
   * themselves may be called from it unchanged. Another process holding the write lock: every write
   * of that batch rejects with SQLite's busy error (nothing ran), as a lone `write` would throw it.
   */
  writeBatched<T>(fn: (tx: Tx, append: Append) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closed) {
        reject(new Error('the event log is closed'));
        return;
      }
      this.queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      this.scheduleFlush();
    });
  }

  get batchStats(): BatchStats {
    return { ...this.batchCounters };
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.queue.length === 0) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const items = this.queue.splice(0, this.maxBatch);
    // More than one batch's worth: the next runs after I/O had its turn (new requests join it).
    this.scheduleFlush();
    if (items.length > 0) this.runBatch(items);
  };

  /** One transaction (BEGIN IMMEDIATE) for `items`, a savepoint each; commit, publish, then answer each. */
  private runBatch(items: QueuedWrite[]): void {
    type Outcome = { ok: true; value: unknown; events: ParleyEvent[] } | { ok: false; error: unknown };
    const outcomes: Outcome[] = [];
    this.batchCounters.batches += 1;
    this.batchCounters.items += items.length;
    this.batchCounters.largest = Math.max(this.batchCounters.largest, items.length);
    /** Set when the transaction itself was lost (BEGIN, COMMIT, or an error SQLite rolls everything back for). */
    let batchError: { error: unknown } | null = null;
    /** Items the lost transaction never reached: they go back to the head of the queue. */
    let notRun: QueuedWrite[] = [];
    try {
      this.db.transaction(
        (tx) => {
          for (let i = 0; i < items.length; i++) {
            const item = items[i] as QueuedWrite;
            const mine: ParleyEvent[] = [];
            // A `write` inside the item is a savepoint of it; its events join the item's.
            this.scope = { appended: mine, tx };
            try {
              // Nested: better-sqlite3 runs it as a savepoint of the batch.
              const value = this.db.$client.transaction(() => item.fn(tx, this.appender(tx, mine)))();
              outcomes.push({ ok: true, value, events: mine });
            } catch (error) {
              outcomes.push({ ok: false, error });
              if (!this.db.$client.inTransaction) {
                // SQLite rolled the whole transaction back (busy, disk full…): nothing of this batch is stored.
                notRun = items.slice(i + 1);
                batchError = { error };
                throw error;
              }
            }
          }
        },
        { behavior: 'immediate' },
      );
    } catch (error) {
      batchError ??= { error };
    } finally {
      this.scope = null;
    }

    if (batchError) {
      const { error } = batchError;
      // What had run is rolled back with the transaction: each caller hears its own error, or the batch's.
      outcomes.forEach((o, i) => items[i]?.reject(o.ok ? error : o.error));
      items.slice(outcomes.length, items.length - notRun.length).forEach((item) => item.reject(error));
      if (notRun.length > 0) {
        this.queue.unshift(...notRun);
        this.scheduleFlush();
      }
      return;
    }
    const committed: ParleyEvent[] = [];
    for (const o of outcomes) {
      if (o.ok) for (const e of o.events) committed.push(e);
      else this.batchCounters.failedItems += 1;
    }
    this.publish(committed);
    outcomes.forEach((o, i) => (o.ok ? items[i]?.resolve(o.value) : items[i]?.reject(o.error)));
  }

  /** `fn` as a savepoint of the open write: its events join `outer`'s only if it returns. */
  private savepoint<T>(outer: WriteScope, fn: (tx: Tx, append: Append) => T): T {
    const inner: WriteScope = { appended: [], tx: outer.tx };
    this.scope = inner;
    let result: T;
    try {
      // better-sqlite3 nests it as a savepoint (its statements prepared once per connection).
      result = this.db.$client.transaction(() => fn(outer.tx, this.appender(outer.tx, inner.appended)))();
    } finally {
      this.scope = outer;
    }
    for (const e of inner.appended) outer.appended.push(e);
    return result;
  }

  private appender(tx: Tx, into: ParleyEvent[]): Append {
    return (event) => {
      const stored = this.appendIn(tx, event);
      into.push(stored);
      return stored;
    };
  }

  private publish(appended: ParleyEvent[]): void {
    if (appended.length === 0) return;
    this.appendedCount += appended.length;
    this.emitter.emit('events', appended);
  }

  // Runs on the same connection as `tx` (better-sqlite3 is synchronous), so it is inside the transaction.
  private appendIn(_tx: Tx, event: ParleyEventBody): ParleyEvent {
    const createdAt = Date.now();
    const row = this.insertEvent.get({ type: event.type, payload: JSON.stringify(event.payload), createdAt });
    if (!row) throw new Error('event insert returned no row');
    return { ...event, id: row.id, createdAt: new Date(createdAt).toISOString() } as ParleyEvent;
  }

  /** Events with id > afterId, oldest first. */
  async readAfter(afterId: number, limit = BACKFILL_PAGE): Promise<ParleyEvent[]> {
    return (await this.db
      .select()
      .from(events)
      .where(gt(events.id, afterId))
      .orderBy(asc(events.id))
      .limit(limit)
      )
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

  /** Runs what is still queued (the server closes the database right after), then stops publishing. */
  close(): void {
    while (this.queue.length > 0) this.runBatch(this.queue.splice(0, this.maxBatch));
    this.closed = true;
    this.emitter.removeAllListeners();
  }
}
