import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../db/client';
import { EventLog } from '../events/log';
import { SuppressionKeyMismatch, suppress, suppressionOf } from './suppression';

const dirs: string[] = [];
const opened: Db[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) if (db.$client.open) db.$client.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function path(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-suppression-'));
  dirs.push(dir);
  return join(dir, 's.db');
}
function open(file: string, secret?: string): Db {
  const db = openDb(file, { suppressionSecret: secret });
  opened.push(db);
  return db;
}
const write = async (db: Db, phone: string) =>
  await new EventLog(db).write(async (tx) => await suppress(tx, phone, { state: 'opted_out', optedOutAt: 1_700_000_000_000 }));
const read = async (db: Db, phone: string) => await new EventLog(db).write(async (tx) => await suppressionOf(tx, phone));

describe('the suppression key', () => {
  it('unset: generated once, kept in the database, the same after a reopen; only a keyed hash is stored', async () => {
    const file = path();
    const first = open(file);
    await write(first, '+447700900123');
    const stored = first.$client.prepare('select hash from suppression_list').pluck().all() as string[];
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(stored[0]).not.toContain('447700900123');
    first.$client.close();
    const again = open(file);
    expect(await read(again, '+447700900123')).toEqual({ state: 'opted_out', optedOutAt: 1_700_000_000_000 });
    expect(await read(again, '+447700900124')).toBeNull();
  });

  it('SUPPRESSION_SECRET: hashes differ from another key; starting with a different key while entries exist is refused', async () => {
    const a = open(path(), 'a'.repeat(32));
    const b = open(path(), 'b'.repeat(32));
    await write(a, '+447700900123');
    await write(b, '+447700900123');
    const hash = (db: Db) => db.$client.prepare('select hash from suppression_list').pluck().get();
    expect(hash(a)).not.toBe(hash(b));

    const file = path();
    const keyed = open(file, 'k'.repeat(32));
    await write(keyed, '+447700900123');
    keyed.$client.close();
    expect(() => open(file, 'x'.repeat(32))).toThrow(SuppressionKeyMismatch);
    expect(() => open(file)).toThrow(/different key/);
    const right = open(file, 'k'.repeat(32));
    expect((await read(right, '+447700900123'))?.state).toBe('opted_out');
  });

  it('a key may change while the list is empty', () => {
    const file = path();
    open(file, 'k'.repeat(32)).$client.close();
    expect(() => open(file, 'z'.repeat(32)).$client.close()).not.toThrow();
  });

  it('every connection deletes securely', () => {
    expect(open(path()).$client.pragma('secure_delete', { simple: true })).toBe(1);
  });
});
