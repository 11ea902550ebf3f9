import { and, asc, desc, eq, isNotNull, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { ContactDto, ConversationDto, ConversationFilter, ConversationStatus, MessageDto } from '@parley/shared';
import { MAX_PAGE, stripControlChars } from '@parley/shared';
import type { Db } from '../db/client';
import { agents, contacts, conversations, messages, tablesDialect } from '../db/tables';
import { AppError } from '../errors';
import type { EventLog, Tx } from '../events/log';
import { loadConversation, toContactDto, toConversationDto } from './views';
import { messageDtosOf } from './media';
import { likeInsensitive } from '../db/dialect';
import { pgMessageTextCondition } from '../db/pg/search';

export type { ConversationFilter };
export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export const DEFAULT_PAGE = 50;
export { MAX_PAGE };

// ── cursors: opaque base64url JSON of the last item's sort key ────────────────────────────────────

type Key = [at: number | null, id: number];

function encodeCursor(key: Key): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): Key {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && (v[0] === null || Number.isInteger(v[0])) && Number.isInteger(v[1])) {
      return [v[0] as number | null, v[1] as number];
    }
  } catch {
    // fall through
  }
  throw new AppError('BAD_REQUEST', 'Invalid cursor: pass back a nextCursor exactly as it was returned');
}

const pageSize = (limit: number | undefined) => Math.min(Math.max(Math.trunc(limit ?? DEFAULT_PAGE), 1), MAX_PAGE);

/** `%text%` for LIKE with its wildcards escaped (paired with `escape '\'`). */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

// ── reads ─────────────────────────────────────────────────────────────────────────────────────────

/**
 * Conversations newest activity first (last_message_at desc, id desc; never-messaged ones last),
 * keyset-paged. `mine` and `unassigned` list open conversations only. `search` matches the contact's
 * number by its digits (when the search looks like a number), the contact's name, or any message's text.
 */
export async function listConversations(opts: {
  db: Db;
  agentId: number;
  filter?: ConversationFilter;
  search?: string;
  /** Only conversations on this number of ours. */
  number?: string;
  cursor?: string | null;
  limit?: number;
}): Promise<Page<ConversationDto>> {
  const limit = pageSize(opts.limit);
  const where: (SQL | undefined)[] = [
    filterCondition(opts.filter ?? 'all', opts.agentId),
    searchCondition(opts.search),
    opts.number ? eq(conversations.ourNumber, opts.number) : undefined,
  ];
  if (opts.cursor) {
    const [at, id] = decodeCursor(opts.cursor);
    const lma = conversations.lastMessageAt;
    where.push(
      at === null ? and(isNull(lma), lt(conversations.id, id)) : or(lt(lma, at), and(eq(lma, at), lt(conversations.id, id)), isNull(lma)),
    );
  }
  const rows = await opts.db
    .select({ c: conversations, contact: contacts })
    .from(conversations)
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .where(and(...where))
    .orderBy(sql`${conversations.lastMessageAt} desc nulls last`, desc(conversations.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => toConversationDto(r.c, r.contact)),
    nextCursor: rows.length > limit && last ? encodeCursor([last.c.lastMessageAt, last.c.id]) : null,
  };
}

function filterCondition(filter: ConversationFilter, agentId: number): SQL | undefined {
  switch (filter) {
    case 'open':
      return eq(conversations.status, 'open');
    case 'pending':
      return eq(conversations.status, 'pending');
    case 'snoozed':
      return eq(conversations.status, 'snoozed');
    case 'closed':
      return eq(conversations.status, 'closed');
    case 'mine':
      return and(eq(conversations.status, 'open'), eq(conversations.assignedAgentId, agentId));
    case 'unassigned':
      return and(eq(conversations.status, 'open'), isNull(conversations.assignedAgentId));
    case 'all':
      return undefined;
    case 'possible-opt-out':
      // Any status: a request to stop does not expire when the conversation is closed.
      return isNotNull(conversations.possibleOptOutAt);
  }
}

