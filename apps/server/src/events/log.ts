import { EventEmitter } from 'node:events';
import { and, asc, gt, gte, lt, lte, max, min, or } from 'drizzle-orm';
import type { ParleyEvent, ParleyEventBody } from '@parley/shared';
import type { Db } from '../db/client';
import { affected, detached } from '../db/store';
import type { TxLevel, TxRoot } from '../db/store';
import { events } from '../db/tables';

/**
 * The handle domain functions write through. Transactions are ambient (db/store.ts): inside a write
 * it is the same `db`, and every query made from the write's async context runs in its transaction.
 */
export type Tx = Db;

/** Appends an event to the current write (the second argument `EventLog.write` gives its callback); stored just before COMMIT. */
export type Append = (event: ParleyEventBody) => void;

const BACKFILL_PAGE = 500;
/** Live events a subscriber may have waiting; beyond it, it reads from the table again. */
const LIVE_BUFFER = 1000;

/** What `writeBatched` keeps of one queued write until the batch holding it has committed. */
interface QueuedWrite {
  fn: (tx: Tx, append: Append) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
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
 * The event log: `append` inside a write; the events are inserted as the write's last statements,
 * just before COMMIT, and published to subscribers after it. `subscribe(afterId)` listens first,
 * then backfills from the table, then follows live events, skipping anything at or before the last
 * id it yielded, so nothing is missed and nothing repeats.
 *
 * A `write` inside an open write (or any store transaction) is a savepoint of it: an error rolls back
 * only what it did, and its events join the enclosing write's — published once, after the outermost
 * commit, in id order.
 *
 * Group commit (`writeBatched`): concurrent writes queue and run together in one transaction, each in
 * its own savepoint, so one that throws rolls back alone and fails only its own caller. Both stores
 * take write turns one at a time (SQLite's writer; PostgreSQL's advisory lock across instances), so a
 * batch pays for one BEGIN, one turn and one durable COMMIT instead of one each.
 */
/** Events per INSERT statement (3 parameters each). */
const EVENT_INSERT_BATCH = 500;

export class EventLog {
  private readonly emitter = new EventEmitter();
  private subscribers = 0;
  private appendedCount = 0;
  /**
   * The newest id this log knows to be before "now" without asking the table: the last it published,
   * the last this instance committed, or (tail mode) where the tail started. null until one is known.
   * A subscriber with no cursor starts here, fixed in the same tick its listener is registered.
   */
  private knownEnd: number | null = null;
  private readonly cursors = new Set<{ at: number }>();

  private readonly maxBatch: number;
  private queue: QueuedWrite[] = [];
  private flushScheduled = false;
  private running: Promise<void> | null = null;
  private closed = false;
  private readonly batchCounters: BatchStats = { batches: 0, items: 0, failedItems: 0, largest: 0 };
  /**
   * Tail mode (PostgreSQL: several instances may append): what subscribers hear is read back from the
   * table in id order after each commit, this instance's or another's (woken by LISTEN/NOTIFY through
   * `poke`), rather than handed over in-process. Appends are serialised by the store's write turn, so
   * ids become visible in order and the tail never skips one that commits late.
   */
  private readonly tail: { at: number | null; running: Promise<void> | null; again: boolean } | null;

  constructor(
    readonly db: Db,
    opts: EventLogOptions = {},
  ) {
    this.emitter.setMaxListeners(0);
    this.maxBatch = Math.max(1, Math.floor(opts.maxBatch ?? DEFAULT_WRITE_BATCH_MAX));
    this.tail = db.$store.dialect === 'pg' ? { at: null, running: null, again: false } : null;
  }

  /**
   * Tail mode: read what was committed after the last published id and publish it (coalesced: one
   * reader at a time, run again if poked meanwhile). Called after each local commit and on every
   * NOTIFY from another instance; a no-op on SQLite.
   */
  poke(): void {
    const tail = this.tail;
    if (!tail || this.closed) return;
    if (tail.running) {
      tail.again = true;
      return;
    }
    tail.running = detached(async () => {
      try {
        do {
          tail.again = false;
          tail.at ??= await this.lastIdBeforeTail();
          for (;;) {
            const page = await this.readAfter(tail.at, BACKFILL_PAGE);
            if (page.length === 0) break;
            tail.at = page[page.length - 1]?.id ?? tail.at;
            this.publish(page);
            if (page.length < BACKFILL_PAGE) break;
          }
        } while (tail.again && !this.closed);
      } catch {
        // The next poke (a commit, a NOTIFY, the poll) reads again from the same id: nothing is lost.
      } finally {
        tail.running = null;
      }
    });
  }

  /** Where the tail starts: the table's last id when this log was first poked (older events are history, not news). */
  private async lastIdBeforeTail(): Promise<number> {
    return await this.lastId();
  }

