/**
 * The outbox worker's batched transitions, its hot path at high rates (issue 17): claim a tick's worth
 * of due rows in one transaction, and record the answers of one event-loop turn in one transaction. The rules are those of outbox.ts, row by row.
 */
import { and, eq, isNull, or, sql } from 'drizzle-orm';
import type { ProviderName } from '@parley/shared';
import { messageStatusHistory, messages, outbox } from '../db/tables';
import { mapInOrder } from '../db/store';
import type { EventLog, Tx, Append } from '../events/log';
import { adoptOrphans } from './status';
import { messageDtoOf } from './media';
import { claimDueIn, type ClaimedSend } from './outbox';

/**
 * Claims up to `limit` due rows in one transaction (claimDueIn in outbox.ts: the rules of claimNextSend, row by row).
 */
export async function claimDueSends({
  log,
  limit,
  now = Date.now(),
  provider,
}: {
  log: EventLog;
  limit: number;
  now?: number;
  provider?: ProviderName;
}): Promise<{ claimed: ClaimedSend[]; skipped: number }> {
  if (limit < 1) return { claimed: [], skipped: 0 };
  return await log.write(async (tx, append) => await claimDueIn(tx, append, { limit, now, provider }));
}

/** recordSendAccepted inside a caller's transaction. */
async function recordSendAcceptedIn(tx: Tx, append: Append, messageId: number, providerMessageId: string): Promise<boolean> {
  await tx.delete(outbox).where(eq(outbox.messageId, messageId));
  const current = (await tx.select().from(messages).where(eq(messages.id, messageId)))[0];
  if (!current) return true;
  if (current.status === 'queued') {
    // queued → submitted, keeping a provider id a status webhook stored first.
    const updated = (
      await tx
        .update(messages)
        .set({
          status: 'submitted',
          statusAt: Date.now(),
          providerMessageUuid: sql`coalesce(${messages.providerMessageUuid}, ${providerMessageId})`,
        })
        .where(and(eq(messages.id, messageId), eq(messages.status, 'queued')))
        .returning()
    )[0];
    if (updated) append({ type: 'message.status', payload: { message: await messageDtoOf(tx, updated), previousStatus: 'queued' } });
  } else if (current.providerMessageUuid === null) {
    await tx
      .update(messages)
      .set({ providerMessageUuid: providerMessageId })
      .where(and(eq(messages.id, messageId), isNull(messages.providerMessageUuid)));
  }
  // Whether an orphan status report may belong to this message (adoptOrphans then does the work).
  const uuid = current.providerMessageUuid ?? providerMessageId;
  const orphan = await tx
    .select({ id: messageStatusHistory.id })
    .from(messageStatusHistory)
    .where(
      and(
        isNull(messageStatusHistory.messageId),
        current.clientRef === null
          ? eq(messageStatusHistory.providerMessageUuid, uuid)
          : or(eq(messageStatusHistory.providerMessageUuid, uuid), eq(messageStatusHistory.clientRef, current.clientRef)),
      ),
    )
    .limit(1);
  if (orphan.length > 0) await adoptOrphans(tx, append, messageId);
  return current.providerMessageUuid === null || current.providerMessageUuid === providerMessageId;
}

/**
 * recordSendAccepted for many sends in one transaction (one commit for a tick's worth of answers).
 * All or nothing: when it throws, nothing was written and no event published; record them one by
 * one then (recordSendAccepted), so one bad item cannot hold back the rest.
 */
export async function recordSendsAccepted({
  log,
  sends,
}: {
  log: EventLog;
  sends: readonly { messageId: number; providerMessageId: string }[];
}): Promise<boolean[]> {
  if (sends.length === 0) return [];
  return await log.write((tx, append) =>
    mapInOrder(sends, async (x) => await recordSendAcceptedIn(tx, append, x.messageId, x.providerMessageId)),
  );
}
