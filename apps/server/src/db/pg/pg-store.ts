/**
 * The PostgreSQL store: drizzle's node-postgres driver over a pool, with the same ambient
 * transactions as the SQLite store (db/store.ts).
 *
 * - `tx` takes a connection from the pool, BEGINs and runs its callback with that connection in the
 *   async context (txFrames): every query of that context goes to it; a `tx` inside is a SAVEPOINT.
 *   Queries outside any transaction take any pooled connection (autocommit).
 * - Write transactions take turns, across every Parley instance on the database: the first
 *   statement of each is `pg_advisory_xact_lock(WRITE_LOCK)`, held until COMMIT or ROLLBACK. The
 *   domain was written for SQLite's single writer (read, decide, write in one transaction); with the
 *   lock it keeps exactly those semantics on PostgreSQL, and the event ids a transaction appends are
 *   assigned and committed in one order, so a reader tailing `events` by id never sees 11 before 10.
 *   Reads (the large majority: lists, streams, stats) never wait for it. Inside one process the
 *   transactions queue on a mutex first, so waiting writers hold no pooled connection.
 * - After the events of a transaction are inserted, `pg_notify('parley_events', lastId)` is sent in
 *   it: PostgreSQL delivers it at COMMIT, to every instance LISTENing (see tailPgEvents in wiring/core.ts).
 */
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { Db } from '../client';
import { isNumeric, parseInt8 } from './client';
import { Mutex, newRoot, txFrames, type Store, type TxFrame, type TxLevel, type TxOptions } from '../store';

const PgClient = pg.Client;

/** The key of the write turn (any fixed int8; 'prly'). */
export const WRITE_LOCK_KEY = 0x70726c79;
/** The channel a committed append is announced on. */
export const EVENTS_CHANNEL = 'parley_events';
/** The channel an instance asks the lease holder's job (the payload: its name) to look again on. */
export const WAKE_CHANNEL = 'parley_wake';
/** The channel presence changes are relayed on (in memory everywhere, never stored). */
export const PRESENCE_CHANNEL = 'parley_presence';

export interface Listeners {
  /** Some instance committed an append (or the connection was back after a loss: look anyway). */
  onAppended(): void;
  /** Some instance asked `job` to look again; null after a loss (wakes sent meanwhile are gone). */
  onWake(job: string | null): void;
  /** A payload on PRESENCE_CHANNEL (this instance's own too: the sender recognises its own). */
  onPresence?(payload: string): void;
}

type PgFrame = TxFrame & { conn: TxConn };

/**
 * A transaction's connection, with its savepoints set lazily, to spare round trips (each is one on
 * the network; a webhook's write used four for its two nested savepoints):
 * - a level opened is *pending* until a statement runs inside it: the statement is preceded, in one
 *   message, by the SAVEPOINTs of every pending level (a level in which nothing ran needs none, and
 *   rolls back for free);
 * - a level that succeeds is not RELEASEd then: the next SAVEPOINT sent releases it in the same
 *   message (releasing a savepoint releases every one set after it; COMMIT releases the rest);
 * - a level that fails is rolled back to at once (ROLLBACK TO keeps it set; it is then released with
 *   the next, like a successful one).
 * Levels nest (statements of one transaction run in order), so the closed savepoints still set are
 * always the innermost ones.
 */
class TxConn {
  /** Savepoints set on the server, outermost first: the open levels, then closed ones not yet released. */
  private set: string[] = [];
  /** Levels opened in which nothing ran yet, outermost first (all inside every set one). */
  private pending: string[] = [];
  private readonly open = new Set<string>();

  constructor(readonly conn: pg.PoolClient) {}

  query(config: unknown, values?: unknown): Promise<unknown> {
    const run = this.conn.query.bind(this.conn) as (c: unknown, v?: unknown) => Promise<unknown>;
    const before = this.establish();
    if (before === null) return run(config, values);
    // pg runs a client's queries in the order they were issued: the savepoints first.
    return Promise.all([this.conn.query(before), run(config, values)]).then(([, result]) => result);
  }

  opened(name: string): void {
    this.open.add(name);
    this.pending.push(name);
  }

  succeeded(name: string): void {
    this.open.delete(name);
    this.pending = this.pending.filter((n) => n !== name);
  }

  /** The statement that undoes the failed level now, or null when nothing ran in it. */
  failed(name: string): string | null {
    this.open.delete(name);
    const waiting = this.pending.indexOf(name);
    if (waiting >= 0) {
      this.pending.length = waiting;
      return null;
    }
    const at = this.set.indexOf(name);
    if (at < 0) return null;
    this.set.length = at + 1;
    return `ROLLBACK TO SAVEPOINT ${name}`;
  }

