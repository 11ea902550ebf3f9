/**
 * The media fetcher's queue (media/fetcher.ts): pending inbound downloads due now, each settled as
 * `stored` or `refused` in one transaction that appends `message.updated` (and rewrites the list
 * preview once an attachment's type is known), or put back for a retry.
 */
import { and, asc, desc, eq, lte, ne } from 'drizzle-orm';
import type { MessageDto } from '@parley/shared';
import { conversations, media, messages } from '../db/tables';
import type { Db } from '../db/client';
import type { EventLog, Tx } from '../events/log';
import { loadConversation, previewOf } from './views';
import { mediaPreview, messageDtoOf, type MediaRow, type Reader } from './media';

/** Pending inbound downloads due now, oldest first. */
export async function dueMedia(db: Reader, now: number, limit: number): Promise<MediaRow[]> {
  return await db
    .select()
    .from(media)
    .where(and(eq(media.state, 'pending'), lte(media.nextAttemptAt, now)))
    .orderBy(asc(media.nextAttemptAt), asc(media.id))
    .limit(limit);
}

/** The earliest time a pending download is due, or null when none is pending. */
export async function nextMediaDue(db: Reader): Promise<number | null> {
  const row = (
    await db.select({ at: media.nextAttemptAt }).from(media).where(eq(media.state, 'pending')).orderBy(asc(media.nextAttemptAt)).limit(1)
  )[0];
  return row?.at ?? null;
}

/** Moves a pending row to stored or refused and appends `message.updated` (one transaction). False when it was no longer pending. */
export async function settleMedia(
  log: EventLog,
  id: number,
  outcome:
    { state: 'stored'; contentType: string; size: number; sha256: string; storageKey: string } | { state: 'refused'; reason: string },
): Promise<boolean> {
  return await log.write(async (tx, append) => {
    const patch =
      outcome.state === 'stored'
        ? {
            state: 'stored' as const,
            contentType: outcome.contentType,
            size: outcome.size,
            sha256: outcome.sha256,
            storageKey: outcome.storageKey,
            reason: null,
            nextAttemptAt: null,
          }
        : { state: 'refused' as const, reason: outcome.reason, nextAttemptAt: null };
    const row = (
      await tx
        .update(media)
        .set(patch)
        .where(and(eq(media.id, id), eq(media.state, 'pending')))
        .returning()
    )[0];
    if (!row) return false;
    if (row.messageId !== null) {
      const message = (await tx.select().from(messages).where(eq(messages.id, row.messageId)))[0];
      if (message) {
        const dto = await messageDtoOf(tx, message);
        append({ type: 'message.updated', payload: { message: dto } });
        await refreshPreview(tx, append, dto);
      }
    }
    return true;
  });
}

/**
 * The list preview was written before the attachments' types were known (Plivo names none): once
 * one is stored, the conversation's preview is written again — if this is still its latest message.
 */
async function refreshPreview(tx: Tx, append: Parameters<Parameters<EventLog['write']>[0]>[1], message: MessageDto): Promise<void> {
  const latest = (
    await tx
      .select({ id: messages.id })
      .from(messages)
      .where(eq(messages.conversationId, message.conversationId))
      .orderBy(desc(messages.createdAt), desc(messages.id))
      .limit(1)
  )[0];
  if (latest?.id !== message.id) return;
  const kept = message.media.filter((m) => m.state !== 'refused');
  const preview =
    mediaPreview(
      message.text,
      kept.map((m) => m.contentType),
    ) ?? previewOf(message.text);
  const updated = (
    await tx
      .update(conversations)
      .set({ lastMessagePreview: preview })
      .where(and(eq(conversations.id, message.conversationId), ne(conversations.lastMessagePreview, preview)))
      .returning({ id: conversations.id })
  )[0];
  if (!updated) return;
  const conversation = await loadConversation(tx, message.conversationId);
  if (conversation) append({ type: 'conversation.updated', payload: { conversation } });
}

/** A failed download attempt that will be tried again at `nextAttemptAt`. */
export async function recordMediaRetry(db: Db, id: number, attempts: number, nextAttemptAt: number, lastError: string): Promise<void> {
  await db
    .update(media)
    .set({ attempts, nextAttemptAt, reason: lastError })
    .where(and(eq(media.id, id), eq(media.state, 'pending')));
}