  /** Tail mode: starts at the table's current end (call once at start, before anything is appended). */
  async startTail(): Promise<void> {
    if (this.tail) this.tail.at ??= await this.lastId();
  }

  /**
   * Runs `fn` in one transaction with an `append` bound to it, then (after commit) publishes what was
   * appended. The only way state changes in Parley. Inside an open transaction it is a savepoint of
   * it instead (an error rolls back only what `fn` did), and its events are published with the
   * enclosing transaction's, after that commits.
   */
  async write<T>(fn: (tx: Tx, append: Append) => T | Promise<T>): Promise<T> {
    return this.db.$store.tx(async (tx, level) => {
      this.hook(level.root);
      return fn(tx, this.appender(level));
    });
  }

  /**
   * Group commit: queues `fn` for the writer and resolves once the transaction holding it has
   * committed (rejects with `fn`'s own error, which rolled back only `fn`'s savepoint). The first
   * write queued on an idle log runs at the end of this turn of the event loop (setImmediate, no
   * timer), with whatever else was queued by then, at most `maxBatch` per transaction. Another
   * process holding the write lock: every write of that batch rejects with SQLite's busy error
   * (nothing ran), as a lone `write` would. Called inside an open write, it is that write's savepoint.
   */
  async writeBatched<T>(fn: (tx: Tx, append: Append) => T | Promise<T>): Promise<T> {
    if (!this.db.$store.groupsCommits || this.db.$store.current()) return await this.write(fn);
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
    if (this.flushScheduled || this.running || this.queue.length === 0) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const items = this.queue.splice(0, this.maxBatch);
    if (items.length === 0) return;
    this.running = this.runBatch(items).finally(() => {
      this.running = null;
      // More than one batch's worth: the next runs after I/O had its turn (new requests join it).
      this.scheduleFlush();
    });
  };

  /** One transaction (BEGIN IMMEDIATE) for `items`, a savepoint each; commit, publish, then answer each. */
  private async runBatch(items: QueuedWrite[]): Promise<void> {
    type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
    const outcomes: Outcome[] = [];
    const store = this.db.$store;
    this.batchCounters.batches += 1;
    this.batchCounters.items += items.length;
    this.batchCounters.largest = Math.max(this.batchCounters.largest, items.length);
    /** Set when the transaction itself was lost (BEGIN, COMMIT, or an error SQLite rolls everything back for). */
    let batchError: { error: unknown } | null = null;
    /** Items the lost transaction never reached: they go back to the head of the queue. */
    let notRun: QueuedWrite[] = [];
    try {
      await store.tx(async (_tx, root) => {
        this.hook(root.root);
        for (let i = 0; i < items.length; i++) {
          const item = items[i] as QueuedWrite;
          try {
            // A savepoint of the batch; its events join the batch's only if it returns.
            const value = await store.tx((tx, level) => item.fn(tx, this.appender(level)));
            outcomes.push({ ok: true, value });
          } catch (error) {
            outcomes.push({ ok: false, error });
            if (!store.alive()) {
              // SQLite rolled the whole transaction back (busy, disk full…): nothing of this batch is stored.
              notRun = items.slice(i + 1);
              batchError = { error };
              throw error;
            }
          }
        }
      });
    } catch (error) {
      batchError ??= { error };
    }

    if (batchError) {
      const { error } = batchError;
      // What had run is rolled back with the transaction: each caller hears its own error, or the batch's.
      outcomes.forEach((o, i) => items[i]?.reject(o.ok ? error : o.error));
      items.slice(outcomes.length, items.length - notRun.length).forEach((item) => item.reject(error));
      if (notRun.length > 0) this.queue.unshift(...notRun);
      return;
    }
    for (const o of outcomes) if (!o.ok) this.batchCounters.failedItems += 1;
    outcomes.forEach((o, i) => (o.ok ? items[i]?.resolve(o.value) : items[i]?.reject(o.error)));
  }

  private appender(level: TxLevel): Append {
    return (event) => {
      level.events.push(event);
    };
  }

  /** Once per transaction: insert its events last, before COMMIT; publish them after. */
  private hook(root: TxRoot): void {
    if (root.marks.has(this)) return;
    root.marks.add(this);
    let stored: ParleyEvent[] = [];
    root.beforeCommit.push(async () => {
      if (root.events.length === 0) return;
      stored = await this.insertEvents(root.events);
      const last = stored[stored.length - 1];
      if (this.tail && last) {
        // Not started yet (startTail): everything before this append is history. Appends take turns,
        // so every id below ours is committed.
        this.tail.at ??= (stored[0]?.id ?? last.id) - 1;
        await this.db.$store.announce?.(last.id);
      }
    });
    root.afterCommit.push(() => {
      this.advanceKnownEnd(stored[stored.length - 1]?.id);
      return this.tail ? stored.length > 0 && this.poke() : this.publish(stored);
    });
  }

