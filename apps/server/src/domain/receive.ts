import { countSms, type MessageDto, type ProviderName } from '@parley/shared';
import { and, eq, gt, isNull } from 'drizzle-orm';
import { messages } from '../db/tables';
import type { EventLog, Tx } from '../events/log';
import { DEFAULT_HELP_TEXT, looksLikeOptOut, matchKeyword, START_CONFIRMATION, STOP_CONFIRMATION } from './keywords';
import { inheritSuppressionIn, setOptOutIn } from './optout';
import { getSettings } from './settings';
import { queueMessageIn } from './send';
import { previewOf, toConversationDto, toMessageDto } from './views';
import { receiveQueries } from './receive-queries';
import { autoAssignIn } from './auto-assign';
import { conversations } from '../db/tables';
import { insertInboundMediaIn, mediaPreview, type InboundMedia } from './media';

/** An inbound text, provider-neutral: each webhook route maps its provider's payload onto this. */
export interface InboundSms {
  /** The provider's message id: the idempotency key. */
  messageUuid: string;
  /** E.164 (the customer). */
  from: string;
  /** E.164, or our sender id: the number it was sent to. */
  to: string;
  text: string;
  /** ISO-8601, the provider's time of receipt. */
  timestamp: string;
  /** Parts it arrived in, when the provider says. */
  numMessages: number | null;
  price: string | null;
  currency: string | null;
  /** MMS: the attachments' provider URLs; downloaded after commit by the media fetcher (never in the webhook). */
  media?: readonly InboundMedia[];
}

export type ReceiveResult =
  | { duplicate: true; messageId: number }
  | { duplicate: false; message: MessageDto; /** an automatic reply was queued: wake the outbox */ queuedReply: boolean };

/**
 * Stores one inbound text: contact and conversation upserted, message inserted, conversation bumped,
 * `message.created` + `conversation.updated` appended — one transaction. The same provider uuid again
 * changes nothing and appends nothing.
 */
