/**
 * Raw SQL for tests, on either store: `await raw(db).all('select … where id = ?', id)`. The `?`
 * placeholders become bound parameters of the dialect (drizzle's sql), the query runs in the
 * transaction open in this async context if any, like every query of the store.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client';

function bind(text: string, params: unknown[]): SQL {
  const parts = text.split('?');
  if (parts.length - 1 !== params.length) throw new Error(`raw: ${parts.length - 1} placeholders, ${params.length} values: ${text}`);
  const chunks: SQL[] = [sql.raw(parts[0] ?? '')];
  params.forEach((p, i) => chunks.push(sql`${p}`, sql.raw(parts[i + 1] ?? '')));
  return sql.join(chunks);
}

/** Rows as SQLite gives them on both stores: PostgreSQL's booleans as 1 and 0. */
function sqliteShaped<T>(rows: Record<string, unknown>[]): T[] {
  for (const row of rows) for (const [k, v] of Object.entries(row)) if (typeof v === 'boolean') row[k] = v ? 1 : 0;
  return rows as T[];
}

export function raw(db: Db) {
  return {
    all: async <T = Record<string, unknown>>(text: string, ...params: unknown[]): Promise<T[]> =>
      sqliteShaped<T>(await db.$store.rows(bind(text, params))),
    get: async <T = Record<string, unknown>>(text: string, ...params: unknown[]): Promise<T | undefined> =>
      sqliteShaped<T>(await db.$store.rows(bind(text, params)))[0],
    run: (text: string, ...params: unknown[]): Promise<number> => db.$store.execute(bind(text, params)),
  };
}