function searchCondition(search: string | undefined): SQL | undefined {
  // Control characters (a NUL would break the FTS5 phrase) never reach SQL, whoever calls.
  const text = stripControlChars(search ?? '').trim();
  if (text === '') return undefined;
  const like = containing(text);
  const matches: SQL[] = [likeInsensitive(contacts.name, like), textCondition(text, like)];
  // Number-like searches ('+44 7700 900', '(415) 555') match the phone by its digits, whatever the format.
  const digits = text.replace(/\D/g, '');
  if (digits.length > 0 && /^[\d\s+().-]+$/.test(text)) {
    matches.push(likeInsensitive(contacts.phone, containing(digits)));
  }
  return or(...matches);
}

/**
 * Conversations with a message containing `text`. Three characters or more: the trigram full-text
 * index (messages_fts, migration 0005) finds the messages — a phrase query there is a case-insensitive
 * substring match, like LIKE '%…%', without reading every message. Shorter: no trigram to look up,
 * so a scan with LIKE.
 */
function textCondition(text: string, like: string): SQL {
  if (Array.from(text).length < 3) {
    return sql`exists (select 1 from ${messages} where ${messages.conversationId} = ${conversations.id} and ${likeInsensitive(messages.text, like)})`;
  }
  if (tablesDialect() === 'pg') return pgMessageTextCondition(text);
  const phrase = `"${text.replaceAll('"', '""')}"`;
  return sql`${conversations.id} in (select ${messages.conversationId} from ${messages} where ${messages.id} in (select rowid from messages_fts where messages_fts match ${phrase}))`;
}

export async function getConversation({ db, id }: { db: Db; id: number }): Promise<ConversationDto> {
  const found = await loadConversation(db, id);
  if (!found) throw new AppError('NOT_FOUND', `Conversation ${id} not found`);
  return found;
}

/** A conversation's messages newest first, keyset-paged on (created_at, id). */
export async function listMessages(opts: {
  db: Db;
  conversationId: number;
  cursor?: string | null;
  limit?: number;
}): Promise<Page<MessageDto>> {
  await getConversation({ db: opts.db, id: opts.conversationId });
  const limit = pageSize(opts.limit);
  const where: (SQL | undefined)[] = [eq(messages.conversationId, opts.conversationId)];
  if (opts.cursor) {
    const [at, id] = decodeCursor(opts.cursor);
    if (at === null) throw new AppError('BAD_REQUEST', 'Invalid cursor for messages');
    where.push(or(lt(messages.createdAt, at), and(eq(messages.createdAt, at), lt(messages.id, id))));
  }
  const rows = await opts.db
    .select()
    .from(messages)
    .where(and(...where))
    .orderBy(desc(messages.createdAt), desc(messages.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: await messageDtosOf(opts.db, page),
    nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt, last.id]) : null,
  };
}

/** A contact and its conversations (newest activity first). */
export async function getContact({ db, id }: { db: Db; id: number }): Promise<ContactDto & { conversations: ConversationDto[] }> {
  const contact = (await db.select().from(contacts).where(eq(contacts.id, id)))[0];
  if (!contact) throw new AppError('NOT_FOUND', `Contact ${id} not found`);
  const rows = await db
    .select()
    .from(conversations)
    .where(eq(conversations.contactId, id))
    .orderBy(sql`${conversations.lastMessageAt} desc nulls last`, desc(conversations.id));
  return { ...toContactDto(contact), conversations: rows.map((c) => toConversationDto(c, contact)) };
}

// ── changes: one transaction each, `conversation.updated` only when something changed ────────────

type ConversationRow = typeof conversations.$inferSelect;
type Patch = Partial<Pick<ConversationRow, 'unreadCount' | 'assignedAgentId' | 'status' | 'snoozeUntil'>>;

async function update(
  log: EventLog,
  id: number,
  decide: (tx: Tx, row: ConversationRow) => Patch | null | Promise<Patch | null>,
): Promise<ConversationDto> {
  return await log.write(async (tx, append) => {
    const row = (await tx.select().from(conversations).where(eq(conversations.id, id)))[0];
    if (!row) throw new AppError('NOT_FOUND', `Conversation ${id} not found`);
    const patch = await decide(tx, row);
    if (patch) await tx.update(conversations).set(patch).where(eq(conversations.id, id));
    const conversation = await loadConversation(tx, id);
    if (!conversation) throw new Error(`conversation ${id} vanished inside its transaction`);
    if (patch) append({ type: 'conversation.updated', payload: { conversation } });
    return conversation;
  });
}

