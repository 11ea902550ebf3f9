import { randomUUID } from 'node:crypto';
import { and, asc, eq, gte, inArray, isNull, lte, min, or, sql } from 'drizzle-orm';
import { MAX_TEXT_CHARS, countSms, normalizePhone } from '@parley/shared';
import type { ConversationDto, MessageDto, ProviderName } from '@parley/shared';
import { contacts, conversations, messages, outbox } from '../db/schema';
import { AppError } from '../errors';
import type { Db } from '../db/client';
import type { EventLog, Tx, Append } from '../events/log';
import { adoptOrphans } from './status';
import { touchConversation, upsertContact, upsertConversation } from './contacts';
import { loadConversation, previewOf, toMessageDto } from './views';
import { attachMediaIn, copyMediaIn, mediaPreview, messageDtoOf } from './media';
import { suppressionOf } from './suppression';
import { heldReason, quietHoursJudge } from './quiet-hours';
import { getSettings } from './settings';

/** A contact who texted within this long is in a conversation: replies to them are not held for quiet hours. */
export const CONVERSATIONAL_WINDOW_MS = 24 * 3_600_000;

/** Whether the contact sent us a text (in any of their conversations) since `since`. */
export function wroteSince(tx: Tx | Db, contactId: number, since: number): boolean {
  return (
    tx
      .select({ id: messages.id })
      .from(messages)
      .innerJoin(conversations, eq(conversations.id, messages.conversationId))
      .where(and(eq(conversations.contactId, contactId), eq(messages.direction, 'in'), gte(messages.createdAt, since)))
      .limit(1)
      .get() !== undefined
  );
}

/** Vonage Messages' limit for SMS `text`. */
export { MAX_TEXT_CHARS };
/** Outbox priorities: lower sends first. */
export const PRIORITY = { reply: 0, campaign: 10 } as const;

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
export function queueMessage(opts: QueueMessageInput & { log: EventLog }): QueuedMessage {
  checkText(opts.text, (opts.mediaIds?.length ?? 0) > 0);
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
  checkText(opts.text, (opts.mediaIds?.length ?? 0) > 0 || opts.copyMediaFrom !== undefined);
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
      status: opts.sendAt === undefined ? 'queued' : 'scheduled',
      statusAt: now,
      agentId: opts.agentId,
      campaignId: opts.campaignId ?? null,
      sendAt: opts.sendAt ?? null,
      retryOf: opts.retryOf ?? null,
      createdAt: now,
    })
    .returning()
    .get();
  if (opts.sendAt === undefined) {
    tx.insert(outbox)
      .values({
        messageId: row.id,
        provider: target.provider,
        priority: opts.priority ?? PRIORITY.reply,
        state: 'queued',
        nextAttemptAt: now,
        createdAt: now,
      })
      .run();
  }
  const attached = [
    ...(opts.mediaIds && opts.mediaIds.length > 0 ? attachMediaIn(tx, row.id, opts.mediaIds) : []),
    ...(opts.copyMediaFrom !== undefined ? copyMediaIn(tx, opts.copyMediaFrom, row.id) : []),
  ];
  const preview =
    mediaPreview(
      opts.text,
      attached.map((m) => m.contentType),
    ) ?? previewOf(opts.text);
  touchConversation(tx, target.conversationId, { at: now, preview, direction: 'out' });

  const message = toMessageDto(row, attached);
  append({ type: 'message.created', payload: { message } });
  const conversation = loadConversation(tx, target.conversationId);
  if (!conversation) throw new Error(`conversation ${target.conversationId} vanished inside its transaction`);
  append({ type: 'conversation.updated', payload: { conversation } });
  return { message, conversation };
}

/** Send later: at most this far ahead. */
export const MAX_SEND_AHEAD_MS = 366 * 86_400_000;

/** `sendAt` (ISO) as epoch ms: BAD_REQUEST when unreadable, not in the future, or more than a year ahead. */
export function checkSendAt(sendAt: string, now: number): number {
  const at = Date.parse(sendAt);
  if (Number.isNaN(at)) throw new AppError('BAD_REQUEST', `sendAt is not an ISO time: ${sendAt}`);
  if (at <= now) throw new AppError('BAD_REQUEST', 'sendAt is in the past: pick a time in the future');
  if (at > now + MAX_SEND_AHEAD_MS) throw new AppError('BAD_REQUEST', 'sendAt may be at most a year ahead');
  return at;
}