  /** The SAVEPOINTs (and the RELEASE of closed levels) to send before the next statement, or null. */
  private establish(): string | null {
    if (this.pending.length === 0) return null;
    const parts: string[] = [];
    const closed = this.set.findIndex((n) => !this.open.has(n));
    if (closed >= 0) {
      parts.push(`RELEASE SAVEPOINT ${this.set[closed] as string}`);
      this.set.length = closed;
    }
    for (const name of this.pending) parts.push(`SAVEPOINT ${name}`);
    this.set.push(...this.pending);
    this.pending = [];
    return parts.join('; ');
  }
}

const dialect = new PgDialect();

/** The client drizzle is given: each query goes to this context's transaction connection, else to the pool. */
class RoutingClient {
  constructor(
    private readonly store: PgStore,
    private readonly pool: pg.Pool,
  ) {}

  query(config: unknown, values?: unknown): Promise<unknown> {
    const target = this.store.connection() ?? this.pool;
    return (target.query as (c: unknown, v?: unknown) => Promise<unknown>)(withNumbers(config), values);
  }
}

/**
 * drizzle hands each query its own type parsers (over pg's global ones), so the pool's int8/numeric
 * parsers (db/pg/client.ts) would not apply to raw `sql` columns: put them in front of drizzle's.
 */
function withNumbers(config: unknown): unknown {
  const c = config as { types?: pg.CustomTypesConfig } | null;
  if (typeof c !== 'object' || c === null || !c.types) return config;
  const inner = c.types.getTypeParser.bind(c.types) as (oid: number, format?: string) => unknown;
  return {
    ...c,
    types: { getTypeParser: (oid: number, format?: string) => (isNumeric(oid) && format !== 'binary' ? parseInt8 : inner(oid, format)) },
  };
}

/** A checked-out connection's 'error' event: the query it was running rejects with the same error, which the transaction handles. */
function onLost(): void {}