export async function receiveInbound({
  log,
  inbound,
  provider = 'vonage',
  helpText = DEFAULT_HELP_TEXT,
  autoReplyWindowMs = DEFAULT_AUTO_REPLY_WINDOW_MS,
  admit,
  onlineAgentIds,
}: {
  log: EventLog;
  inbound: InboundSms;
  /** Whose webhook it came through: a new conversation is on this provider. */
  provider?: ProviderName;
  /** The answer to HELP/INFO when the workspace setting `helpText` is not set (HELP_TEXT). */
  helpText?: string;
  /**
   * One automatic reply of a kind (HELP answer, STOP or START confirmation) per conversation (our
   * number + contact) per this many ms; the keyword's effect (the opt-out) is recorded every time.
   */
  autoReplyWindowMs?: number;
  /** Runs first inside the transaction (e.g. records the request's nonce): it commits or rolls back with the message. */
  admit?: (tx: Tx) => void | Promise<void>;
  /** Agents online now (presence): auto-assignment's candidates. Absent: no auto-assignment. */
  onlineAgentIds?: () => readonly number[];
}): Promise<ReceiveResult> {
  const q = receiveQueries(log.db);
  return await log.write(async (tx, append) => {
    await admit?.(tx);
    const existing = await q.existing({ uuid: inbound.messageUuid });
    if (existing) return { duplicate: true, messageId: existing.id };

    const now = Date.now();
    const contact = await q.upsertContact({ phone: inbound.from, now });
    if (!contact) throw new Error('contact upsert returned no row');
    const conversation = await q.upsertConversation({ contactId: contact.id, ourNumber: inbound.to, provider, now });
    if (!conversation) throw new Error('conversation upsert returned no row');
    const count = countSms(inbound.text);
    const providerTs = Date.parse(inbound.timestamp);
    const row = await q.insertMessage({
      conversationId: conversation.id,
      uuid: inbound.messageUuid,
      from: inbound.from,
      to: inbound.to,
      text: inbound.text,
      encoding: count.encoding,
      segments: inbound.numMessages ?? Math.max(count.segments, 1),
      price: inbound.price,
      currency: inbound.currency,
      providerTimestamp: Number.isNaN(providerTs) ? null : providerTs,
      now,
    });
    if (!row) throw new Error('message insert returned no row');
    const attached =
      inbound.media && inbound.media.length > 0
        ? await insertInboundMediaIn(tx, { messageId: row.id, provider, items: inbound.media, now })
        : [];
    const preview =
      mediaPreview(
        inbound.text,
        attached.map((m) => m.contentType),
      ) ?? previewOf(inbound.text);
    let bumped = await q.bumpConversation({ id: conversation.id, now, preview });
    if (!bumped) throw new Error('conversation update returned no row');
    // A conversation's first inbound text: auto-assignment (settings), in the same event.
    if (onlineAgentIds && bumped.assignedAgentId === null) {
      const assigned = await autoAssignIn(tx, { conversationId: conversation.id, onlineAgentIds: onlineAgentIds(), settingsFrom: log.db });
      if (assigned !== null) bumped = (await tx.select().from(conversations).where(eq(conversations.id, conversation.id)))[0] ?? bumped;
    }
    const keyword = matchKeyword(inbound.text);
    // Free text that reads like an opt-out flags the conversation (first request kept: its deadline
    // runs from then) for an agent to confirm or dismiss; it does not opt out by itself.
    if (keyword === null && contact.optedOutAt === null && bumped.possibleOptOutAt === null && looksLikeOptOut(inbound.text)) {
      bumped =
        (
          await tx
            .update(conversations)
            .set({ possibleOptOutAt: now, possibleOptOutMessageId: row.id })
            .where(eq(conversations.id, conversation.id))
            .returning()
        )[0] ?? bumped;
    }

    const message = toMessageDto(row, attached);
    append({ type: 'message.created', payload: { message } });
    append({ type: 'conversation.updated', payload: { conversation: toConversationDto(bumped, contact) } });
    // A new contact for a number erased while opted out: still opted out.
    if (contact.createdAt === now) await inheritSuppressionIn(tx, append, contact.id, now);

    // Compliance keywords (README "Compliance keywords"), in the same transaction: the opt-out and its one confirmation.
    let queuedReply = false;
    /** Queues `text` unless the same automatic reply went to this conversation within the window (SMS pumping). */
    const reply = async (text: string) => {
      if (autoReplyWindowMs > 0 && (await repliedRecently(tx, conversation.id, text, now - autoReplyWindowMs))) return;
      await queueMessageIn(tx, append, {
        ourNumber: inbound.to,
        conversationId: conversation.id,
        text,
        agentId: null,
        allowOptedOut: true,
      });
      queuedReply = true;
    };
    if (keyword === 'stop' || keyword === 'start') {
      const { changed } = await setOptOutIn(tx, append, {
        contactId: contact.id,
        optedOut: keyword === 'stop',
        source: 'keyword',
        messageId: row.id,
        now,
      });
      if (changed) await reply(keyword === 'stop' ? STOP_CONFIRMATION : START_CONFIRMATION);
    } else if (keyword === 'help') {
      await reply((await getSettings(log.db)).helpText ?? helpText);
    }
    return { duplicate: false, message, queuedReply };
  });
}

/**
 * `receiveInbound` by group commit (EventLog.writeBatched): stored in the next batch transaction with
 * the other webhooks queued meanwhile, resolved once that committed (rejected with its own error only).
 */
export async function receiveInboundBatched(args: Parameters<typeof receiveInbound>[0]): Promise<ReceiveResult> {
  return await args.log.writeBatched(async () => await receiveInbound(args));
}

/** Automatic replies of one kind per conversation at most once per this many ms (AUTO_REPLY_WINDOW_SECONDS). */
export const DEFAULT_AUTO_REPLY_WINDOW_MS = 10 * 60 * 1000;

/** An automatic reply (no agent, no campaign) with this text in this conversation since `since` (indexed by conversation, time). */
async function repliedRecently(tx: Tx, conversationId: number, text: string, since: number): Promise<boolean> {
  const row = (
    await tx
      .select({ id: messages.id })
      .from(messages)
      .where(
        and(
          eq(messages.conversationId, conversationId),
          gt(messages.createdAt, since),
          eq(messages.direction, 'out'),
          isNull(messages.agentId),
          isNull(messages.campaignId),
          eq(messages.text, text),
        ),
      )
      .limit(1)
  )[0];
  return row !== undefined;
}
