import { eq } from 'drizzle-orm';
import { countSms, type MessageDto, type VonageInbound } from '@parley/shared';
import { messages } from '../db/schema';
import type { EventLog } from '../events/log';
import { touchConversation, upsertContact, upsertConversation } from './contacts';
import { DEFAULT_HELP_TEXT, matchKeyword, START_CONFIRMATION, STOP_CONFIRMATION } from './keywords';
import { setOptOutIn } from './optout';
import { queueMessageIn } from './send';
import { loadConversation, previewOf, toMessageDto } from './views';

export type ReceiveResult =
  | { duplicate: true; messageId: number }
  | { duplicate: false; message: MessageDto; /** an automatic reply was queued: wake the outbox */ queuedReply: boolean };

/**
 * Stores one inbound text: contact and conversation upserted, message inserted, conversation bumped,
 * `message.created` + `conversation.updated` appended — one transaction. The same provider uuid again
 * changes nothing and appends nothing.
 */
export function receiveInbound({
  log,
  inbound,
  helpText = DEFAULT_HELP_TEXT,
}: {
  log: EventLog;
  inbound: VonageInbound;
  /** The answer to HELP/INFO. */
  helpText?: string;
}): ReceiveResult {
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

    // Compliance keywords (DESIGN §5), in the same transaction: the opt-out and its one confirmation.
    const reply = (text: string) =>
      queueMessageIn(tx, append, { ourNumber: inbound.to, conversationId: conversation.id, text, agentId: null, allowOptedOut: true });
    let queuedReply = false;
    const keyword = matchKeyword(inbound.text);
    if (keyword === 'stop' || keyword === 'start') {
      const { changed } = setOptOutIn(tx, append, { contactId: contact.id, optedOut: keyword === 'stop', source: 'keyword' });
      if (changed) {
        reply(keyword === 'stop' ? STOP_CONFIRMATION : START_CONFIRMATION);
        queuedReply = true;
      }
    } else if (keyword === 'help') {
      reply(helpText);
      queuedReply = true;
    }
    return { duplicate: false, message, queuedReply };
  });
}
