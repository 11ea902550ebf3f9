/**
 * The suppression list: what erasure keeps of a number — HMAC-SHA256 of its E.164 form, keyed by the
 * suppression key, and its opt-out state. Sends to a number whose entry says opted_out are refused
 * (domain/send.ts), whether or not a contact exists for it again; an opt-in (START, an agent) marks
 * the entry opted_in.
 *
 * The key: SUPPRESSION_SECRET when set (keep it outside the database: a copy of the database alone
 * then cannot test candidate numbers against the hashes). Unset: 32 random bytes generated at the
 * first start and kept in the database (app_secrets), so the list works from day one and survives
 * every restart and backup with the data it protects. A check value of the key (an HMAC of a fixed
 * string, never the key) is kept too: starting with a different key while entries exist is refused,
 * because the old entries would silently stop matching.
 *
 * The key is loaded when the database is opened and kept on its store (`store.suppressionKey`, never
 * logged or sent anywhere); the hash is computed in the process and compared in SQL, on both stores.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { eq, lt, or, sql } from 'drizzle-orm';
import { erasedMessageRefs, suppressionList } from '../db/tables';
import type { Tx } from '../events/log';
import { affected, type Store } from '../db/store';

const KEY_NAME = 'suppression_key';
const CHECK_NAME = 'suppression_key_check';
const CHECK_INPUT = 'parley suppression key check v1';

export class SuppressionKeyMismatch extends Error {}

/** What deciding the key needs to read (the same on both stores). */
interface KeyState {
  /** The generated key kept in app_secrets (hex), if any. */
  kept: string | undefined;
  /** The check value kept with it. */
  storedCheck: string | undefined;
  /** Entries in the suppression list. */
  entries: () => number;
}

/** The key to use and what to write: a fresh generated key and/or the check value. Throws on a mismatch with existing entries. */
function decideKey(secret: string | undefined, state: KeyState): { key: Buffer; freshKey?: string; check?: string } {
  let key: Buffer;
  let freshKey: string | undefined;
  if (secret !== undefined) key = Buffer.from(secret, 'utf8');
  else if (state.kept) key = Buffer.from(state.kept, 'hex');
  else {
    freshKey = randomBytes(32).toString('hex');
    key = Buffer.from(freshKey, 'hex');
  }
  const check = createHmac('sha256', key).update(CHECK_INPUT).digest('hex');
  if (state.storedCheck === check) return { key, ...(freshKey ? { freshKey } : {}) };
  const entries = state.entries();
  if (state.storedCheck !== undefined && entries > 0) {
    throw new SuppressionKeyMismatch(
      `SUPPRESSION_SECRET: the suppression list (${entries} erased numbers) was written with a different key; ` +
        'start with the key it was written with (or, if it was generated, leave SUPPRESSION_SECRET unset)',
    );
  }
  return { key, check, ...(freshKey ? { freshKey } : {}) };
}

const PUT_SECRET =
  'insert into app_secrets (name, value, created_at) values (?, ?, ?) on conflict(name) do update set value = excluded.value';

/** SQLite, at open (synchronous, before the store exists): the key, generated and kept on first use. */
export function resolveSuppressionKeySqlite(sqlite: Database.Database, secret: string | undefined, now = Date.now()): Buffer {
  const get = (name: string) => sqlite.prepare('select value from app_secrets where name = ?').pluck().get(name) as string | undefined;
  const plan = decideKey(secret, {
    kept: secret === undefined ? get(KEY_NAME) : undefined,
    storedCheck: get(CHECK_NAME),
    entries: () => sqlite.prepare('select count(*) from suppression_list').pluck().get() as number,
  });
  if (plan.freshKey) sqlite.prepare(PUT_SECRET).run(KEY_NAME, plan.freshKey, now);
  if (plan.check) sqlite.prepare(PUT_SECRET).run(CHECK_NAME, plan.check, now);
  return plan.key;
}

