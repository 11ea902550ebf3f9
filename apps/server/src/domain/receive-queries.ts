import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { contacts, conversations, messages } from '../db/schema';

const p = sql.placeholder;

function build(db: Db) {
  return {
    existing: db
      .select({ id: messages.id })
      .from(messages)
      .where(eq(messages.providerMessageUuid, p('uuid')))
      .prepare(),
    // DO UPDATE (a no-op) rather than DO NOTHING so RETURNING gives the row either way: one statement.
    upsertContact: db
      .insert(contacts)
      .values({ phone: p('phone'), createdAt: p('now') })
      .onConflictDoUpdate({ target: contacts.phone, set: { phone: sql`excluded.phone` } })
      .returning()
      .prepare(),
    upsertConversation: db
      .insert(conversations)
      .values({ contactId: p('contactId'), ourNumber: p('ourNumber'), provider: sql`${p('provider')}`, createdAt: p('now') })
      .onConflictDoUpdate({ target: [conversations.contactId, conversations.ourNumber], set: { ourNumber: sql`excluded.our_number` } })
      .returning({ id: conversations.id, provider: conversations.provider })
      .prepare(),
    insertMessage: db
      .insert(messages)
      .values({
        conversationId: p('conversationId'),
        direction: 'in',
        providerMessageUuid: p('uuid'),
        from: p('from'),
        to: p('to'),
        text: p('text'),
        encoding: p('encoding'),
        segments: p('segments'),
        status: 'received',
        statusAt: p('now'),
        price: p('price'),
        currency: p('currency'),
        providerTimestamp: p('providerTimestamp'),
        createdAt: p('now'),
      })
      .returning()
      .prepare(),
    bumpConversation: db
      .update(conversations)
      .set({
        lastMessageAt: sql`max(coalesce(${conversations.lastMessageAt}, 0), ${p('now')})`,
        lastMessagePreview: sql`${p('preview')}`,
        lastMessageDirection: 'in',
        unreadCount: sql`${conversations.unreadCount} + 1`,
        // A pending, snoozed or closed conversation is open again when the contact writes.
        status: 'open',
        snoozeUntil: null,
      })
      .where(eq(conversations.id, p('id')))
      .returning()
      .prepare(),
  };
}

export type ReceiveQueries = ReturnType<typeof build>;
const cache = new WeakMap<Db, ReceiveQueries>();

/** The inbound hot path's statements, prepared once per database connection. */
export function receiveQueries(db: Db): ReceiveQueries {
  let q = cache.get(db);
  if (!q) {
    q = build(db);
    cache.set(db, q);
  }
  return q;
}
