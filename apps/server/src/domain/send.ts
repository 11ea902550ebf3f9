import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { countSms, normalizePhone } from '@parley/shared';
import type { ConversationDto, MessageDto } from '@parley/shared';
import { contacts, conversations, messages, outbox } from '../db/schema';
import { AppError } from '../errors';
import type { EventLog, Tx } from '../events/log';
import { touchConversation, upsertContact, upsertConversation } from './contacts';
import { loadConversation, previewOf, toMessageDto } from './views';

/** Vonage Messages' limit for SMS `text`. */
export const MAX_TEXT_CHARS = 1000;
/** Outbox priorities: lower sends first. */
export const PRIORITY = { reply: 0, campaign: 10 } as const;

type Append = Parameters<Parameters<EventLog['write']>[0]>[1];
type ContactRow = typeof contacts.$inferSelect;

export interface QueueMessageInput {
  /** Our sending number (E.164); used when the conversation is new. */
  ourNumber: string;
  /** Exactly one of `to` and `conversationId`. */
  to?: string;
  conversationId?: number;
  text: string;
  /** null for automatic messages (STOP confirmation, HELP text). */
  agentId: number | null;
  campaignId?: number | null;
  /** Lower sends first; default 0 (PRIORITY.reply). */
  priority?: number;
  /** Only for the STOP confirmation: queue even though the contact opted out. */
  allowOptedOut?: boolean;
}

export interface QueuedMessage {
  message: MessageDto;
  conversation: ConversationDto;
}

/**
 * Queues an outbound text: contact and conversation upserted, message inserted (`queued`, a fresh
 * client_ref), outbox row inserted, conversation bumped, `message.created` + `conversation.updated`
 * appended — one transaction. The outbox worker sends it; call its `wake()` after this returns.
 * Throws AppError BAD_REQUEST / NOT_FOUND / OPTED_OUT, writing nothing.
 */
export function queueMessage(opts: QueueMessageInput & { log: EventLog }): QueuedMessage {
  checkText(opts.text);
  return opts.log.write((tx, append) => queueMessageIn(tx, append, opts));
}

/** Automatic messages (STOP confirmation, HELP text): no agent, agents' priority. */
export function queueSystemMessage(opts: {
  log: EventLog;
  ourNumber: string;
  to: string;
  text: string;
  allowOptedOut?: boolean;
}): QueuedMessage {
  return queueMessage({ ...opts, agentId: null, priority: PRIORITY.reply });
}

/** queueMessage inside a caller's transaction (e.g. the opt-out that queues its confirmation). */
export function queueMessageIn(tx: Tx, append: Append, opts: QueueMessageInput): QueuedMessage {
  checkText(opts.text);
  const now = Date.now();
  const target = resolveTarget(tx, opts, now);
  if (target.contact.optedOutAt !== null && opts.allowOptedOut !== true) throw optedOutError(target.contact);
  const count = countSms(opts.text);
  const row = tx
    .insert(messages)
    .values({
      conversationId: target.conversationId,
      direction: 'out',
      clientRef: randomUUID(),
      from: target.ourNumber,
      to: target.contact.phone,
      text: opts.text,
      encoding: count.encoding,
      segments: Math.max(count.segments, 1),
      status: 'queued',
      statusAt: now,
      agentId: opts.agentId,
      campaignId: opts.campaignId ?? null,
      createdAt: now,
    })
    .returning()
    .get();
  tx.insert(outbox)
    .values({ messageId: row.id, priority: opts.priority ?? PRIORITY.reply, state: 'queued', nextAttemptAt: now, createdAt: now })
    .run();
  touchConversation(tx, target.conversationId, { at: now, preview: previewOf(opts.text), direction: 'out' });

  const message = toMessageDto(row);
  append({ type: 'message.created', payload: { message } });
  const conversation = loadConversation(tx, target.conversationId);
  if (!conversation) throw new Error(`conversation ${target.conversationId} vanished inside its transaction`);
  append({ type: 'conversation.updated', payload: { conversation } });
  return { message, conversation };
}

function checkText(text: string): void {
  if (text.trim() === '') throw new AppError('BAD_REQUEST', 'Message text is empty');
  const length = Array.from(text).length;
  if (length > MAX_TEXT_CHARS) {
    throw new AppError('BAD_REQUEST', `Message text is ${length} characters; the limit is ${MAX_TEXT_CHARS} (Vonage's maximum for one SMS send)`);
  }
}

interface Target {
  contact: ContactRow;
  conversationId: number;
  ourNumber: string;
}

function resolveTarget(tx: Tx, opts: QueueMessageInput, now: number): Target {
  const hasTo = opts.to !== undefined;
  const hasConversation = opts.conversationId !== undefined;
  if (hasTo === hasConversation) throw new AppError('BAD_REQUEST', 'Give exactly one of `to` and `conversationId`');

  if (opts.conversationId !== undefined) {
    const found = tx
      .select({ c: conversations, contact: contacts })
      .from(conversations)
      .innerJoin(contacts, eq(contacts.id, conversations.contactId))
      .where(eq(conversations.id, opts.conversationId))
      .get();
    if (!found) throw new AppError('NOT_FOUND', `Conversation ${opts.conversationId} not found`);
    return { contact: found.contact, conversationId: found.c.id, ourNumber: found.c.ourNumber };
  }

  const phone = normalizePhone(opts.to ?? '');
  if (!phone.ok) throw new AppError('BAD_REQUEST', `Invalid recipient "${opts.to ?? ''}": ${phone.reason}`);
  // Refuse before writing anything: an opted-out contact already exists.
  const existing = tx.select().from(contacts).where(eq(contacts.phone, phone.e164)).get();
  if (existing?.optedOutAt != null && opts.allowOptedOut !== true) throw optedOutError(existing);
  const contact = existing ?? upsertContact(tx, phone.e164, now);
  const conversation = upsertConversation(tx, contact.id, opts.ourNumber, now);
  return { contact, conversationId: conversation.id, ourNumber: conversation.ourNumber };
}

/** "2025-02-03 12:14 UTC" */
function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function optedOutError(contact: ContactRow): AppError {
  const when = contact.optedOutAt === null ? 'earlier' : `on ${formatUtc(contact.optedOutAt)}`;
  return new AppError(
    'OPTED_OUT',
    `The contact ${contact.phone} opted out (STOP) ${when}; Parley will not text them until they send START`,
  );
}
