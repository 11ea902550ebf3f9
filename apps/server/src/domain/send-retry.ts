/**
 * Safe retry: a failed outbound message is sent again (a new message, a new client_ref, linked by
 * retryOf) only when Parley knows the first never reached the handset, and at most once.
 */
import { eq } from 'drizzle-orm';
import { contacts, conversations, messages } from '../db/tables';
import { AppError } from '../errors';
import type { EventLog, Tx } from '../events/log';
import type { MessageRow } from './outbox';
import { queueMessageIn, type QueuedMessage } from './send';

type ContactRow = typeof contacts.$inferSelect;

/**
 * Why a message may not be retried, or null when it may: only outbound messages Parley knows never
 * reached the handset — `rejected` by the provider, or `failed` before the provider accepted it
 * (no provider id) — whose contact has not opted out and which have not been retried already.
 */
async function retryRefusal(tx: Tx, m: MessageRow, contact: ContactRow): Promise<string | null> {
  if (m.direction !== 'out') return 'Only outbound messages can be retried';
  if (m.status === 'undeliverable')
    return 'The provider accepted it and reported it undeliverable: it may have reached the handset, so Parley will not resend it';
  if (m.status === 'interrupted') return 'Parley stopped while sending it: it may have been sent, so Parley will not resend it';
  if (m.errorCode === 'CANCELLED') return 'It was cancelled before it was due; send it again instead';
  const neverAccepted = m.status === 'rejected' || (m.status === 'failed' && m.providerMessageUuid === null);
  if (!neverAccepted)
    return `It is ${m.status}: only a message the provider refused or that failed before the provider accepted it can be retried`;
  if (contact.optedOutAt !== null) return `The contact ${contact.phone} opted out (STOP): Parley will not text them until they send START`;
  const again = (await tx.select({ id: messages.id }).from(messages).where(eq(messages.retryOf, m.id)))[0];
  if (again) return `It was retried already (message ${again.id}); a message is retried at most once`;
  return null;
}

/** Queues a new message (new client_ref) with the failed one's text, linked by retryOf; CONFLICT with the reason otherwise. */
export async function retryMessage({ log, id, agentId }: { log: EventLog; id: number; agentId: number | null }): Promise<QueuedMessage> {
  return await log.write(async (tx, append) => {
    const found = (
      await tx
        .select({ m: messages, contact: contacts })
        .from(messages)
        .innerJoin(conversations, eq(conversations.id, messages.conversationId))
        .innerJoin(contacts, eq(contacts.id, conversations.contactId))
        .where(eq(messages.id, id))
    )[0];
    if (!found) throw new AppError('NOT_FOUND', `Message ${id} not found`);
    const refusal = await retryRefusal(tx, found.m, found.contact);
    if (refusal) throw new AppError('CONFLICT', `Message ${id} cannot be retried: ${refusal}`);
    return await queueMessageIn(tx, append, {
      ourNumber: found.m.from,
      conversationId: found.m.conversationId,
      text: found.m.text,
      agentId,
      retryOf: found.m.id,
      copyMediaFrom: found.m.id,
    });
  });
}
