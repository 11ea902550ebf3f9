import { eq } from 'drizzle-orm';
import { countSms, type MessageDto, type VonageInbound } from '@parley/shared';
import { messages } from '../db/schema';
import type { EventLog } from '../events/log';
import { touchConversation, upsertContact, upsertConversation } from './contacts';
import { loadConversation, previewOf, toMessageDto } from './views';

export type ReceiveResult = { duplicate: true; messageId: number } | { duplicate: false; message: MessageDto };

/**
 * Stores one inbound text: contact and conversation upserted, message inserted, conversation bumped,
 * `message.created` + `conversation.updated` appended — one transaction. The same provider uuid again
 * changes nothing and appends nothing.
 */
export function receiveInbound({ log, inbound }: { log: EventLog; inbound: VonageInbound }): ReceiveResult {
  return log.write((tx, append) => {
    const existing = tx
      .select({ id: messages.id })
      .from(messages)
      .where(eq(messages.providerMessageUuid, inbound.messageUuid))
      .get();
    if (existing) return { duplicate: true, messageId: existing.id };

    const now = Date.now();
    const contact = upsertContact(tx, inbound.from, now);
    const conversation = upsertConversation(tx, contact.id, inbound.to, now);
    const count = countSms(inbound.text);
    const providerTs = Date.parse(inbound.timestamp);
    const row = tx
      .insert(messages)
      .values({
        conversationId: conversation.id,
        direction: 'in',
        providerMessageUuid: inbound.messageUuid,
        from: inbound.from,
        to: inbound.to,
        text: inbound.text,
        encoding: count.encoding,
        segments: inbound.numMessages ?? Math.max(count.segments, 1),
        status: 'received',
        statusAt: now,
        price: inbound.price,
        currency: inbound.currency,
        providerTimestamp: Number.isNaN(providerTs) ? null : providerTs,
        createdAt: now,
      })
      .returning()
      .get();
    touchConversation(tx, conversation.id, { at: now, preview: previewOf(inbound.text), direction: 'in' });

    const message = toMessageDto(row);
    append({ type: 'message.created', payload: { message } });
    const updated = loadConversation(tx, conversation.id);
    if (updated) append({ type: 'conversation.updated', payload: { conversation: updated } });
    return { duplicate: false, message };
  });
}