/**
 * The scheduled-send due scan's one pass: every `scheduled` message whose send_at <= now is queued
 * into the outbox (status `queued`), or — when its contact opted out meanwhile — fails with
 * OPTED_OUT and the reason: opt-out is judged at send time, not when it was scheduled. A chunk per
 * transaction. Returns how many were queued (wake the outbox when > 0).
 *
 * Quiet hours: a due message whose recipient is outside the window in their time zone (and has not
 * texted in the last 24 h — then it is a reply in a conversation) is not queued: it gets
 * `held_until` (when their window opens) and the scan passes it by until then — durable, so a
 * restart keeps it. `now` is the injected clock.
 */
export function releaseDueScheduled({ log, now, batch = 200 }: { log: EventLog; now: number; batch?: number }): number {
  let queued = 0;
  for (;;) {
    const seen = log.write((tx, append) => {
      const due = tx
        .select({ m: messages, optedOutAt: contacts.optedOutAt, contactId: contacts.id, provider: conversations.provider })
        .from(messages)
        .innerJoin(conversations, eq(conversations.id, messages.conversationId))
        .innerJoin(contacts, eq(contacts.id, conversations.contactId))
        .where(
          and(eq(messages.status, 'scheduled'), lte(messages.sendAt, now), or(isNull(messages.heldUntil), lte(messages.heldUntil, now))),
        )
        .orderBy(asc(messages.sendAt), asc(messages.id))
        .limit(batch)
        .all();
      const window = getSettings(tx).quietHours;
      const judge = window ? quietHoursJudge(now, window) : null;
      for (const { m, optedOutAt, contactId, provider } of due) {
        if (optedOutAt !== null) {
          moveMessage(tx, append, m, {
            status: 'failed',
            errorCode: 'OPTED_OUT',
            errorReason: `The contact opted out (STOP) on ${formatUtc(optedOutAt)}, before this scheduled message was due; it was not sent`,
          });
          continue;
        }
        if (judge && !wroteSince(tx, contactId, now - CONVERSATIONAL_WINDOW_MS)) {
          const verdict = judge(m.to);
          if (!verdict.open) {
            moveMessage(tx, append, m, { heldUntil: verdict.until, errorReason: heldReason(verdict) });
            continue;
          }
        }
        moveMessage(tx, append, m, { status: 'queued', heldUntil: null, errorReason: null });
        tx.insert(outbox)
          // Due now on the outbox's own (real) clock: the scan's `now` may be an injected one.
          .values({
            messageId: m.id,
            provider,
            priority: PRIORITY.reply,
            state: 'queued',
            nextAttemptAt: Date.now(),
            createdAt: Date.now(),
          })
          .run();
        queued += 1;
      }
      return due.length;
    });
    if (seen < batch) return queued;
  }
}

/** Cancels a scheduled message before it is due: status `failed` with errorCode CANCELLED. */
export function cancelScheduled({ log, id }: { log: EventLog; id: number }): MessageDto {
  return log.write((tx, append) => {
    const m = loadRow(tx, id);
    if (!m) throw new AppError('NOT_FOUND', `Message ${id} not found`);
    if (m.status !== 'scheduled')
      throw new AppError('CONFLICT', `Message ${id} is ${m.status}, not scheduled: it can no longer be cancelled`);
    moveMessage(tx, append, m, { status: 'failed', errorCode: 'CANCELLED', errorReason: 'Cancelled before it was due' });
    const after = loadRow(tx, id);
    if (!after) throw new Error(`message ${id} vanished inside its transaction`);
    return messageDtoOf(tx, after);
  });
}

/**
 * Why a message may not be retried, or null when it may: only outbound messages Parley knows never
 * reached the handset — `rejected` by the provider, or `failed` before the provider accepted it
 * (no provider id) — whose contact has not opted out and which have not been retried already.
 */
