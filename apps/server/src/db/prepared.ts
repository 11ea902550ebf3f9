/**
 * Prepared statements of hot paths (drizzle's `.prepare()` with placeholders): turned into SQL once
 * per database handle instead of on every call; the store then keeps each one prepared per connection.
 */
import { sql } from 'drizzle-orm';
import type { Db } from './client';

/** A bound parameter of a prepared statement, typed as the column it fills. */
export const param = <T>(name: string): T => sql.placeholder(name) as unknown as T;

/**
 * `build(db)` run once per database handle and kept (with the table bindings of the handle's
 * dialect, db/tables.ts, current when first asked).
 */
export function perHandle<T>(build: (db: Db) => T): (db: Db) => T {
  const built = new WeakMap<Db, T>();
  return (db) => {
    let value = built.get(db);
    if (value === undefined) {
      value = build(db);
      built.set(db, value);
    }
    return value;
  };
}
