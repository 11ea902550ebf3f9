/**
 * The store: how the domain reaches its database, the same on SQLite and PostgreSQL.
 *
 * Domain code awaits drizzle queries on `db` and writes through `store.tx` (or `EventLog.write`,
 * which is built on it). A transaction is *ambient*: inside `tx(fn)` every query made in that async
 * context — on the `tx` handle or on `db` itself — runs in the transaction (AsyncLocalStorage), so a
 * helper handed `db` from inside a write sees that write's rows. A `tx` inside an open one is a
 * savepoint of it: an error in it rolls back only what it did.
 *
 * Each transaction level collects the events appended in it (`events`); a savepoint hands them to the
 * level around it when it succeeds and drops them when it fails; the outermost runs its
 * `beforeCommit` hooks (the event log inserts the events there, last, just before COMMIT) and, once
 * committed, its `afterCommit` hooks (the event log publishes).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SQL } from 'drizzle-orm';
import type { ParleyEventBody } from '@parley/shared';
import type { Db } from './client';

export type Dialect = 'sqlite' | 'pg';

/** The transaction open in an async context: which store, which level (shared by every store, so `detached` leaves all). */
export interface TxFrame {
  store: object;
  level: TxLevel;
  root: TxRoot;
}
export const txFrames = new AsyncLocalStorage<TxFrame>();

/**
 * Runs `fn` outside any transaction of this async context, and so does everything it starts. For
 * work that a write only *triggers* (waking the outbox worker, a feeder, a fetcher): started inside
 * an open transaction it would otherwise join it, without the writer's lock, and roll back with it.
 */
export function detached<T>(fn: () => T): T {
  // run() with no frame rather than exit(): on Node 20 exit() disables and re-enables the storage
  // (its async hook) around `fn`, which is neither needed here nor cheap.
  return txFrames.run(undefined as unknown as TxFrame, fn);
}

/** One level of a transaction: the outermost or a savepoint in it. */
export interface TxLevel {
  /** Events appended at this level, in order (the event log's). */
  events: ParleyEventBody[];
  readonly root: TxRoot;
}

/** The outermost level, with what runs around its COMMIT. */
export interface TxRoot extends TxLevel {
  /** Run in order, inside the transaction, after its callback returned and before COMMIT. */
  beforeCommit: (() => Promise<void>)[];
  /** Run in order after COMMIT (never after a rollback). */
  afterCommit: (() => void)[];
  /** Set once it committed or rolled back: queries from a context it started then run outside it. */
  closed: boolean;
  /** Free for the owners of hooks to mark a root as hooked (the event log keys on itself). */
  readonly marks: Set<unknown>;
}

export interface TxOptions {
  /** The outermost level only: run the whole thing again on a transient conflict (PostgreSQL 40001/40P01; SQLite: busy at BEGIN). */
  retry?: boolean;
}

export interface Store {
  readonly dialect: Dialect;
  /** `fn` in one transaction (a savepoint of the open one, when this async context has one). */
  tx<T>(fn: (tx: Db, level: TxLevel) => Promise<T> | T, opts?: TxOptions): Promise<T>;
  /** The transaction level open in this async context, if any. */
  current(): TxLevel | undefined;
  /** Whether the transaction open in this context is still alive (SQLite rolls everything back on some errors). */
  alive(): boolean;
  /** Whether writes from different callers may share one transaction (group commit): both stores serialise write turns, so both gain. */
  readonly groupsCommits: boolean;
  /** Rows of a raw query as objects (column name → value), in this context's transaction if one is open. */
  rows<T extends Record<string, unknown>>(query: SQL): Promise<T[]>;
  /** Rows changed by a raw statement. */
  execute(query: SQL): Promise<number>;
  /** PostgreSQL: tells every instance (NOTIFY, delivered at commit) that events up to this id were appended. */
  announce?(lastEventId: number): Promise<void>;
  /** The suppression list's HMAC key (domain/suppression.ts), loaded when the database is opened. */
  suppressionKey?: Buffer;
  close(): Promise<void>;
}

/** A new outermost level. */
export function newRoot(): TxRoot {
  const root = { events: [], beforeCommit: [], afterCommit: [], closed: false, marks: new Set() } as unknown as TxRoot;
  (root as { root: TxRoot }).root = root;
  return root;
}

/** Runs `fn` in one transaction of the store (a savepoint when one is already open in this async context). */
export async function runTx<T>(db: Db, fn: (tx: Db) => Promise<T> | T, opts?: TxOptions): Promise<T> {
  return db.$store.tx(fn, opts);
}

/** Rows changed by a write, from either driver's result (better-sqlite3's `changes`, node-postgres's `rowCount`). */
export function affected(result: unknown): number {
  const r = result as { changes?: unknown; rowCount?: unknown } | null | undefined;
  if (typeof r?.changes === 'number') return r.changes;
  if (typeof r?.rowCount === 'number') return r.rowCount;
  return 0;
}

/** A small async mutex: `acquire()` resolves with the release function once every earlier holder released. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private held = 0;

  get busy(): boolean {
    return this.held > 0;
  }

  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const ready = this.tail.then(() => {
      this.held += 1;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        this.held -= 1;
        release();
      };
    });
    this.tail = this.tail.then(() => next);
    return ready;
  }
}

/** The one row a write's `returning()` gave back (an insert or an update by primary key that must match). */
export function one<T>(rows: readonly T[]): T {
  const row = rows[0];
  if (row === undefined) throw new Error('expected the statement to return a row');
  return row;
}

/** `items.map(fn)` for an async `fn`, one after another (statements of one transaction run in order). */
export async function mapInOrder<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await fn(item));
  return out;
}
