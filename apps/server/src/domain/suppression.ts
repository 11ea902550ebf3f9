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
 * The hash is a SQL function on the connection (`parley_suppression_hash(phone)`), installed by
 * openDb: domain code computes it inside its own statements without the key passing through it.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { eq, lt, or, sql } from 'drizzle-orm';
import { erasedMessageRefs, suppressionList } from '../db/schema';
import type { Tx } from '../events/log';
import { affected } from '../db/store';

const KEY_NAME = 'suppression_key';
const CHECK_NAME = 'suppression_key_check';
const CHECK_INPUT = 'parley suppression key check v1';
export const SUPPRESSION_HASH_FN = 'parley_suppression_hash';

export class SuppressionKeyMismatch extends Error {}

export function installSuppressionKey(sqlite: Database.Database, secret: string | undefined, now = Date.now()): void {
  let key: Buffer;
  if (secret !== undefined) {
    key = Buffer.from(secret, 'utf8');
  } else {
    const kept = sqlite.prepare('select value from app_secrets where name = ?').pluck().get(KEY_NAME) as string | undefined;
    if (kept) {
      key = Buffer.from(kept, 'hex');
    } else {
      const fresh = randomBytes(32).toString('hex');
      sqlite.prepare('insert into app_secrets (name, value, created_at) values (?, ?, ?)').run(KEY_NAME, fresh, now);
      key = Buffer.from(fresh, 'hex');
    }
  }
  const check = createHmac('sha256', key).update(CHECK_INPUT).digest('hex');
  const stored = sqlite.prepare('select value from app_secrets where name = ?').pluck().get(CHECK_NAME) as string | undefined;
  if (stored !== check) {
    const entries = sqlite.prepare('select count(*) from suppression_list').pluck().get() as number;
    if (stored !== undefined && entries > 0) {
      throw new SuppressionKeyMismatch(
        `SUPPRESSION_SECRET: the suppression list (${entries} erased numbers) was written with a different key; ` +
          'start with the key it was written with (or, if it was generated, leave SUPPRESSION_SECRET unset)',
      );
    }
    sqlite
      .prepare('insert into app_secrets (name, value, created_at) values (?, ?, ?) on conflict(name) do update set value = excluded.value')
      .run(CHECK_NAME, check, now);
  }
  sqlite.function(SUPPRESSION_HASH_FN, { deterministic: true }, (phone: unknown) =>
    createHmac('sha256', key).update(String(phone)).digest('hex'),
  );
}

const hashOf = (phone: string) => sql`${sql.raw(SUPPRESSION_HASH_FN)}(${phone})`;

export interface SuppressionEntry {
  state: 'opted_out' | 'opted_in';
  optedOutAt: number | null;
}

/** The entry of an (erased) number, if any. */
export async function suppressionOf(tx: Pick<Tx, 'select'>, phone: string): Promise<SuppressionEntry | null> {
  const row = (
    await tx
      .select({ state: suppressionList.state, optedOutAt: suppressionList.optedOutAt })
      .from(suppressionList)
      .where(eq(suppressionList.hash, hashOf(phone)))
  )[0];
  return row ?? null;
}

/** Writes (or overwrites) a number's entry. */
export async function suppress(tx: Tx, phone: string, entry: SuppressionEntry, now = Date.now()): Promise<void> {
  await tx
    .insert(suppressionList)
    .values({ hash: hashOf(phone), state: entry.state, optedOutAt: entry.optedOutAt, updatedAt: now })
    .onConflictDoUpdate({ target: suppressionList.hash, set: { state: entry.state, optedOutAt: entry.optedOutAt, updatedAt: now } });
}

/** An opt-in of a number with an entry: the entry says opted_in from now on (it no longer suppresses). */
export async function liftSuppression(tx: Tx, phone: string, now = Date.now()): Promise<boolean> {
  const changed = affected(
    await tx
      .update(suppressionList)
      .set({ state: 'opted_in', optedOutAt: null, updatedAt: now })
      .where(sql`${suppressionList.hash} = ${hashOf(phone)} and ${suppressionList.state} = 'opted_out'`),
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
      .values({ hash: hashOf(`ref:${ref}`), erasedAt: now })
      .onConflictDoNothing();
  }
}

/** Whether a reference (a report's provider id or client ref) belongs to an erased message. */
export async function isErasedRef(tx: Pick<Tx, 'select'>, refs: (string | null)[]): Promise<boolean> {
  const given = refs.filter((r): r is string => r !== null && r !== '');
  if (given.length === 0) return false;
  const row = (
    await tx
      .select({ hash: erasedMessageRefs.hash })
      .from(erasedMessageRefs)
      .where(or(...given.map((r) => eq(erasedMessageRefs.hash, hashOf(`ref:${r}`)))))
  )[0];
  return row !== undefined;
}