function retryRefusal(tx: Tx, m: MessageRow, contact: ContactRow): string | null {
  if (m.direction !== 'out') return 'Only outbound messages can be retried';
  if (m.status === 'undeliverable')
    return 'The provider accepted it and reported it undeliverable: it may have reached the handset, so Parley will not resend it';
  if (m.status === 'interrupted') return 'Parley stopped while sending it: it may have been sent, so Parley will not resend it';
  if (m.errorCode === 'CANCELLED') return 'It was cancelled before it was due; send it again instead';
  const neverAccepted = m.status === 'rejected' || (m.status === 'failed' && m.providerMessageUuid === null);
  if (!neverAccepted)
    return `It is ${m.status}: only a message the provider refused or that failed before the provider accepted it can be retried`;
  if (contact.optedOutAt !== null) return `The contact ${contact.phone} opted out (STOP): Parley will not text them until they send START`;
  const again = tx.select({ id: messages.id }).from(messages).where(eq(messages.retryOf, m.id)).get();
  if (again) return `It was retried already (message ${again.id}); a message is retried at most once`;
  return null;
}

/** Queues a new message (new client_ref) with the failed one's text, linked by retryOf; CONFLICT with the reason otherwise. */
export function retryMessage({ log, id, agentId }: { log: EventLog; id: number; agentId: number | null }): QueuedMessage {
  return log.write((tx, append) => {
    const found = tx
      .select({ m: messages, contact: contacts })
      .from(messages)
      .innerJoin(conversations, eq(conversations.id, messages.conversationId))
      .innerJoin(contacts, eq(contacts.id, conversations.contactId))
      .where(eq(messages.id, id))
      .get();
    if (!found) throw new AppError('NOT_FOUND', `Message ${id} not found`);
    const refusal = retryRefusal(tx, found.m, found.contact);
    if (refusal) throw new AppError('CONFLICT', `Message ${id} cannot be retried: ${refusal}`);
    return queueMessageIn(tx, append, {
      ourNumber: found.m.from,
      conversationId: found.m.conversationId,
      text: found.m.text,
      agentId,
      retryOf: found.m.id,
      copyMediaFrom: found.m.id,
    });
  });
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
    if (found.contact.optedOutAt === null && opts.allowOptedOut !== true) refuseSuppressed(tx, found.contact.phone);
    return { contact: found.contact, conversationId: found.c.id, ourNumber: found.c.ourNumber, provider: found.c.provider };
  }

  const phone = normalizePhone(opts.to ?? '');
  if (!phone.ok) throw new AppError('BAD_REQUEST', `Invalid recipient "${opts.to ?? ''}": ${phone.reason}`);
  // Refuse before writing anything: an opted-out contact already exists.
  const existing = tx.select().from(contacts).where(eq(contacts.phone, phone.e164)).get();
  if (existing?.optedOutAt != null && opts.allowOptedOut !== true) throw optedOutError(existing);
  // An erased contact's number that had opted out: only its keyed hash is left, and it still counts.
  if (opts.allowOptedOut !== true) refuseSuppressed(tx, phone.e164);
  const contact = existing ?? upsertContact(tx, phone.e164, now);
  const conversation = upsertConversation(tx, contact.id, opts.ourNumber, now, opts.provider);
  return { contact, conversationId: conversation.id, ourNumber: conversation.ourNumber, provider: conversation.provider };
}

