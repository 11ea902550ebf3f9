import type Database from 'better-sqlite3';
import { getTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import type pg from 'pg';
import * as sqliteSchema from '../db/schema';

/**
 * The shape of a migrated database in terms both stores share, read from the database itself (SQLite's
 * pragmas, PostgreSQL's catalogs), so the two can be compared: tables, columns (kind, nullability,
 * default, identity), primary keys, indexes (name, columns, unique, partial predicate) and foreign keys.
 * The search index differs by design (SQLite's messages_fts table, PostgreSQL's messages_text_trgm_idx)
 * and is left out of both.
 */
export interface ColumnShape {
  name: string;
  kind: 'integer' | 'text' | 'boolean';
  nullable: boolean;
  default: string | null;
  /** Assigned by the database when not given (SQLite AUTOINCREMENT, PostgreSQL identity). */
  autoId: boolean;
}
export interface IndexShape {
  name: string;
  columns: string[];
  unique: boolean;
  where: string | null;
}
export interface ForeignKeyShape {
  column: string;
  references: string;
  onDelete: string;
}
export interface TableShape {
  columns: ColumnShape[];
  primaryKey: string[];
  indexes: IndexShape[];
  foreignKeys: ForeignKeyShape[];
}
export type SchemaShape = Record<string, TableShape>;

/** SQLite's search table and its shadow tables; drizzle's bookkeeping. */
const SQLITE_LEFT_OUT = /^(sqlite_|__drizzle|messages_fts)/;
const PG_LEFT_OUT_INDEXES = new Set(['messages_text_trgm_idx']);

/** `status = 'snoozed'` and `(status = 'snoozed'::text)` alike. */
function normalizePredicate(sql: string | null): string | null {
  if (sql === null) return null;
  return sql
    .replace(/::text/g, '')
    .replace(/[()"`]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

function normalizeDefault(value: string | null, kind: ColumnShape['kind']): string | null {
  if (value === null) return null;
  let v = value.replace(/::text$/, '').trim();
  if (kind === 'boolean') v = v === '1' || v.toLowerCase() === 'true' ? 'true' : v === '0' || v.toLowerCase() === 'false' ? 'false' : v;
  return v;
}

const byName = <T extends { name: string }>(list: T[]) => list.sort((a, b) => a.name.localeCompare(b.name));

/** Columns the SQLite schema declares as booleans (stored 0/1: the database alone cannot tell). */
function sqliteBooleanColumns(): Set<string> {
  const out = new Set<string>();
  for (const table of Object.values(sqliteSchema)) {
    if (!(table instanceof SQLiteTable)) continue;
    const config = getTableConfig(table);
    for (const column of config.columns) if (column.columnType === 'SQLiteBoolean') out.add(`${config.name}.${column.name}`);
  }
  return out;
}

export function sqliteShape(sqlite: Database.Database): SchemaShape {
  const booleans = sqliteBooleanColumns();
  const tables = sqlite.prepare(`select name, sql from sqlite_master where type = 'table' order by name`).all() as {
    name: string;
    sql: string;
  }[];
  const shape: SchemaShape = {};
  for (const { name: table, sql: createSql } of tables) {
    if (SQLITE_LEFT_OUT.test(table)) continue;
    const info = sqlite.pragma(`table_info("${table}")`) as {
      name: string;
      type: string;
      notnull: number;
      dflt_value: string | null;
      pk: number;
    }[];
    const columns = info.map((c): ColumnShape => {
      const kind = booleans.has(`${table}.${c.name}`) ? 'boolean' : c.type.toLowerCase() === 'text' ? 'text' : 'integer';
      return {
        name: c.name,
        kind,
        nullable: c.notnull === 0,
        default: normalizeDefault(c.dflt_value, kind),
        autoId: c.pk > 0 && new RegExp(`[\`"]?${c.name}[\`"]? integer PRIMARY KEY AUTOINCREMENT`, 'i').test(createSql),
      };
    });
    const primaryKey = info
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name);
    const list = sqlite.pragma(`index_list("${table}")`) as { name: string; unique: number; origin: string; partial: number }[];
    const indexes = list
      .filter((i) => i.origin !== 'pk')
      .map((i): IndexShape => {
        const cols = (sqlite.pragma(`index_info("${i.name}")`) as { seqno: number; name: string }[])
          .sort((a, b) => a.seqno - b.seqno)
          .map((c) => c.name);
        const indexSql = (
          sqlite.prepare(`select sql from sqlite_master where type = 'index' and name = ?`).get(i.name) as
            { sql: string | null } | undefined
        )?.sql;
        const where = i.partial && indexSql ? indexSql.slice(indexSql.search(/\bwhere\b/i) + 'where'.length) : null;
        return { name: i.name, columns: cols, unique: i.unique === 1, where: normalizePredicate(where) };
      });
    const fks = (sqlite.pragma(`foreign_key_list("${table}")`) as { table: string; from: string; to: string; on_delete: string }[]).map(
      (f): ForeignKeyShape => ({ column: f.from, references: `${f.table}.${f.to}`, onDelete: f.on_delete.toLowerCase() }),
    );
    shape[table] = {
      columns: byName(columns),
      primaryKey,
      indexes: byName(indexes),
      foreignKeys: fks.sort((a, b) => a.column.localeCompare(b.column)),
    };
  }
  return shape;
}

const PG_ON_DELETE: Record<string, string> = { a: 'no action', r: 'restrict', c: 'cascade', n: 'set null', d: 'set default' };

export async function pgShape(client: pg.Pool | pg.Client): Promise<SchemaShape> {
  const shape: SchemaShape = {};
  const columns = await client.query<{
    table_name: string;
    column_name: string;
    data_type: string;
    is_nullable: string;
    column_default: string | null;
    is_identity: string;
  }>(
    `select table_name, column_name, data_type, is_nullable, column_default, is_identity
       from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position`,
  );
  for (const c of columns.rows) {
    const kind: ColumnShape['kind'] = c.data_type === 'boolean' ? 'boolean' : c.data_type === 'text' ? 'text' : 'integer';
    const table = (shape[c.table_name] ??= { columns: [], primaryKey: [], indexes: [], foreignKeys: [] });
    table.columns.push({
      name: c.column_name,
      kind,
      nullable: c.is_nullable === 'YES',
      default: normalizeDefault(c.column_default, kind),
      autoId: c.is_identity === 'YES',
    });
  }
  const indexes = await client.query<{
    table: string;
    name: string;
    unique: boolean;
    primary: boolean;
    columns: string[];
    where: string | null;
  }>(
    `select t.relname as table, i.relname as name, x.indisunique as unique, x.indisprimary as primary,
            array(select a.attname::text from unnest(x.indkey) with ordinality as k(attnum, ord)
                    join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum order by k.ord) as columns,
            pg_get_expr(x.indpred, x.indrelid) as where
       from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
       join pg_namespace n on n.oid = t.relnamespace
      where n.nspname = 'public'`,
  );
  for (const i of indexes.rows) {
    const table = shape[i.table];
    if (!table || PG_LEFT_OUT_INDEXES.has(i.name)) continue;
    if (i.primary) table.primaryKey = i.columns;
    else table.indexes.push({ name: i.name, columns: i.columns, unique: i.unique, where: normalizePredicate(i.where) });
  }
  const fks = await client.query<{ table: string; column: string; ref_table: string; ref_column: string; on_delete: string }>(
    `select t.relname as table, a.attname as column, rt.relname as ref_table, ra.attname as ref_column, c.confdeltype as on_delete
       from pg_constraint c
       join pg_class t on t.oid = c.conrelid join pg_namespace n on n.oid = t.relnamespace
       join pg_class rt on rt.oid = c.confrelid
       join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
       join pg_attribute ra on ra.attrelid = c.confrelid and ra.attnum = c.confkey[1]
      where c.contype = 'f' and n.nspname = 'public'`,
  );
  for (const f of fks.rows) {
    shape[f.table]?.foreignKeys.push({
      column: f.column,
      references: `${f.ref_table}.${f.ref_column}`,
      onDelete: PG_ON_DELETE[f.on_delete] ?? f.on_delete,
    });
  }
  for (const table of Object.values(shape)) {
    byName(table.columns);
    byName(table.indexes);
    table.foreignKeys.sort((a, b) => a.column.localeCompare(b.column));
  }
  return Object.fromEntries(Object.entries(shape).sort(([a], [b]) => a.localeCompare(b)));
}

/** PostgreSQL columns that break the id/time convention: ids, references and epoch-ms times are bigint. */
export async function pgConventionBreaches(client: pg.Pool | pg.Client): Promise<string[]> {
  const rows = await client.query<{ table_name: string; column_name: string; data_type: string }>(
    `select table_name, column_name, data_type from information_schema.columns
      where table_schema = 'public' and (column_name = 'id' or column_name like '%\\_id' or column_name like '%\\_at' or column_name like '%\\_until')`,
  );
  return rows.rows
    .filter((r) => r.data_type !== 'bigint' && !(r.data_type === 'text' && isTextKey(r.table_name, r.column_name)))
    .map((r) => `${r.table_name}.${r.column_name} is ${r.data_type}`);
}

/** Columns named like ids that hold text on both stores (a provider's id, an audit target). */
function isTextKey(table: string, column: string): boolean {
  return ['audit_log.target_id', 'webhook_deliveries.webhook_id'].includes(`${table}.${column}`);
}
