/**
 * Sending now: an outbound text (or MMS) queued into the outbox in one transaction, refused with a
 * reason when the recipient opted out or the text cannot be sent. Send later is send-later.ts, safe
 * retry send-retry.ts, the outbox's transitions outbox.ts.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { MAX_TEXT_CHARS, countSms, normalizePhone } from '@parley/shared';
import type { ConversationDto, MessageDto, ProviderName } from '@parley/shared';
import { contacts, conversations, messages, outbox } from '../db/tables';
import { AppError } from '../errors';
import type { EventLog, Tx, Append } from '../events/log';
import { touchConversation, upsertContact, upsertConversation } from './contacts';
import { formatUtc, loadConversation, previewOf, toMessageDto } from './views';
import { attachMediaIn, copyMediaIn, mediaPreview } from './media';
import { suppressionOf } from './suppression';
import { PRIORITY } from './outbox';
import { one } from '../db/store';

// The due scan of send later, named here for the server's composition root.

/** Vonage Messages' limit for SMS `text`. */
export { MAX_TEXT_CHARS };

type ContactRow = typeof contacts.$inferSelect;

export interface QueueMessageInput {
  /** Our sending number (E.164); used when the conversation is new. */
  ourNumber: string;
  /** The provider of `ourNumber`, recorded on a new conversation (default 'vonage'). Replies use the conversation's. */
  provider?: ProviderName;
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
  /** Send later (epoch ms, already validated by checkSendAt): stored `scheduled`, no outbox row until due. */
  sendAt?: number;
  /** A retry: the failed message this one resends. */
  retryOf?: number;
  /** MMS: uploads (POST /media) to attach; the text may then be empty (a caption otherwise). */
  mediaIds?: readonly number[];
  /** A retry of an MMS: the original's stored attachments are attached again (same files). */
  copyMediaFrom?: number;
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
export async function queueMessage(opts: QueueMessageInput & { log: EventLog }): Promise<QueuedMessage> {
  checkText(opts.text, (opts.mediaIds?.length ?? 0) > 0);
  return await opts.log.write(async (tx, append) => await queueMessageIn(tx, append, opts));
}

/** Automatic messages (STOP confirmation, HELP text): no agent, agents' priority. */
export async function queueSystemMessage(opts: {
  log: EventLog;
  ourNumber: string;
  to: string;
  text: string;
  allowOptedOut?: boolean;
}): Promise<QueuedMessage> {
  return await queueMessage({ ...opts, agentId: null, priority: PRIORITY.reply });
}

/** queueMessage inside a caller's transaction (e.g. the opt-out that queues its confirmation). */
export async function queueMessageIn(tx: Tx, append: Append, opts: QueueMessageInput): Promise<QueuedMessage> {
  checkText(opts.text, (opts.mediaIds?.length ?? 0) > 0 || opts.copyMediaFrom !== undefined);
  const now = Date.now();
  const target = await resolveTarget(tx, opts, now);
  if (target.contact.optedOutAt !== null && opts.allowOptedOut !== true) throw optedOutError(target.contact);
  const count = countSms(opts.text);
  const row = one(
    await tx
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
        status: opts.sendAt === undefined ? 'queued' : 'scheduled',
        statusAt: now,
        agentId: opts.agentId,
        campaignId: opts.campaignId ?? null,
        sendAt: opts.sendAt ?? null,
        retryOf: opts.retryOf ?? null,
        createdAt: now,
      })
      .returning(),
  );
  if (opts.sendAt === undefined) {
    await tx.insert(outbox).values({
      messageId: row.id,
      provider: target.provider,
      priority: opts.priority ?? PRIORITY.reply,
      state: 'queued',
      nextAttemptAt: now,
      createdAt: now,
    });
  }
  const attached = [
    ...(opts.mediaIds && opts.mediaIds.length > 0 ? await attachMediaIn(tx, row.id, opts.mediaIds) : []),
    ...(opts.copyMediaFrom !== undefined ? await copyMediaIn(tx, opts.copyMediaFrom, row.id) : []),
  ];
  const preview =
    mediaPreview(
      opts.text,
      attached.map((m) => m.contentType),
    ) ?? previewOf(opts.text);
  await touchConversation(tx, target.conversationId, { at: now, preview, direction: 'out' });

  const message = toMessageDto(row, attached);
  append({ type: 'message.created', payload: { message } });
  const conversation = await loadConversation(tx, target.conversationId);
  if (!conversation) throw new Error(`conversation ${target.conversationId} vanished inside its transaction`);
  append({ type: 'conversation.updated', payload: { conversation } });
  return { message, conversation };
}

