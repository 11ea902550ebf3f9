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

export interface Listeners {
  /** Some instance committed an append (or the connection was back after a loss: look anyway). */
  onAppended(): void;
  /** Some instance asked `job` to look again; null after a loss (wakes sent meanwhile are gone). */
  onWake(job: string | null): void;
}

type PgFrame = TxFrame & { conn: pg.PoolClient };

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
  connection(): pg.PoolClient | undefined {
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
    const { sql: text, params } = dialect.sqlToQuery(query);
    const target = this.connection() ?? this.pool;
    const result = await target.query<T>(text, params);
    return result.rows;
  }

  async execute(query: SQL): Promise<number> {
    const { sql: text, params } = dialect.sqlToQuery(query);
    const target = this.connection() ?? this.pool;
    const result = await target.query(text, params);
    return result.rowCount ?? 0;
  }

  /** Announces appended events (inside the transaction: delivered to listeners at its COMMIT). */
  async announce(lastEventId: number): Promise<void> {
    const conn = this.connection();
    if (!conn) return;
    await conn.query('select pg_notify($1, $2)', [EVENTS_CHANNEL, String(lastEventId)]);
  }

  /** Asks the lease holder's `job` to look again (NOTIFY, from outside any transaction; best effort: jobs also poll). */
  wake(job: string): void {
    this.pool.query('select pg_notify($1, $2)', [WAKE_CHANNEL, job]).catch(() => undefined);
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
      });
      c.on('error', () => {
        if (failed) return;
        failed = true;
        if (conn === c) conn = undefined;
        void c.end().catch(() => undefined);
        if (!stopped) retry = setTimeout(reconnect, 1000);
      });
      await c.connect();
      await c.query(`LISTEN ${EVENTS_CHANNEL}; LISTEN ${WAKE_CHANNEL}`);
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
      await conn.query('BEGIN');
      await conn.query('select pg_advisory_xact_lock($1)', [WRITE_LOCK_KEY]);
      const frame: PgFrame = { store: this, level: root, root, conn };
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
    await outer.conn.query(`SAVEPOINT ${name}`);
    const level: TxLevel = { events: [], root: outer.root };
    try {
      const result = await txFrames.run({ ...outer, level }, () => fn(this.db, level));
      await outer.conn.query(`RELEASE SAVEPOINT ${name}`);
      outer.level.events.push(...level.events);
      return result;
    } catch (err) {
      try {
        await outer.conn.query(`ROLLBACK TO SAVEPOINT ${name}`);
        await outer.conn.query(`RELEASE SAVEPOINT ${name}`);
      } catch {
        // The transaction is lost (the connection broke, or PostgreSQL aborted it): alive() says so.
        this.aborted.add(outer.root);
      }
      throw err;
    }
  }
}
