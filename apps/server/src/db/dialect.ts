/**
 * The few SQL spellings SQLite and PostgreSQL do not share, for the dialect this process runs on
 * (db/tables.ts: one per process). Everything else the domain writes is common SQL.
 */
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { tablesDialect } from './tables';

const pg = () => tablesDialect() === 'pg';

/** The larger of two values (SQLite's two-argument max, PostgreSQL's greatest). */
export const greatest = (a: SQLWrapper | unknown, b: SQLWrapper | unknown): SQL =>
  pg() ? sql`greatest(${a}, ${b})` : sql`max(${a}, ${b})`;

/** Whether `haystack` contains `needle` as a plain substring (no pattern characters). */
export const containsText = (haystack: SQLWrapper, needle: string): SQL =>
  pg() ? sql`strpos(${haystack}, ${needle}) > 0` : sql`instr(${haystack}, ${needle}) > 0`;

/** The UTF-8 size of a text column in bytes. */
export const byteLength = (text: SQLWrapper): SQL => (pg() ? sql`octet_length(${text})` : sql`length(CAST(${text} AS BLOB))`);

/** `value LIKE pattern ESCAPE '\'`, case-insensitive on both (SQLite's LIKE folds ASCII; PostgreSQL needs ILIKE). */
export const likeInsensitive = (value: SQLWrapper, pattern: string): SQL =>
  pg() ? sql`${value} ilike ${pattern} escape '\\'` : sql`${value} like ${pattern} escape '\\'`;

/** An integer inside a JSON text column, by a path of keys. */
export const jsonInteger = (json: SQLWrapper, ...keys: string[]): SQL =>
  pg() ? sql`(${json}::jsonb #>> ${`{${keys.join(',')}}`})::bigint` : sql`json_extract(${json}, ${`$.${keys.join('.')}`})`;