/** "2025-02-03 12:14 UTC" */
function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** OPTED_OUT when the number is on the suppression list as opted out (a contact erased after its STOP). */
function refuseSuppressed(tx: Tx, phone: string): void {
  const entry = suppressionOf(tx, phone);
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

// ---- The outbox's transitions, driven by outbox/worker.ts (which owns the policy: rate, retries). ----

type MessageRow = typeof messages.$inferSelect;

/** A row claimed for sending: state 'sending' is committed before the provider is called. */
export interface ClaimedSend {
  messageId: number;
  clientRef: string;
  from: string;
  to: string;
  text: string;
  /** Attempts made before this one. */
  attempts: number;
}

export const RESTART_REASON = 'Parley restarted while sending; it may or may not have been delivered';

/** Sets a message's fields and status time, appending `message.status`. */
function moveMessage(tx: Tx, append: Append, current: MessageRow, patch: Partial<MessageRow>): void {
  const updated = tx
    .update(messages)
    .set({ ...patch, statusAt: Date.now() })
    .where(eq(messages.id, current.id))
    .returning()
    .get();
  if (updated)
    append({
      type: 'message.status',
      payload: { message: messageDtoOf(tx, updated), previousStatus: current.status as MessageDto['status'] },
    });
}

const loadRow = (tx: Tx, id: number) => tx.select().from(messages).where(eq(messages.id, id)).get();
const deleteRow = (tx: Tx, id: number) => tx.delete(outbox).where(eq(outbox.messageId, id)).run();
/** Queued rows (of one provider's queue, when given). */
const queuedOf = (provider?: ProviderName) =>
  provider === undefined ? eq(outbox.state, 'queued') : and(eq(outbox.provider, provider), eq(outbox.state, 'queued'));
const due = (now: number, provider?: ProviderName) => and(queuedOf(provider), lte(outbox.nextAttemptAt, now));

/**
 * Rows left 'sending' by a process that died: unknown whether sent, so never resent. A message
 * still `queued` becomes `interrupted` (a later status webhook, found by client_ref, settles it);
 * one a webhook already settled keeps its status. Returns the message ids.
 */
export function recoverInterruptedSends({ log, provider }: { log: EventLog; provider?: ProviderName }): number[] {
  return log.write((tx, append) => {
    const sending = eq(outbox.state, 'sending');
    const stuck = tx
      .select({ id: outbox.messageId })
      .from(outbox)
      .where(provider === undefined ? sending : and(sending, eq(outbox.provider, provider)))
      .all();
    for (const { id } of stuck) {
      const current = loadRow(tx, id);
      if (current?.status === 'queued') moveMessage(tx, append, current, { status: 'interrupted', errorReason: RESTART_REASON });
      deleteRow(tx, id);
    }
    return stuck.map((s) => s.id);
  });
}

export function hasDueSend({ db, now = Date.now(), provider }: { db: Db; now?: number; provider?: ProviderName }): boolean {
  return db.select({ id: outbox.messageId }).from(outbox).where(due(now, provider)).limit(1).get() !== undefined;
}

/** When the earliest queued row falls due (epoch ms), or null when none is queued. */
export function nextSendDueAt({ db, provider }: { db: Db; provider?: ProviderName }): number | null {
  return (
    db
      .select({ at: min(outbox.nextAttemptAt) })
      .from(outbox)
      .where(queuedOf(provider))
      .get()?.at ?? null
  );
}

export function outboxStats({ db, now = Date.now(), provider }: { db: Db; now?: number; provider?: ProviderName }): {
  depth: number;
  oldestQueuedAgeMs: number | null;
} {
  const row = db
    .select({
      depth: sql<number>`count(*)`,
      oldest: sql<number | null>`min(case when ${outbox.state} = 'queued' then ${outbox.createdAt} end)`,
    })
    .from(outbox)
    .where(provider === undefined ? undefined : eq(outbox.provider, provider))
    .get();
  const oldest = row?.oldest ?? null;
  return { depth: row?.depth ?? 0, oldestQueuedAgeMs: oldest === null ? null : Math.max(0, now - oldest) };
}

/**
 * Claims the next due row (priority, then due time) by setting it 'sending'. A row whose message was
 * settled elsewhere is dropped; one whose contact opted out after it was queued fails (a message
 * queued after the opt-out was allowed on purpose: the STOP confirmation). undefined: nothing due.
 */
export function claimNextSend({
  log,
  now = Date.now(),
  provider,
}: {
  log: EventLog;
  now?: number;
  provider?: ProviderName;
}): ClaimedSend | 'skipped' | undefined {
  return log.write((tx, append) => {
    const row = tx
      .select({ o: outbox, m: messages, optedOutAt: contacts.optedOutAt })
      .from(outbox)
      .innerJoin(messages, eq(messages.id, outbox.messageId))
      .innerJoin(conversations, eq(conversations.id, messages.conversationId))
      .innerJoin(contacts, eq(contacts.id, conversations.contactId))
      .where(due(now, provider))
      .orderBy(asc(outbox.priority), asc(outbox.nextAttemptAt), asc(outbox.messageId))
      .limit(1)
      .get();
    if (!row) return undefined;
    const { m } = row;
    if (m.status !== 'queued') {
      deleteRow(tx, m.id);
      return 'skipped';
    }
    if (row.optedOutAt !== null && m.createdAt < row.optedOutAt) {
      moveMessage(tx, append, m, {
        status: 'failed',
        errorCode: 'OPTED_OUT',
        errorReason: 'The contact opted out (STOP) before this message was sent',
      });
      deleteRow(tx, m.id);
      return 'skipped';
    }
    tx.update(outbox).set({ state: 'sending' }).where(eq(outbox.messageId, m.id)).run();
    return { messageId: m.id, clientRef: m.clientRef ?? String(m.id), from: m.from, to: m.to, text: m.text, attempts: row.o.attempts };
  });
}

/**
 * The provider accepted it: provider id stored (unless a status webhook already set it), `submitted`
 * only if still `queued` (never over a later status), outbox row gone, earlier orphan reports adopted.
 * Returns false when a webhook had already stored a different provider id.
 */
export function recordSendAccepted({
  log,
  messageId,
  providerMessageId,
}: {
  log: EventLog;
  messageId: number;
  providerMessageId: string;
}): boolean {
  return log.write((tx, append) => {
    deleteRow(tx, messageId);
    const current = loadRow(tx, messageId);
    if (!current) return true;
    const patch: Partial<MessageRow> = current.providerMessageUuid === null ? { providerMessageUuid: providerMessageId } : {};
    if (current.status === 'queued') moveMessage(tx, append, current, { ...patch, status: 'submitted' });
    else if (patch.providerMessageUuid) tx.update(messages).set(patch).where(eq(messages.id, messageId)).run();
    adoptOrphans(tx, append, messageId);
    return current.providerMessageUuid === null || current.providerMessageUuid === providerMessageId;
  });
}

/** Back to 'queued' for another attempt; false (row dropped) if the message was settled meanwhile. */
export function recordSendRetry(opts: {
  log: EventLog;
  messageId: number;
  attempts: number;
  nextAttemptAt: number;
  lastError: string;
}): boolean {
  return opts.log.write((tx) => {
    if (loadRow(tx, opts.messageId)?.status !== 'queued') {
      deleteRow(tx, opts.messageId);
      return false;
    }
    tx.update(outbox)
      .set({ state: 'queued', attempts: opts.attempts, nextAttemptAt: opts.nextAttemptAt, lastError: opts.lastError })
      .where(eq(outbox.messageId, opts.messageId))
      .run();
    return true;
  });
}

export interface SendError {
  code: string | null;
  title: string | null;
  detail: string | null;
  reason: string;
}

/** The send ended for good: `failed`, or `interrupted` (may have been sent). Never over a status a webhook set. */
export function recordSendEnded(opts: { log: EventLog; messageId: number; status: 'failed' | 'interrupted'; error: SendError }): void {
  opts.log.write((tx, append) => {
    deleteRow(tx, opts.messageId);
    const current = loadRow(tx, opts.messageId);
    if (current?.status !== 'queued') return;
    const { code, title, detail, reason } = opts.error;
    moveMessage(tx, append, current, { status: opts.status, errorCode: code, errorTitle: title, errorDetail: detail, errorReason: reason });
  });
}

// ---- Batched transitions: the worker's hot path at high rates (issue 17). ----

/** The hot path's statements, prepared once per connection (a drizzle query is otherwise built and prepared on every call). */
function prepareHot(db: Db) {
  return {
    deleteRow: db
      .delete(outbox)
      .where(eq(outbox.messageId, sql.placeholder('id')))
      .prepare(),
    loadRow: db
      .select()
      .from(messages)
      .where(eq(messages.id, sql.placeholder('id')))
      .prepare(),
    /** queued → submitted, keeping a provider id a status webhook stored first. */
    submit: db
      .update(messages)
      .set({
        status: 'submitted',
        statusAt: sql`${sql.placeholder('at')}`,
        providerMessageUuid: sql`coalesce(${messages.providerMessageUuid}, ${sql.placeholder('uuid')})`,
      })
      .where(and(eq(messages.id, sql.placeholder('id')), eq(messages.status, 'queued')))
      .returning()
      .prepare(),
    setUuid: db
      .update(messages)
      .set({ providerMessageUuid: sql`${sql.placeholder('uuid')}` })
      .where(and(eq(messages.id, sql.placeholder('id')), isNull(messages.providerMessageUuid)))
      .prepare(),
    /** Whether an orphan status report may belong to this message (adoptOrphans then does the work). */
    hasOrphan: db.$client.prepare(
      `select 1 from message_status_history where message_id is null and (provider_message_uuid = ? or client_ref = ?) limit 1`,
    ),
  };
}
const hot = new WeakMap<Db, ReturnType<typeof prepareHot>>();
function hotStatements(db: Db): ReturnType<typeof prepareHot> {
  let s = hot.get(db);
  if (!s) {
    s = prepareHot(db);
    hot.set(db, s);
  }
  return s;
}

/**
 * claimNextSend for up to `limit` rows in one transaction (the same rules row by row: settled rows
 * dropped, opted-out contacts failed, the rest set 'sending' before the provider is called).
 * `skipped`: rows dropped or failed. Fewer claimed + skipped than `limit`: nothing more is due.
 */
export function claimDueSends({
  log,
  limit,
  now = Date.now(),
  provider,
}: {
  log: EventLog;
  limit: number;
  now?: number;
  provider?: ProviderName;
}): { claimed: ClaimedSend[]; skipped: number } {
  if (limit < 1) return { claimed: [], skipped: 0 };
  return log.write((tx, append) => {
    const rows = tx
      .select({ o: outbox, m: messages, optedOutAt: contacts.optedOutAt })
      .from(outbox)
      .innerJoin(messages, eq(messages.id, outbox.messageId))
      .innerJoin(conversations, eq(conversations.id, messages.conversationId))
      .innerJoin(contacts, eq(contacts.id, conversations.contactId))
      .where(due(now, provider))
      .orderBy(asc(outbox.priority), asc(outbox.nextAttemptAt), asc(outbox.messageId))
      .limit(limit)
      .all();
    const claimed: ClaimedSend[] = [];
    let skipped = 0;
    for (const row of rows) {
      const { m } = row;
      if (m.status !== 'queued') {
        deleteRow(tx, m.id);
        skipped += 1;
        continue;
      }
      if (row.optedOutAt !== null && m.createdAt < row.optedOutAt) {
        moveMessage(tx, append, m, {
          status: 'failed',
          errorCode: 'OPTED_OUT',
          errorReason: 'The contact opted out (STOP) before this message was sent',
        });
        deleteRow(tx, m.id);
        skipped += 1;
        continue;
      }
      claimed.push({
        messageId: m.id,
        clientRef: m.clientRef ?? String(m.id),
        from: m.from,
        to: m.to,
        text: m.text,
        attempts: row.o.attempts,
      });
    }
    if (claimed.length > 0)
      tx.update(outbox)
        .set({ state: 'sending' })
        .where(
          inArray(
            outbox.messageId,
            claimed.map((c) => c.messageId),
          ),
        )
        .run();
    return { claimed, skipped };
  });
}

/** recordSendAccepted inside a caller's transaction, on prepared statements. */
function recordSendAcceptedIn(tx: Tx, append: Append, db: Db, messageId: number, providerMessageId: string): boolean {
  const s = hotStatements(db);
  s.deleteRow.run({ id: messageId });
  const current = s.loadRow.get({ id: messageId });
  if (!current) return true;
  if (current.status === 'queued') {
    const updated = s.submit.get({ id: messageId, at: Date.now(), uuid: providerMessageId });
    if (updated) append({ type: 'message.status', payload: { message: messageDtoOf(tx, updated), previousStatus: 'queued' } });
  } else if (current.providerMessageUuid === null) {
    s.setUuid.run({ id: messageId, uuid: providerMessageId });
  }
  if (s.hasOrphan.get(current.providerMessageUuid ?? providerMessageId, current.clientRef) !== undefined)
    adoptOrphans(tx, append, messageId);
  return current.providerMessageUuid === null || current.providerMessageUuid === providerMessageId;
}

/**
 * recordSendAccepted for many sends in one transaction (one commit for a tick's worth of answers).
 * All or nothing: when it throws, nothing was written and no event published; record them one by
 * one then (recordSendAccepted), so one bad item cannot hold back the rest.
 */
export function recordSendsAccepted({
  log,
  sends,
}: {
  log: EventLog;
  sends: readonly { messageId: number; providerMessageId: string }[];
}): boolean[] {
  if (sends.length === 0) return [];
  return log.write((tx, append) => sends.map((x) => recordSendAcceptedIn(tx, append, log.db, x.messageId, x.providerMessageId)));
}