/** Any store (PostgreSQL at open): the same, through the store. */
export async function resolveSuppressionKey(store: Store, secret: string | undefined, now = Date.now()): Promise<Buffer> {
  const get = async (name: string) =>
    (await store.rows<{ value: string }>(sql`select value from app_secrets where name = ${name}`))[0]?.value;
  const entries = Number((await store.rows<{ n: number }>(sql`select count(*) as n from suppression_list`))[0]?.n ?? 0);
  const plan = decideKey(secret, {
    kept: secret === undefined ? await get(KEY_NAME) : undefined,
    storedCheck: await get(CHECK_NAME),
    entries: () => entries,
  });
  const put = (name: string, value: string) =>
    store.execute(
      sql`insert into app_secrets (name, value, created_at) values (${name}, ${value}, ${now}) on conflict (name) do update set value = excluded.value`,
    );
  if (plan.freshKey) await put(KEY_NAME, plan.freshKey);
  if (plan.check) await put(CHECK_NAME, plan.check);
  return plan.key;
}

/** HMAC-SHA256 of a number (or `ref:…`) under the store's suppression key, as the list keeps it. */
function hashOf(tx: Tx, value: string): string {
  const key = tx.$store.suppressionKey;
  if (!key) throw new Error('the suppression key was not loaded for this database');
  return createHmac('sha256', key).update(value).digest('hex');
}

export interface SuppressionEntry {
  state: 'opted_out' | 'opted_in';
  optedOutAt: number | null;
}

/** The entry of an (erased) number, if any. */
export async function suppressionOf(tx: Tx, phone: string): Promise<SuppressionEntry | null> {
  const row = (
    await tx
      .select({ state: suppressionList.state, optedOutAt: suppressionList.optedOutAt })
      .from(suppressionList)
      .where(eq(suppressionList.hash, hashOf(tx, phone)))
  )[0];
  return row ?? null;
}

/** Writes (or overwrites) a number's entry. */
export async function suppress(tx: Tx, phone: string, entry: SuppressionEntry, now = Date.now()): Promise<void> {
  await tx
    .insert(suppressionList)
    .values({ hash: hashOf(tx, phone), state: entry.state, optedOutAt: entry.optedOutAt, updatedAt: now })
    .onConflictDoUpdate({ target: suppressionList.hash, set: { state: entry.state, optedOutAt: entry.optedOutAt, updatedAt: now } });
}

/** An opt-in of a number with an entry: the entry says opted_in from now on (it no longer suppresses). */
export async function liftSuppression(tx: Tx, phone: string, now = Date.now()): Promise<boolean> {
  const changed = affected(
    await tx
      .update(suppressionList)
      .set({ state: 'opted_in', optedOutAt: null, updatedAt: now })
      .where(sql`${suppressionList.hash} = ${hashOf(tx, phone)} and ${suppressionList.state} = 'opted_out'`),
  );
  return changed > 0;
}

/** Erased messages' references are remembered (hashed) this long: late delivery reports arrive within it. */
export const ERASED_REF_TTL_MS = 7 * 86_400_000;

/** Remembers erased messages' provider ids and client refs (hashed), and forgets those older than the TTL. */
export async function rememberErasedRefs(tx: Tx, refs: string[], now = Date.now()): Promise<void> {
  await tx.delete(erasedMessageRefs).where(lt(erasedMessageRefs.erasedAt, now - ERASED_REF_TTL_MS));
  for (const ref of refs) {
    await tx
      .insert(erasedMessageRefs)
      .values({ hash: hashOf(tx, `ref:${ref}`), erasedAt: now })
      .onConflictDoNothing();
  }
}

/** Whether a reference (a report's provider id or client ref) belongs to an erased message. */
export async function isErasedRef(tx: Tx, refs: (string | null)[]): Promise<boolean> {
  const given = refs.filter((r): r is string => r !== null && r !== '');
  if (given.length === 0) return false;
  const row = (
    await tx
      .select({ hash: erasedMessageRefs.hash })
      .from(erasedMessageRefs)
      .where(or(...given.map((r) => eq(erasedMessageRefs.hash, hashOf(tx, `ref:${r}`)))))
  )[0];
  return row !== undefined;
}
