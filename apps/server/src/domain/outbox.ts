/**
 * The outbox's transitions, driven by outbox/worker.ts (which owns the policy: rate, retries): claim the
 * next due row, record the provider's answer, recover rows a dead process left 'sending'. Each is one
 * transaction that moves the message's status and appends `message.status`.
 */
import { and, asc, eq, inArray, lte, min, sql } from 'drizzle-orm';
import type { MessageDto, ProviderName } from '@parley/shared';
import { contacts, conversations, messages, outbox } from '../db/tables';
import type { Db } from '../db/client';
import type { EventLog, Tx, Append } from '../events/log';
import { adoptOrphans } from './status';
import { messageDtoOf } from './media';

/** Outbox priorities: lower sends first. */
export const PRIORITY = { reply: 0, campaign: 10 } as const;

export type MessageRow = typeof messages.$inferSelect;

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
export async function moveMessage(tx: Tx, append: Append, current: MessageRow, patch: Partial<MessageRow>): Promise<void> {
  const updated = (
    await tx
      .update(messages)
      .set({ ...patch, statusAt: Date.now() })
      .where(eq(messages.id, current.id))
      .returning()
  )[0];
  if (updated)
    append({
      type: 'message.status',
      payload: { message: await messageDtoOf(tx, updated), previousStatus: current.status as MessageDto['status'] },
    });
}

export const loadRow = async (tx: Tx, id: number) => (await tx.select().from(messages).where(eq(messages.id, id)))[0];
export const deleteRow = async (tx: Tx, id: number) => await tx.delete(outbox).where(eq(outbox.messageId, id));
/** Queued rows (of one provider's queue, when given). */
const queuedOf = (provider?: ProviderName) =>
  provider === undefined ? eq(outbox.state, 'queued') : and(eq(outbox.provider, provider), eq(outbox.state, 'queued'));
export const due = (now: number, provider?: ProviderName) => and(queuedOf(provider), lte(outbox.nextAttemptAt, now));

/**
 * Rows left 'sending' by a process that died: unknown whether sent, so never resent. A message
 * still `queued` becomes `interrupted` (a later status webhook, found by client_ref, settles it);
 * one a webhook already settled keeps its status. Returns the message ids.
 */
export async function recoverInterruptedSends({ log, provider }: { log: EventLog; provider?: ProviderName }): Promise<number[]> {
  return await log.write(async (tx, append) => {
    const sending = eq(outbox.state, 'sending');
    const stuck = await tx
      .select({ id: outbox.messageId })
      .from(outbox)
      .where(provider === undefined ? sending : and(sending, eq(outbox.provider, provider)));
    for (const { id } of stuck) {
      const current = await loadRow(tx, id);
      if (current?.status === 'queued') await moveMessage(tx, append, current, { status: 'interrupted', errorReason: RESTART_REASON });
      await deleteRow(tx, id);
    }
    return stuck.map((s) => s.id);
  });
}

export async function hasDueSend({ db, now = Date.now(), provider }: { db: Db; now?: number; provider?: ProviderName }): Promise<boolean> {
  return (await db.select({ id: outbox.messageId }).from(outbox).where(due(now, provider)).limit(1))[0] !== undefined;
}

/** When the earliest queued row falls due (epoch ms), or null when none is queued. */
export async function nextSendDueAt({ db, provider }: { db: Db; provider?: ProviderName }): Promise<number | null> {
  return (
    (
      await db
        .select({ at: min(outbox.nextAttemptAt) })
        .from(outbox)
        .where(queuedOf(provider))
    )[0]?.at ?? null
  );
}

export async function outboxStats({ db, now = Date.now(), provider }: { db: Db; now?: number; provider?: ProviderName }): Promise<{
  depth: number;
  oldestQueuedAgeMs: number | null;
}> {
  const row = (
    await db
      .select({
        depth: sql<number>`count(*)`,
        oldest: sql<number | null>`min(case when ${outbox.state} = 'queued' then ${outbox.createdAt} end)`,
      })
      .from(outbox)
      .where(provider === undefined ? undefined : eq(outbox.provider, provider))
  )[0];
  const oldest = row?.oldest ?? null;
  return { depth: row?.depth ?? 0, oldestQueuedAgeMs: oldest === null ? null : Math.max(0, now - oldest) };
}

/**
 * Claims up to `limit` due rows (priority, then due time) in the caller's transaction by setting them
 * 'sending'. A row whose message was settled elsewhere is dropped; one whose contact opted out after
 * it was queued fails (a message queued after the opt-out was allowed on purpose: the STOP
 * confirmation). `skipped`: rows dropped or failed. Fewer claimed + skipped than `limit`: nothing
 * more is due.
 */
