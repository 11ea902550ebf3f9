import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { contacts, conversations, messages } from '../db/tables';
import { greatest } from '../db/dialect';

/** The inbound hot path's statements (the store keeps each one prepared per connection). */
export function receiveQueries(db: Db) {
  return {
    existing: async (a: { uuid: string }) =>
      (await db.select({ id: messages.id }).from(messages).where(eq(messages.providerMessageUuid, a.uuid)).limit(1))[0],
    // DO UPDATE (a no-op) rather than DO NOTHING so RETURNING gives the row either way: one statement.
    upsertContact: async (a: { phone: string; now: number }) =>
      (
        await db
          .insert(contacts)
          .values({ phone: a.phone, createdAt: a.now })
          .onConflictDoUpdate({ target: contacts.phone, set: { phone: sql`excluded.phone` } })
          .returning()
      )[0],
    upsertConversation: async (a: {
      contactId: number;
      ourNumber: string;
      provider: (typeof conversations.$inferInsert)['provider'];
      now: number;
    }) =>
      (
        await db
          .insert(conversations)
          .values({ contactId: a.contactId, ourNumber: a.ourNumber, provider: a.provider, createdAt: a.now })
          .onConflictDoUpdate({ target: [conversations.contactId, conversations.ourNumber], set: { ourNumber: sql`excluded.our_number` } })
          .returning({ id: conversations.id, provider: conversations.provider })
      )[0],
    insertMessage: async (
      a: Omit<typeof messages.$inferInsert, 'direction' | 'status' | 'statusAt' | 'createdAt' | 'providerMessageUuid'> & {
        uuid: string;
        now: number;
      },
    ) => {
      const { uuid, now, ...rest } = a;
      return (
        await db
          .insert(messages)
          .values({ ...rest, direction: 'in', providerMessageUuid: uuid, status: 'received', statusAt: now, createdAt: now })
          .returning()
      )[0];
    },
    bumpConversation: async (a: { id: number; now: number; preview: string | null }) =>
      (
        await db
          .update(conversations)
          .set({
            lastMessageAt: greatest(sql`coalesce(${conversations.lastMessageAt}, 0)`, a.now),
            lastMessagePreview: a.preview,
            lastMessageDirection: 'in',
            unreadCount: sql`${conversations.unreadCount} + 1`,
            // A pending, snoozed or closed conversation is open again when the contact writes.
            status: 'open',
            snoozeUntil: null,
          })
          .where(eq(conversations.id, a.id))
          .returning()
      )[0],
  };
}

export type ReceiveQueries = ReturnType<typeof receiveQueries>;
