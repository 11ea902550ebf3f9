import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { contacts, conversations, messages } from '../db/tables';
import { greatest } from '../db/dialect';
import { param, perHandle } from '../db/prepared';

/**
 * The inbound hot path's statements, built once per database handle: drizzle turns each into SQL
 * once (with placeholders) instead of on every webhook, and the store keeps each one prepared per
 * connection. Built with the table bindings of the handle's dialect (db/tables.ts).
 */
const prepared = perHandle((db: Db) => {
  const existing = db
    .select({ id: messages.id })
    .from(messages)
    .where(eq(messages.providerMessageUuid, sql.placeholder('uuid')))
    .limit(1)
    .prepare();
  // DO UPDATE (a no-op) rather than DO NOTHING so RETURNING gives the row either way: one statement.
  const upsertContact = db
    .insert(contacts)
    .values({ phone: param('phone'), createdAt: param('now') })
    .onConflictDoUpdate({ target: contacts.phone, set: { phone: sql`excluded.phone` } })
    .returning()
    .prepare();
  const upsertConversation = db
    .insert(conversations)
    .values({ contactId: param('contactId'), ourNumber: param('ourNumber'), provider: param('provider'), createdAt: param('now') })
    .onConflictDoUpdate({ target: [conversations.contactId, conversations.ourNumber], set: { ourNumber: sql`excluded.our_number` } })
    .returning({ id: conversations.id, provider: conversations.provider })
    .prepare();
  const insertMessage = db
    .insert(messages)
    .values({
      conversationId: param('conversationId'),
      direction: 'in',
      providerMessageUuid: param('uuid'),
      from: param('from'),
      to: param('to'),
      text: param('text'),
      encoding: param('encoding'),
      segments: param('segments'),
      status: 'received',
      statusAt: param('now'),
      price: param('price'),
      currency: param('currency'),
      providerTimestamp: param('providerTimestamp'),
      createdAt: param('now'),
    })
    .returning()
    .prepare();
  const bumpConversation = db
    .update(conversations)
    .set({
      lastMessageAt: greatest(sql`coalesce(${conversations.lastMessageAt}, 0)`, sql.placeholder('now')),
      lastMessagePreview: param('preview'),
      lastMessageDirection: 'in',
      unreadCount: sql`${conversations.unreadCount} + 1`,
      // A pending, snoozed or closed conversation is open again when the contact writes.
      status: 'open',
      snoozeUntil: null,
    })
    .where(eq(conversations.id, sql.placeholder('id')))
    .returning()
    .prepare();
  return { existing, upsertContact, upsertConversation, insertMessage, bumpConversation };
});

/** The inbound hot path's statements (prepared once per database handle; see `prepared`). */
export function receiveQueries(db: Db) {
  const { existing, upsertContact, upsertConversation, insertMessage, bumpConversation } = prepared(db);
  return {
    existing: async (a: { uuid: string }) => (await existing.execute(a))[0],
    upsertContact: async (a: { phone: string; now: number }) => (await upsertContact.execute(a))[0],
    upsertConversation: async (a: {
      contactId: number;
      ourNumber: string;
      provider: (typeof conversations.$inferInsert)['provider'];
      now: number;
    }) => (await upsertConversation.execute(a))[0],
    insertMessage: async (a: {
      conversationId: number;
      uuid: string;
      from: string;
      to: string;
      text: string;
      encoding: (typeof messages.$inferInsert)['encoding'];
      segments: number;
      price: string | null;
      currency: string | null;
      providerTimestamp: number | null;
      now: number;
    }) => (await insertMessage.execute(a))[0],
    bumpConversation: async (a: { id: number; now: number; preview: string | null }) => (await bumpConversation.execute(a))[0],
  };
}

export type ReceiveQueries = ReturnType<typeof receiveQueries>;
