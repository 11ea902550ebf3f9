import { EventEmitter, on } from 'node:events';
import { asc, gt, sql } from 'drizzle-orm';
import type { ParleyEvent, ParleyEventBody } from '@parley/shared';
import type { Db } from '../db/client';
import { events } from '../db/schema';

/** The transaction handle domain functions write through (drizzle's, inside db.transaction). */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

const BACKFILL_PAGE = 500;

/**
 * The event log: `append` inside the writer's transaction; after commit `write` wakes subscribers.
 * `subscribe(afterId)` listens first, then backfills from the table, then follows live events,
 * skipping anything at or before the last id it yielded, so nothing is missed and nothing repeats.
 */
export class EventLog {
  private readonly emitter = new EventEmitter();
  private subscribers = 0;
  private appendedCount = 0;

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
  write<T>(fn: (tx: Tx, append: (event: ParleyEventBody) => ParleyEvent) => T): T {
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

  /** Backfill after `afterId` (null: only new events), then follow live until `signal` aborts. */
  async *subscribe(afterId: number | null, signal?: AbortSignal): AsyncGenerator<ParleyEvent> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener('abort', abort, { once: true });
    // Listen before reading the table: whatever commits during the backfill is buffered here.
    const live = on(this.emitter, 'events', { signal: controller.signal }) as AsyncIterableIterator<[ParleyEvent[]]>;
    this.subscribers += 1;
    let cursor = afterId ?? this.lastId();
    try {
      for (;;) {
        const page = this.readAfter(cursor);
        for (const event of page) {
          cursor = event.id;
          yield event;
        }
        if (page.length < BACKFILL_PAGE) break;
      }
      for await (const [batch] of live) {
        for (const event of batch) {
          if (event.id <= cursor) continue;
          cursor = event.id;
          yield event;
        }
      }
    } catch (err) {
      if (!controller.signal.aborted) throw err;
    } finally {
      this.subscribers -= 1;
      signal?.removeEventListener('abort', abort);
      controller.abort();
    }
  }

  close(): void {
    this.emitter.removeAllListeners();
  }
}
