/**
 * Retention (workspace setting `retentionDays`, off by default): messages older than N days are
 * deleted with everything that hangs off them — their status history, their search-index entries
 * (the messages_fts delete trigger), their outbox rows and the campaign-recipient rows that point at
 * them — a small batch per transaction, so a webhook waits at most one batch.
 *
 * A conversation whose messages are all gone is kept (its status, assignee and notes stay, and links
 * to it keep working) with its preview cleared; a `conversation.updated` event tells open inboxes.
 */
import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm';
import { campaignRecipients, conversations, media, messageStatusHistory, messages, outbox } from '../db/tables';
import type { EventLog } from '../events/log';
import { loadConversation } from './views';

/** Messages per transaction: ~0.1 ms each on a busy 2-core machine, so a batch holds the database ~10–20 ms. */
export const RETENTION_BATCH = 100;

export interface RetentionBatch {
  /** Messages deleted in this batch. */
  deleted: number;
  /** Id to continue after; null: no message older than the cutoff is left. */
  next: number | null;
  /** Media store keys of the deleted messages' attachments: the caller deletes the files after the commit. */
  mediaKeys: string[];
}

/**
 * One batch: the next `batch` messages by id after `after`; those created before `cutoff` are
 * deleted. Ids grow with arrival time, so the walk stops at the first batch with nothing old in it.
 */
export async function deleteExpiredBatch({
  log,
  cutoff,
  after = 0,
  batch = RETENTION_BATCH,
}: {
  log: EventLog;
  cutoff: number;
  after?: number;
  batch?: number;
}): Promise<RetentionBatch> {
  return await log.write(async (tx, append) => {
    const rows = await tx
      .select({ id: messages.id, createdAt: messages.createdAt, conversationId: messages.conversationId })
      .from(messages)
      .where(gt(messages.id, after))
      .orderBy(asc(messages.id))
      .limit(batch);
    const old = rows.filter((r) => r.createdAt < cutoff);
    if (old.length === 0) return { deleted: 0, next: null, mediaKeys: [] };
    const ids = old.map((r) => r.id);
    const mediaKeys = (await tx.delete(media).where(inArray(media.messageId, ids)).returning({ key: media.storageKey })).flatMap((m) =>
      m.key ? [m.key] : [],
    );
    await tx.delete(outbox).where(inArray(outbox.messageId, ids));
    await tx.delete(messageStatusHistory).where(inArray(messageStatusHistory.messageId, ids));
    await tx.delete(campaignRecipients).where(inArray(campaignRecipients.messageId, ids));
    await tx.delete(messages).where(inArray(messages.id, ids));
    for (const conversationId of new Set(old.map((r) => r.conversationId))) {
      const left = (await tx.select({ id: messages.id }).from(messages).where(eq(messages.conversationId, conversationId)).limit(1))[0];
      if (left) continue;
      await tx
        .update(conversations)
        .set({ lastMessagePreview: null, lastMessageDirection: null, unreadCount: 0 })
        .where(
          and(
            eq(conversations.id, conversationId),
            sql`(${conversations.lastMessagePreview} is not null or ${conversations.unreadCount} > 0)`,
          ),
        );
      const conversation = await loadConversation(tx, conversationId);
      if (conversation) append({ type: 'conversation.updated', payload: { conversation } });
    }
    const last = rows.at(-1);
    return { deleted: ids.length, next: rows.length < batch || !last ? null : last.id, mediaKeys };
  });
}