  private async insertEvents(bodies: ParleyEventBody[]): Promise<ParleyEvent[]> {
    const createdAt = Date.now();
    const at = new Date(createdAt).toISOString();
    const rows: { id: number }[] = [];
    // A few hundred rows per statement: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
    for (let i = 0; i < bodies.length; i += EVENT_INSERT_BATCH) {
      const chunk = bodies.slice(i, i + EVENT_INSERT_BATCH);
      rows.push(
        ...(await this.db
          .insert(events)
          .values(chunk.map((e) => ({ type: e.type, payload: JSON.stringify(e.payload), createdAt })))
          .returning({ id: events.id })),
      );
    }
    if (rows.length !== bodies.length) throw new Error('event insert returned fewer rows than it inserted');
    const ids = rows.map((r) => r.id).sort((a, b) => a - b);
    return bodies.map((e, i) => ({ ...e, id: ids[i] as number, createdAt: at }) as ParleyEvent);
  }

  private advanceKnownEnd(id: number | null | undefined): void {
    if (id !== null && id !== undefined) this.knownEnd = Math.max(this.knownEnd ?? 0, id);
  }

  private publish(appended: ParleyEvent[]): void {
    if (appended.length === 0) return;
    this.advanceKnownEnd(appended[appended.length - 1]?.id);
    this.appendedCount += appended.length;
    this.emitter.emit('events', appended);
  }

  /** Events with id > afterId, oldest first. */
  async readAfter(afterId: number, limit = BACKFILL_PAGE): Promise<ParleyEvent[]> {
    const rows = await this.db.select().from(events).where(gt(events.id, afterId)).orderBy(asc(events.id)).limit(limit);
    return rows.map(
      (r) =>
        ({
          id: r.id,
          type: r.type,
          payload: JSON.parse(r.payload) as unknown,
          createdAt: new Date(r.createdAt).toISOString(),
        }) as ParleyEvent,
    );
  }

  async lastId(): Promise<number> {
    const [row] = await this.db.select({ id: max(events.id) }).from(events);
    return row?.id ?? 0;
  }

  get stats(): { subscribers: number; appended: number } {
    return { subscribers: this.subscribers, appended: this.appendedCount };
  }

  /** The oldest event still in the table (0 when it is empty). */
  async firstId(): Promise<number> {
    const [row] = await this.db.select({ id: min(events.id) }).from(events);
    return row?.id ?? 0;
  }

  /**
   * Whether resuming after `afterId` is still possible: false when compaction removed events after
   * it (the client must refetch its state and start again from the tail).
   */
  async canResumeAfter(afterId: number): Promise<boolean> {
    const first = await this.firstId();
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
    // No cursor: from now on, fixed in this tick with the listener already registered, so whatever is
    // published from here on is in `pending`, and nothing committed here before is repeated. (Reading
    // the table's end instead, awaited, skipped whatever committed during the read.)
    const ends = [this.knownEnd, this.tail?.at ?? null].filter((id) => id !== null);
    const known = afterId ?? (ends.length > 0 ? Math.max(...ends) : null);
    const cursor = { at: known ?? (await this.lastId()) };
    // Nothing known yet (no commit or publish since start): what was published during that read came
    // after subscribing, even if the read already counted it.
    if (known === null && pending[0]) cursor.at = Math.min(cursor.at, pending[0].id - 1);
    this.cursors.add(cursor);
    // Behind: read pages from the table. Caught up: take live events from `pending`.
    let fromTable = true;
    try {
      while (!controller.signal.aborted) {
        if (fromTable) {
          await pace(controller.signal);
          if (controller.signal.aborted) break;
          const page = await this.readAfter(cursor.at);
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
    const lastId = await this.lastId();
    if (lastId === 0) return 0;
    const ageCut = (opts.now ?? Date.now()) - opts.maxAgeMs;
    const countCut = lastId - Math.max(1, Math.floor(opts.keepCount));
    let removed = 0;
    let lo = await this.firstId();
    for (;;) {
      // Re-read each round: a subscriber may have started meanwhile.
      const oldest = this.oldestCursor();
      const limit = Math.min(lastId - 1, oldest ?? Number.MAX_SAFE_INTEGER);
      if (lo === 0 || lo > limit) break;
      const hi = lo + chunk;
      const changes = affected(
        await this.db
          .delete(events)
          .where(
            and(gte(events.id, lo), lt(events.id, hi), lte(events.id, limit), or(lte(events.id, countCut), lt(events.createdAt, ageCut))),
          ),
      );
      removed += changes;
      // Ids and times grow together: past the count cut, a chunk that removed nothing ends it.
      if (lo > countCut && changes === 0) break;
      lo = hi;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return removed;
  }

  /** Runs what is still queued (the server closes the database right after), then stops publishing. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running || this.queue.length > 0) {
      if (this.running) await this.running;
      else await this.runBatch(this.queue.splice(0, this.maxBatch));
    }
    this.emitter.removeAllListeners();
  }
}