export async function claimDueIn(
  tx: Tx,
  append: Append,
  opts: { limit: number; now: number; provider?: ProviderName | undefined },
): Promise<{ claimed: ClaimedSend[]; skipped: number }> {
  const rows = await tx
    .select({ o: outbox, m: messages, optedOutAt: contacts.optedOutAt })
    .from(outbox)
    .innerJoin(messages, eq(messages.id, outbox.messageId))
    .innerJoin(conversations, eq(conversations.id, messages.conversationId))
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .where(due(opts.now, opts.provider))
    .orderBy(asc(outbox.priority), asc(outbox.nextAttemptAt), asc(outbox.messageId))
    .limit(opts.limit);
  const claimed: ClaimedSend[] = [];
  let skipped = 0;
  for (const row of rows) {
    const { m } = row;
    if (m.status !== 'queued') {
      await deleteRow(tx, m.id);
      skipped += 1;
      continue;
    }
    if (row.optedOutAt !== null && m.createdAt < row.optedOutAt) {
      await moveMessage(tx, append, m, {
        status: 'failed',
        errorCode: 'OPTED_OUT',
        errorReason: 'The contact opted out (STOP) before this message was sent',
      });
      await deleteRow(tx, m.id);
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
    await tx
      .update(outbox)
      .set({ state: 'sending' })
      .where(
        inArray(
          outbox.messageId,
          claimed.map((c) => c.messageId),
        ),
      );
  return { claimed, skipped };
}

/** Claims the next due row (claimDueIn's rules). undefined: nothing due; 'skipped': the row was dropped or failed. */
export async function claimNextSend({
  log,
  now = Date.now(),
  provider,
}: {
  log: EventLog;
  now?: number;
  provider?: ProviderName;
}): Promise<ClaimedSend | 'skipped' | undefined> {
  return await log.write(async (tx, append) => {
    const { claimed, skipped } = await claimDueIn(tx, append, { limit: 1, now, provider });
    return claimed[0] ?? (skipped > 0 ? 'skipped' : undefined);
  });
}

/**
 * The provider accepted it: provider id stored (unless a status webhook already set it), `submitted`
 * only if still `queued` (never over a later status), outbox row gone, earlier orphan reports adopted.
 * Returns false when a webhook had already stored a different provider id.
 */
export async function recordSendAccepted({
  log,
  messageId,
  providerMessageId,
}: {
  log: EventLog;
  messageId: number;
  providerMessageId: string;
}): Promise<boolean> {
  return await log.write(async (tx, append) => {
    await deleteRow(tx, messageId);
    const current = await loadRow(tx, messageId);
    if (!current) return true;
    const patch: Partial<MessageRow> = current.providerMessageUuid === null ? { providerMessageUuid: providerMessageId } : {};
    if (current.status === 'queued') await moveMessage(tx, append, current, { ...patch, status: 'submitted' });
    else if (patch.providerMessageUuid) await tx.update(messages).set(patch).where(eq(messages.id, messageId));
    await adoptOrphans(tx, append, messageId);
    return current.providerMessageUuid === null || current.providerMessageUuid === providerMessageId;
  });
}

/** Back to 'queued' for another attempt; false (row dropped) if the message was settled meanwhile. */
export async function recordSendRetry(opts: {
  log: EventLog;
  messageId: number;
  attempts: number;
  nextAttemptAt: number;
  lastError: string;
}): Promise<boolean> {
  return await opts.log.write(async (tx) => {
    if ((await loadRow(tx, opts.messageId))?.status !== 'queued') {
      await deleteRow(tx, opts.messageId);
      return false;
    }
    await tx
      .update(outbox)
      .set({ state: 'queued', attempts: opts.attempts, nextAttemptAt: opts.nextAttemptAt, lastError: opts.lastError })
      .where(eq(outbox.messageId, opts.messageId));
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
export async function recordSendEnded(opts: {
  log: EventLog;
  messageId: number;
  status: 'failed' | 'interrupted';
  error: SendError;
}): Promise<void> {
  await opts.log.write(async (tx, append) => {
    await deleteRow(tx, opts.messageId);
    const current = await loadRow(tx, opts.messageId);
    if (current?.status !== 'queued') return;
    const { code, title, detail, reason } = opts.error;
    await moveMessage(tx, append, current, {
      status: opts.status,
      errorCode: code,
      errorTitle: title,
      errorDetail: detail,
      errorReason: reason,
    });
  });
}
