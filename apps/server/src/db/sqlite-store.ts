/**
 * The SQLite store: drizzle's async SQLite driver (sqlite-proxy) over two better-sqlite3 connections.
 *
 * - The writer holds every transaction, one at a time (SQLite's own rule): `tx` waits for an
 *   in-process mutex, runs BEGIN IMMEDIATE, awaits its callback and commits. Queries from the async
 *   context that opened it run on the writer, inside it.
 * - Everything else reads through a second, read-only connection: WAL gives it the last committed
 *   state, so a read can never see another caller's uncommitted rows while a transaction is open
 *   across an await. A write outside any transaction waits for the mutex and runs alone (autocommit).
 *
 * better-sqlite3 is synchronous: each statement still runs to completion on the event loop, as
 * before; only the gaps between a transaction's statements became awaits.
 */
import Database from 'better-sqlite3';
import type { SQL } from 'drizzle-orm';
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core';
import type { Db } from './client';
import { Mutex, newRoot, txFrames, type Store, type TxFrame, type TxLevel, type TxOptions } from './store';

type Method = 'run' | 'all' | 'values' | 'get';

type Frame = TxFrame;

/** Prepared statements kept per connection (drizzle's SQL for one query shape is always the same text). */
const STATEMENT_CACHE_MAX = 1000;

class StatementCache {
  private readonly map = new Map<string, Database.Statement>();
  constructor(private readonly conn: Database.Database) {}
  get(sqlText: string): Database.Statement {
    let stmt = this.map.get(sqlText);
    if (!stmt) {
      stmt = this.conn.prepare(sqlText);
      if (this.map.size >= STATEMENT_CACHE_MAX) this.map.clear();
      this.map.set(sqlText, stmt);
    }
    return stmt;
  }
}

