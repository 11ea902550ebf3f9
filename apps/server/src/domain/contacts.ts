import { eq, sql } from 'drizzle-orm';
import type { ProviderName } from '@parley/shared';
import { contacts, conversations } from '../db/tables';
import type { Tx } from '../events/log';
import { greatest } from '../db/dialect';

// DO UPDATE (a no-op) rather than DO NOTHING so RETURNING gives the row either way: one statement
// (the inbound hot path uses the same statements, prepared, in receive-queries.ts).
export async function upsertContact(tx: Tx, phone: string, now: number): Promise<typeof contacts.$inferSelect> {
  const row = (
    await tx
      .insert(contacts)
      .values({ phone, createdAt: now })
      .onConflictDoUpdate({ target: contacts.phone, set: { phone: sql`excluded.phone` } })
      .returning()
  )[0];
  if (!row) throw new Error(`contact ${phone}: upsert returned no row`);
  return row;
}

export async function upsertConversation(
  tx: Tx,
  contactId: number,
  ourNumber: string,
  now: number,
  /** Set when the conversation is created; an existing one keeps its own. */
  provider: ProviderName = 'vonage',
): Promise<typeof conversations.$inferSelect> {
  const row = (
    await tx
      .insert(conversations)
      .values({ contactId, ourNumber, provider, createdAt: now })
      .onConflictDoUpdate({ target: [conversations.contactId, conversations.ourNumber], set: { ourNumber: sql`excluded.our_number` } })
      .returning()
  )[0];
  if (!row) throw new Error(`conversation ${contactId}/${ourNumber}: upsert returned no row`);
  return row;
}

/** Bumps a conversation's last-message fields (and unread count for inbound); reopens it on inbound. */
export async function touchConversation(
  tx: Tx,
  conversationId: number,
  m: { at: number; preview: string; direction: 'in' | 'out' },
): Promise<void> {
  await tx
    .update(conversations)
    .set({
      lastMessageAt: greatest(sql`coalesce(${conversations.lastMessageAt}, 0)`, m.at),
      lastMessagePreview: m.preview,
      lastMessageDirection: m.direction,
      ...(m.direction === 'in' ? { unreadCount: sql`${conversations.unreadCount} + 1`, status: 'open' as const } : {}),
    })
    .where(eq(conversations.id, conversationId));
}