/** serialization_failure, deadlock_detected: the whole transaction may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);

export class PgStore implements Store {
  readonly dialect = 'pg' as const;
  /** Write turns are serialised (the advisory lock), so sharing one among several writes saves a BEGIN, a lock hand-over and a COMMIT's flush each. */
  readonly groupsCommits = true;
  /** Set by openPgStoreDb (db/pg/client.ts) right after construction. */
  db!: Db;
  suppressionKey?: Buffer;
  readonly client: RoutingClient;
  private readonly writers = new Mutex();
  private savepoints = 0;
  private closed = false;
  /** Transactions PostgreSQL aborted (a savepoint could not be rolled back): nothing more runs in them, and COMMIT would only roll back. */
  private readonly aborted = new WeakSet<object>();

  constructor(readonly pool: pg.Pool) {
    this.client = new RoutingClient(this, pool);
  }

  /** The connection of the transaction open in this async context, if any. */
  connection(): TxConn | undefined {
    return this.frame()?.conn;
  }

  current(): TxLevel | undefined {
    return this.frame()?.level;
  }

  alive(): boolean {
    const f = this.frame();
    return f !== undefined && !f.root.closed && !this.aborted.has(f.root);
  }

  async tx<T>(fn: (tx: Db, level: TxLevel) => Promise<T> | T, opts?: TxOptions): Promise<T> {
    const frame = this.frame();
    if (frame) return this.savepoint(frame, fn);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.runRoot(fn);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (opts?.retry !== true || typeof code !== 'string' || !RETRYABLE.has(code) || attempt >= 4) throw err;
        await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
      }
    }
  }

  async rows<T extends Record<string, unknown>>(query: SQL): Promise<T[]> {
    return ((await this.run(query)) as pg.QueryResult<T>).rows;
  }

  async execute(query: SQL): Promise<number> {
    return (await this.run(query)).rowCount ?? 0;
  }

  /** A raw query in this context's transaction, else on any pooled connection. */
  private async run(query: SQL): Promise<pg.QueryResult> {
    const { sql: text, params } = dialect.sqlToQuery(query);
    const conn = this.connection();
    return (conn ? await conn.query(text, params) : await this.pool.query(text, params)) as pg.QueryResult;
  }

  /** Announces appended events (inside the transaction: delivered to listeners at its COMMIT). */
  async announce(lastEventId: number): Promise<void> {
    const conn = this.connection();
    if (!conn) return;
    await conn.query('select pg_notify($1, $2)', [EVENTS_CHANNEL, String(lastEventId)]);
  }

  /** Asks the lease holder's `job` to look again (NOTIFY, from outside any transaction; best effort: jobs also poll). */
  wake(job: string): void {
    this.notify(WAKE_CHANNEL, job);
  }

  /** NOTIFY from outside any transaction, best effort (a lost one is covered by each channel's own fallback). */
  notify(channel: string, payload: string): void {
    this.pool.query('select pg_notify($1, $2)', [channel, payload]).catch(() => undefined);
  }

  /**
   * LISTENs for appends announced and wakes asked by any instance (a connection of its own,
   * reconnected after an error); both listeners also run after each reconnect, since notifications
   * sent meanwhile are lost. Returns the function that stops listening.
   */
  async listen(listeners: Listeners): Promise<() => Promise<void>> {
    const onLoss = (): void => {
      listeners.onAppended();
      listeners.onWake(null);
    };
    let stopped = false;
    let conn: pg.Client | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    // A connection of its own, outside the pool: it stays LISTENing for the life of the instance.
    const connect = async (): Promise<void> => {
      const c = new PgClient(this.pool.options);
      let failed = false;
      c.on('notification', (n) => {
        if (n.channel === EVENTS_CHANNEL) listeners.onAppended();
        else if (n.channel === WAKE_CHANNEL && n.payload) listeners.onWake(n.payload);
        else if (n.channel === PRESENCE_CHANNEL && n.payload) listeners.onPresence?.(n.payload);
      });
      c.on('error', () => {
        if (failed) return;
        failed = true;
        if (conn === c) conn = undefined;
        void c.end().catch(() => undefined);
        if (!stopped) retry = setTimeout(reconnect, 1000);
      });
      await c.connect();
      await c.query(`LISTEN ${EVENTS_CHANNEL}; LISTEN ${WAKE_CHANNEL}; LISTEN ${PRESENCE_CHANNEL}`);
      if (stopped) {
        await c.end().catch(() => undefined);
        return;
      }
      conn = c;
    };
    const reconnect = (): void => {
      connect().then(onLoss, () => {
        if (!stopped) retry = setTimeout(reconnect, 1000);
      });
    };
    await connect();
    return async () => {
      stopped = true;
      clearTimeout(retry);
      const c = conn;
      conn = undefined;
      if (c) {
        c.removeAllListeners('error');
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const release = await this.writers.acquire();
    try {
      await this.pool.end();
    } finally {
      release();
    }
  }

  private frame(): PgFrame | undefined {
    const f = txFrames.getStore() as PgFrame | undefined;
    return f && f.store === this && !f.root.closed ? f : undefined;
  }

  private async runRoot<T>(fn: (tx: Db, level: TxLevel) => Promise<T> | T): Promise<T> {
    const release = await this.writers.acquire();
    let conn: pg.PoolClient | undefined;
    /** A connection whose ROLLBACK failed may still be inside the transaction: the pool must drop it. */
    let broken: Error | undefined;
    const root = newRoot();
    try {
      conn = await this.pool.connect();
      // The pool listens for errors of idle connections only: one lost while checked out (PostgreSQL
      // restarted, the backend was ended) would otherwise be an uncaught 'error' and end the process.
      // Its pending query rejects as well, and the transaction with it.
      conn.on('error', onLost);
      // One round trip: BEGIN, then wait for the write turn.
      await conn.query(`BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK_KEY})`);
      const frame: PgFrame = { store: this, level: root, root, conn: new TxConn(conn) };
      const result = await txFrames.run(frame, async () => {
        const value = await fn(this.db, root);
        for (const hook of root.beforeCommit) await hook();
        return value;
      });
      // COMMIT of a transaction PostgreSQL aborted answers ROLLBACK, not an error: callers must not hear success.
      const committed = await conn.query('COMMIT');
      if (committed.command !== 'COMMIT') throw new Error('the transaction was aborted and rolled back at COMMIT');
      root.closed = true;
      for (const hook of root.afterCommit) hook();
      return result;
    } catch (err) {
      root.closed = true;
      if (conn) {
        await conn.query('ROLLBACK').catch((e: unknown) => {
          broken = e instanceof Error ? e : new Error(String(e));
        });
      }
      throw err;
    } finally {
      conn?.off('error', onLost);
      conn?.release(broken);
      release();
    }
  }

  private async savepoint<T>(outer: PgFrame, fn: (tx: Db, level: TxLevel) => Promise<T> | T): Promise<T> {
    const name = `parley_sp_${++this.savepoints}`;
    outer.conn.opened(name);
    const level: TxLevel = { events: [], root: outer.root };
    try {
      const result = await txFrames.run({ ...outer, level }, () => fn(this.db, level));
      outer.conn.succeeded(name);
      outer.level.events.push(...level.events);
      return result;
    } catch (err) {
      const undo = outer.conn.failed(name);
      if (undo !== null) {
        try {
          await outer.conn.conn.query(undo);
        } catch {
          // The transaction is lost (the connection broke, or PostgreSQL aborted it): alive() says so.
          this.aborted.add(outer.root);
        }
      }
      throw err;
    }
  }
}