export async function markRead({ log, id }: { log: EventLog; id: number }): Promise<ConversationDto> {
  return await update(log, id, (_tx, row) => (row.unreadCount === 0 ? null : { unreadCount: 0 }));
}

/** Assigns to an existing, enabled agent, or unassigns (null). */
export async function assignConversation({
  log,
  id,
  agentId,
}: {
  log: EventLog;
  id: number;
  agentId: number | null;
}): Promise<ConversationDto> {
  return await update(log, id, async (tx, row) => {
    if (agentId !== null) {
      const agent = (await tx.select({ id: agents.id, disabledAt: agents.disabledAt }).from(agents).where(eq(agents.id, agentId)))[0];
      if (!agent) throw new AppError('NOT_FOUND', `Agent ${agentId} not found`);
      if (agent.disabledAt !== null) throw new AppError('BAD_REQUEST', `Agent ${agentId} is disabled`);
    }
    return row.assignedAgentId === agentId ? null : { assignedAgentId: agentId };
  });
}

/** Snoozes end at most this far ahead. */
export const MAX_SNOOZE_MS = 366 * 86_400_000;

/**
 * open | pending (waiting on the customer) | snoozed (until `snoozeUntil`, ISO, in the future) | closed.
 * Any status but snoozed clears the snooze time. An inbound text reopens pending and snoozed ones
 * (receive-queries), and the snooze waker reopens snoozed ones when their time comes.
 */
export async function setConversationStatus({
  log,
  id,
  status,
  snoozeUntil,
  now = Date.now(),
}: {
  log: EventLog;
  id: number;
  status: ConversationStatus;
  snoozeUntil?: string | undefined;
  now?: number;
}): Promise<ConversationDto> {
  let until: number | null = null;
  if (status === 'snoozed') {
    if (snoozeUntil === undefined) throw new AppError('BAD_REQUEST', 'snoozed needs snoozeUntil: the ISO time it reopens');
    until = Date.parse(snoozeUntil);
    if (Number.isNaN(until)) throw new AppError('BAD_REQUEST', `snoozeUntil is not an ISO time: ${snoozeUntil}`);
    if (until <= now) throw new AppError('BAD_REQUEST', 'snoozeUntil must be in the future');
    if (until > now + MAX_SNOOZE_MS) throw new AppError('BAD_REQUEST', 'snoozeUntil may be at most a year ahead');
  } else if (snoozeUntil !== undefined) {
    throw new AppError('BAD_REQUEST', `snoozeUntil is only for status snoozed, not ${status}`);
  }
  return await update(log, id, (_tx, row) =>
    row.status === status && (row.snoozeUntil ?? null) === until ? null : { status, snoozeUntil: until },
  );
}

/**
 * The snooze waker's one pass: every snoozed conversation whose snooze_until <= now reopens, a
 * `conversation.updated` each, in chunks of `batch` per transaction. The due-time lives in the
 * database, so a restart (or a clock that moved while we were down) wakes what fell due meanwhile.
 */
export async function wakeDueSnoozes({ log, now, batch = 200 }: { log: EventLog; now: number; batch?: number }): Promise<number> {
  let woken = 0;
  for (;;) {
    const n = await log.write(async (tx, append) => {
      const due = await tx
        .select({ id: conversations.id })
        .from(conversations)
        .where(and(eq(conversations.status, 'snoozed'), lte(conversations.snoozeUntil, now)))
        .orderBy(asc(conversations.snoozeUntil))
        .limit(batch);
      for (const { id } of due) {
        await tx.update(conversations).set({ status: 'open', snoozeUntil: null }).where(eq(conversations.id, id));
        const conversation = await loadConversation(tx, id);
        if (conversation) append({ type: 'conversation.updated', payload: { conversation } });
      }
      return due.length;
    });
    woken += n;
    if (n < batch) return woken;
  }
}

/** Ids of a contact's conversations (for opt-out fan-out). */
export async function conversationIdsOfContact(tx: Tx, contactId: number): Promise<number[]> {
  return (await tx.select({ id: conversations.id }).from(conversations).where(eq(conversations.contactId, contactId))).map((r) => r.id);
}
