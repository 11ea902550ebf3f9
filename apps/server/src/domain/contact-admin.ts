import { stringify } from 'csv-stringify/sync';
import { and, asc, desc, eq, isNotNull, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { ContactDto, ContactListDto, OptOutExportDto } from '@parley/shared';
import { stripControlChars } from '@parley/shared';
import type { Db } from '../db/client';
import { contacts } from '../db/tables';
import { AppError } from '../errors';
import type { EventLog } from '../events/log';
import { decodeIdCursor, encodeIdCursor } from './campaign-views';
import { DEFAULT_PAGE, MAX_PAGE, conversationIdsOfContact } from './conversation';
import { loadConversation, toContactDto } from './views';
import { likeInsensitive } from '../db/dialect';

const pageSize = (limit: number | undefined) => Math.min(Math.max(Math.trunc(limit ?? DEFAULT_PAGE), 1), MAX_PAGE);
/** `%text%` for LIKE with its wildcards escaped (paired with `escape '\'`). */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function searchCondition(search: string | undefined): SQL | undefined {
  // Control characters (a NUL would break the FTS5 phrase) never reach SQL, whoever calls.
  const text = stripControlChars(search ?? '').trim();
  if (text === '') return undefined;
  const matches: SQL[] = [likeInsensitive(contacts.name, containing(text))];
  // '+44 7700 900', '(415) 555': the phone by its digits, whatever the format.
  const digits = text.replace(/\D/g, '');
  if (digits.length > 0 && /^[\d\s+().-]+$/.test(text)) matches.push(likeInsensitive(contacts.phone, containing(digits)));
  return or(...matches);
}

/** Contacts newest first, keyset-paged; search by name or number; optionally only (not) opted out. */
export async function listContacts(opts: {
  db: Db;
  search?: string | undefined;
  optedOut?: boolean | undefined;
  cursor?: string | null | undefined;
  limit?: number | undefined;
}): Promise<ContactListDto> {
  const limit = pageSize(opts.limit);
  const where: (SQL | undefined)[] = [
    searchCondition(opts.search),
    opts.optedOut === undefined ? undefined : opts.optedOut ? isNotNull(contacts.optedOutAt) : isNull(contacts.optedOutAt),
  ];
  if (opts.cursor) where.push(lt(contacts.id, decodeIdCursor(opts.cursor)));
  // Per row of the page only: conversations_contact_number_uq starts with contact_id.
  const rows = await opts.db
    .select({
      c: contacts,
      // Spelled out: drizzle renders a column of the outer table unqualified inside a subquery.
      conversationCount: sql<number>`(select count(*) from conversations cv where cv.contact_id = contacts.id)`,
      lastMessageAt: sql<number | null>`(select max(cv.last_message_at) from conversations cv where cv.contact_id = contacts.id)`,
    })
    .from(contacts)
    .where(and(...where))
    .orderBy(desc(contacts.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => ({
      ...toContactDto(r.c),
      conversationCount: r.conversationCount,
      lastMessageAt: r.lastMessageAt === null ? null : new Date(r.lastMessageAt).toISOString(),
    })),
    nextCursor: rows.length > limit && last ? encodeIdCursor(last.c.id) : null,
  };
}

/**
 * Renames a contact (null or blank clears the name). Appends `contact.updated` and a
 * `conversation.updated` for each of its conversations, so open inboxes show the new name; an
 * unchanged name writes and appends nothing.
 */
export async function updateContactName({ log, id, name }: { log: EventLog; id: number; name: string | null }): Promise<ContactDto> {
  const wanted = name === null || name.trim() === '' ? null : name.trim();
  return await log.write(async (tx, append) => {
    const row = (await tx.select().from(contacts).where(eq(contacts.id, id)))[0];
    if (!row) throw new AppError('NOT_FOUND', `Contact ${id} not found`);
    if (row.name === wanted) return toContactDto(row);
    const updated = (await tx.update(contacts).set({ name: wanted }).where(eq(contacts.id, id)).returning())[0];
    if (!updated) throw new Error(`contact ${id} vanished inside its transaction`);
    const contact = toContactDto(updated);
    append({ type: 'contact.updated', payload: { contact } });
    for (const conversationId of await conversationIdsOfContact(tx, id)) {
      const conversation = await loadConversation(tx, conversationId);
      if (conversation) append({ type: 'conversation.updated', payload: { conversation } });
    }
    return contact;
  });
}

/** A stored phone number is E.164 (`+` and digits): no formula, so it keeps its `+` unescaped (the file re-imports). */
const E164 = /^\+\d{1,15}$/;

/**
 * RFC 4180 CSV with csv-stringify; every cell a spreadsheet would run as a formula (starting with
 * = + - @, tab or CR) gets a leading ' (`escape_formulas`), except a validated E.164 phone number.
 */
export function toCsv(header: string[], rows: (string | null)[][]): string {
  return stringify([header, ...rows.map((r) => r.map((v) => v ?? ''))], {
    record_delimiter: '\r\n',
    escape_formulas: true,
    // csv-stringify leaves a lone CR unquoted once a formula guard is prepended: quote any line break.
    quoted_match: /[\r\n]/,
    cast: { string: (value) => (E164.test(value) ? { value, escape_formulas: false } : value) },
  });
}

/** Every opted-out contact as CSV (`phone,name,opted_out_at,source`), earliest opt-out first. */
export async function exportOptOuts({ db, now = Date.now() }: { db: Db; now?: number }): Promise<OptOutExportDto> {
  const rows = await db
    .select({ phone: contacts.phone, name: contacts.name, optedOutAt: contacts.optedOutAt, source: contacts.optOutSource })
    .from(contacts)
    .where(isNotNull(contacts.optedOutAt))
    .orderBy(asc(contacts.optedOutAt), asc(contacts.id));
  const csv = toCsv(
    ['phone', 'name', 'opted_out_at', 'source'],
    rows.map((r) => [r.phone, r.name, r.optedOutAt === null ? '' : new Date(r.optedOutAt).toISOString(), r.source]),
  );
  return {
    filename: `parley-opt-outs-${new Date(now).toISOString().slice(0, 10)}.csv`,
    csv,
    count: rows.length,
  };
}
