import { and, eq, sql } from 'drizzle-orm';
import { contacts, conversations } from '../db/schema';
import type { Tx } from '../events/log';

export function upsertContact(tx: Tx, phone: string, now: number): typeof contacts.$inferSelect {
  tx.insert(contacts).values({ phone, createdAt: now }).onConflictDoNothing({ target: contacts.phone }).run();
  const row = tx.select().from(contacts).where(eq(contacts.phone, phone)).get();
  if (!row) throw new Error(`contact ${phone} vanished inside its transaction`);
  return row;
}

export function upsertConversation(
  tx: Tx,
  contactId: number,
  ourNumber: string,
  now: number,
): typeof conversations.$inferSelect {
  tx.insert(conversations)
    .values({ contactId, ourNumber, createdAt: now })
    .onConflictDoNothing({ target: [conversations.contactId, conversations.ourNumber] })
    .run();
  const row = tx
    .select()
    .from(conversations)
    .where(and(eq(conversations.contactId, contactId), eq(conversations.ourNumber, ourNumber)))
    .get();
  if (!row) throw new Error(`conversation ${contactId}/${ourNumber} vanished inside its transaction`);
  return row;
}

/** Bumps a conversation's last-message fields (and unread count for inbound); reopens it on inbound. */
export function touchConversation(
  tx: Tx,
  conversationId: number,
  m: { at: number; preview: string; direction: 'in' | 'out' },
): void {
  tx.update(conversations)
    .set({
      lastMessageAt: sql`max(coalesce(${conversations.lastMessageAt}, 0), ${m.at})`,
      lastMessagePreview: m.preview,
      lastMessageDirection: m.direction,
      ...(m.direction === 'in'
        ? { unreadCount: sql`${conversations.unreadCount} + 1`, status: 'open' as const }
        : {}),
    })
    .where(eq(conversations.id, conversationId))
    .run();
}