function checkText(text: string, hasMedia = false): void {
  if (text.trim() === '' && !hasMedia) throw new AppError('BAD_REQUEST', 'Message text is empty');
  const length = Array.from(text).length;
  if (length > MAX_TEXT_CHARS) {
    throw new AppError(
      'BAD_REQUEST',
      `Message text is ${length} characters; the limit is ${MAX_TEXT_CHARS} (Vonage's maximum for one SMS send)`,
    );
  }
}

interface Target {
  contact: ContactRow;
  conversationId: number;
  ourNumber: string;
  provider: ProviderName;
}

async function resolveTarget(tx: Tx, opts: QueueMessageInput, now: number): Promise<Target> {
  const hasTo = opts.to !== undefined;
  const hasConversation = opts.conversationId !== undefined;
  if (hasTo === hasConversation) throw new AppError('BAD_REQUEST', 'Give exactly one of `to` and `conversationId`');

  if (opts.conversationId !== undefined) {
    const found = (
      await tx
        .select({ c: conversations, contact: contacts })
        .from(conversations)
        .innerJoin(contacts, eq(contacts.id, conversations.contactId))
        .where(eq(conversations.id, opts.conversationId))
    )[0];
    if (!found) throw new AppError('NOT_FOUND', `Conversation ${opts.conversationId} not found`);
    if (found.contact.optedOutAt === null && opts.allowOptedOut !== true) await refuseSuppressed(tx, found.contact.phone);
    return { contact: found.contact, conversationId: found.c.id, ourNumber: found.c.ourNumber, provider: found.c.provider };
  }

  const phone = normalizePhone(opts.to ?? '');
  if (!phone.ok) throw new AppError('BAD_REQUEST', `Invalid recipient "${opts.to ?? ''}": ${phone.reason}`);
  // Refuse before writing anything: an opted-out contact already exists.
  const existing = (await tx.select().from(contacts).where(eq(contacts.phone, phone.e164)))[0];
  if (existing?.optedOutAt != null && opts.allowOptedOut !== true) throw optedOutError(existing);
  // An erased contact's number that had opted out: only its keyed hash is left, and it still counts.
  if (opts.allowOptedOut !== true) await refuseSuppressed(tx, phone.e164);
  const contact = existing ?? (await upsertContact(tx, phone.e164, now));
  const conversation = await upsertConversation(tx, contact.id, opts.ourNumber, now, opts.provider);
  return { contact, conversationId: conversation.id, ourNumber: conversation.ourNumber, provider: conversation.provider };
}

/** OPTED_OUT when the number is on the suppression list as opted out (a contact erased after its STOP). */
async function refuseSuppressed(tx: Tx, phone: string): Promise<void> {
  const entry = await suppressionOf(tx, phone);
  if (entry?.state !== 'opted_out') return;
  const when = entry.optedOutAt === null ? 'earlier' : `on ${formatUtc(entry.optedOutAt)}`;
  throw new AppError(
    'OPTED_OUT',
    `This number opted out (STOP) ${when} and its contact was erased since; Parley will not text it until it sends START`,
  );
}

function optedOutError(contact: ContactRow): AppError {
  const when = contact.optedOutAt === null ? 'earlier' : `on ${formatUtc(contact.optedOutAt)}`;
  return new AppError(
    'OPTED_OUT',
    `The contact ${contact.phone} opted out (STOP) ${when}; Parley will not text them until they send START`,
  );
}