const dialect = new SQLiteSyncDialect();

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  readonly groupsCommits = true;
  /** Set by openDb right after construction. */
  db!: Db;
  suppressionKey?: Buffer;
  private readonly writerLock = new Mutex();
  private readonly reader: Database.Database;
  private readonly writerStatements: StatementCache;
  private readonly readerStatements: StatementCache;
  private savepoints = 0;

  constructor(
    private readonly writer: Database.Database,
    path: string | null,
    busyTimeoutMs: number,
  ) {
    // ':memory:' has no second connection: reads share the writer (tests only; never the server).
    this.reader = path === null ? writer : new Database(path, { readonly: true, fileMustExist: true });
    if (this.reader !== writer) {
      this.reader.pragma(`busy_timeout = ${busyTimeoutMs}`);
    }
    this.writerStatements = new StatementCache(writer);
    this.readerStatements = this.reader === writer ? this.writerStatements : new StatementCache(this.reader);
  }

  /** drizzle's sqlite-proxy callback: every query of `db` comes through here. */
  readonly callback = async (sqlText: string, params: unknown[], method: Method): Promise<{ rows: unknown[] }> => {
    if (this.frame()) return run(this.writerStatements.get(sqlText), params, method);
    const readStmt = this.readerStatements.get(sqlText);
    if (readStmt.readonly) return run(readStmt, params, method);
    const release = await this.writerLock.acquire();
    try {
      return run(this.writerStatements.get(sqlText), params, method);
    } finally {
      release();
    }
  };

  current(): TxLevel | undefined {
    return this.frame()?.level;
  }

  alive(): boolean {
    return this.writer.inTransaction;
  }

  async tx<T>(fn: (tx: Db, level: TxLevel) => Promise<T> | T, _opts?: TxOptions): Promise<T> {
    const frame = this.frame();
    if (frame) return this.savepoint(frame, fn);
    const release = await this.writerLock.acquire();
    try {
      return await this.runRoot(fn);
    } finally {
      release();
    }
  }

  async rows<T extends Record<string, unknown>>(query: SQL): Promise<T[]> {
    const { sql: text, params } = dialect.sqlToQuery(query);
    const conn = this.frame() ? this.writerStatements : this.readerStatements;
    const stmt = conn.get(text);
    if (stmt.readonly || this.frame()) return stmt.raw(false).all(...params) as T[];
    const release = await this.writerLock.acquire();
    try {
      return this.writerStatements
        .get(text)
        .raw(false)
        .all(...params) as T[];
    } finally {
      release();
    }
  }

  async execute(query: SQL): Promise<number> {
    const { sql: text, params } = dialect.sqlToQuery(query);
    if (this.frame()) return this.writerStatements.get(text).run(...params).changes;
    const release = await this.writerLock.acquire();
    try {
      return this.writerStatements.get(text).run(...params).changes;
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    // Wait for a transaction still running, then close both connections.
    const release = await this.writerLock.acquire();
    try {
      if (this.reader !== this.writer && this.reader.open) this.reader.close();
      if (this.writer.open) this.writer.close();
    } finally {
      release();
    }
  }

  /** A write between transactions with a short busy timeout of its own (the health probe: a lock held elsewhere answers at once). */
  async executeImpatient(query: SQL, busyTimeoutMs: number): Promise<number> {
    const { sql: text, params } = dialect.sqlToQuery(query);
    const release = await this.writerLock.acquire();
    const previous = Number(this.writer.pragma('busy_timeout', { simple: true }));
    try {
      this.writer.pragma(`busy_timeout = ${busyTimeoutMs}`);
      return this.writerStatements.get(text).run(...params).changes;
    } finally {
      if (Number.isFinite(previous)) this.writer.pragma(`busy_timeout = ${previous}`);
      release();
    }
  }

  /**
   * Resolves once no transaction of this process is open or waiting (tests: the first passes of the
   * background jobs right after a start have committed before a test touches the file itself).
   */
  async quiesce(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      (await this.writerLock.acquire())();
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (!this.writerLock.busy) return;
    }
  }

  /** Whether the writer is open and answers (the health check's first question). */
  async ping(): Promise<void> {
    if (!this.writer.open) throw new Error('the database connection is closed');
    this.writerStatements.get('select 1').get();
    await Promise.resolve();
  }

  /** WAL checkpoint (TRUNCATE) on the writer between transactions; false when a reader kept it from completing. */
  async checkpoint(): Promise<boolean> {
    const release = await this.writerLock.acquire();
    try {
      const [row] = this.writer.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      return row !== undefined && row.busy === 0;
    } finally {
      release();
    }
  }

  /** Closes the read connection (the writer is closed by its owner): for callers that close `$client` themselves. */
  closeReader(): void {
    if (this.reader !== this.writer && this.reader.open) this.reader.close();
  }

  private frame(): Frame | undefined {
    const f = txFrames.getStore();
    return f && f.store === this && !f.root.closed ? f : undefined;
  }

  private async runRoot<T>(fn: (tx: Db, level: TxLevel) => Promise<T> | T): Promise<T> {
    const root = newRoot();
    this.writer.exec('BEGIN IMMEDIATE');
    try {
      const result = await txFrames.run({ store: this, level: root, root }, async () => {
        const value = await fn(this.db, root);
        for (const hook of root.beforeCommit) await hook();
        return value;
      });
      this.writer.exec('COMMIT');
      root.closed = true;
      for (const hook of root.afterCommit) hook();
      return result;
    } catch (err) {
      root.closed = true;
      if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
      throw err;
    }
  }

  private async savepoint<T>(outer: Frame, fn: (tx: Db, level: TxLevel) => Promise<T> | T): Promise<T> {
    const name = `parley_sp_${++this.savepoints}`;
    this.writer.exec(`SAVEPOINT ${name}`);
    const level: TxLevel = { events: [], root: outer.root };
    try {
      const result = await txFrames.run({ store: this, level, root: outer.root }, () => fn(this.db, level));
      this.writer.exec(`RELEASE ${name}`);
      outer.level.events.push(...level.events);
      return result;
    } catch (err) {
      if (this.writer.inTransaction) {
        this.writer.exec(`ROLLBACK TO ${name}`);
        this.writer.exec(`RELEASE ${name}`);
      }
      throw err;
    }
  }
}

function run(
  stmt: Database.Statement,
  params: unknown[],
  method: Method,
): { rows: unknown[]; changes?: number; lastInsertRowid?: number | bigint } {
  if (method === 'run' && !stmt.reader) {
    const r = stmt.run(...params);
    return { rows: [], changes: r.changes, lastInsertRowid: r.lastInsertRowid };
  }
  if (!stmt.reader) {
    stmt.run(...params);
    return { rows: [] };
  }
  const raw = stmt.raw(true);
  if (method === 'get') return { rows: raw.get(...params) as unknown[] | undefined as unknown[] };
  if (method === 'run') {
    raw.all(...params);
    return { rows: [] };
  }
  return { rows: raw.all(...params) as unknown[] };
}
