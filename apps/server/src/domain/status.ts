import { and, asc, eq, isNull, or, sql, type AnyColumn } from 'drizzle-orm';
import type { Db } from '../db/client';
import type { MessageStatus } from '@parley/shared';
import { messageStatusHistory, messages } from '../db/tables';
import { param, perHandle } from '../db/prepared';
import type { EventLog, Tx, Append } from '../events/log';
import { canTransition, isFailureStatus } from './status-rules';
import { messageDtoOf } from './media';
import { isErasedRef } from './suppression';

/** A delivery report, provider-neutral (the webhook route maps the provider's payload onto it). */
export interface StatusReport {
  providerMessageId: string;
  clientRef: string | null;
  status: string;
  /** Provider's time of the status, epoch ms. */
  timestamp: number;
  errorCode: string | null;
  errorTitle: string | null;
  errorDetail: string | null;
  /** Short agent-readable reason for errorCode. */
  errorReason: string | null;
  price: string | null;
  currency: string | null;
  raw: unknown;
}

/** `erased`: the report is for a message erased with its contact; dropped (answered 200, nothing stored). */
export type StatusOutcome = 'applied' | 'unchanged' | 'duplicate' | 'orphan' | 'erased';

type MessageRow = typeof messages.$inferSelect;

/** `value` where the flag parameter is 1, else the column's own value. */
const when = (flag: string, value: string, column: AnyColumn) =>
  sql`case when ${sql.placeholder(flag)} = 1 then ${sql.placeholder(value)} else ${column} end`;

/** A receipt's fixed statements, prepared once per database handle (as the inbound's: receive-queries.ts). */
const statusQueries = perHandle((db: Db) => ({
  byUuid: db
    .select()
    .from(messages)
    .where(eq(messages.providerMessageUuid, sql.placeholder('uuid')))
    .prepare(),
  history: db
    .insert(messageStatusHistory)
    .values({
      messageId: param('messageId'),
      providerMessageUuid: param('uuid'),
      clientRef: param('clientRef'),
      status: param('status'),
      providerTimestamp: param('providerTimestamp'),
      receivedAt: param('receivedAt'),
      raw: param('raw'),
    })
    .onConflictDoNothing()
    .returning({ id: messageStatusHistory.id })
    .prepare(),
  // The report's changes to its message, one statement for every shape of report: each group of
  // columns is written only when its flag is 1 (SQLite binds no booleans), else kept as it is.
  move: db
    .update(messages)
    .set({
      providerMessageUuid: sql`coalesce(${messages.providerMessageUuid}, ${sql.placeholder('uuid')})`,
      status: when('moves', 'status', messages.status),
      statusAt: when('moves', 'statusAt', messages.statusAt),
      errorCode: when('errors', 'errorCode', messages.errorCode),
      errorTitle: when('errors', 'errorTitle', messages.errorTitle),
      errorDetail: when('errors', 'errorDetail', messages.errorDetail),
      errorReason: when('errors', 'errorReason', messages.errorReason),
      price: when('prices', 'price', messages.price),
      currency: when('prices', 'currency', messages.currency),
    })
    .where(eq(messages.id, sql.placeholder('id')))
    .returning()
    .prepare(),
  applied: db
    .update(messageStatusHistory)
    .set({ applied: true })
    .where(eq(messageStatusHistory.id, sql.placeholder('id')))
    .prepare(),
}));

/**
 * Records a delivery report. Every distinct report lands in the history; the message moves only
 * forward (status-rules). Found by provider id, else by our client_ref (a status that beats the send
 * response). A report for no known message is kept as an orphan and adopted when the message appears.
 */
export async function recordStatus({
  log,
  report,
  admit,
}: {
  log: EventLog;
  report: StatusReport;
  /** Runs first inside the transaction (e.g. records the request's nonce): what it writes commits or rolls back with the report. */
  admit?: (tx: Tx) => void | Promise<void>;
}): Promise<StatusOutcome> {
  return await log.write(async (tx, append) => {
    await admit?.(tx);
    const message = await findMessage(tx, report);
    // A late report for an erased message would bring its number back in the raw payload.
    if (!message && (await isErasedRef(tx, [report.providerMessageId, report.clientRef]))) return 'erased';
    const inserted = (
      await statusQueries(log.db).history.execute({
        messageId: message?.id ?? null,
        uuid: report.providerMessageId,
        clientRef: report.clientRef,
        status: report.status,
        providerTimestamp: report.timestamp,
        receivedAt: Date.now(),
        raw: JSON.stringify(report),
      })
    )[0];
    if (!inserted) return 'duplicate';
    if (!message) return 'orphan';
    const changed = await applyReport(tx, append, message, report, inserted.id);
    // Found by client_ref, the message may just have learned its provider id: earlier orphans with it apply now.
    if (message.providerMessageUuid === null) await adoptOrphans(tx, append, message.id);
    return changed ? 'applied' : 'unchanged';
  });
}

/** `recordStatus` by group commit (EventLog.writeBatched): resolved once the batch holding it committed. */
export async function recordStatusBatched(args: Parameters<typeof recordStatus>[0]): Promise<StatusOutcome> {
  return await args.log.writeBatched(async () => await recordStatus(args));
}

async function findMessage(tx: Tx, report: StatusReport): Promise<MessageRow | undefined> {
  const byUuid = (await statusQueries(tx).byUuid.execute({ uuid: report.providerMessageId }))[0];
  if (byUuid) return byUuid;
  if (!report.clientRef) return undefined;
  return (
    await tx
      .select()
      .from(messages)
      .where(and(eq(messages.clientRef, report.clientRef), eq(messages.direction, 'out')))
  )[0];
}

/** Applies one report to its message; appends `message.status` if anything changed. */
async function applyReport(tx: Tx, append: Append, message: MessageRow, report: StatusReport, historyId: number): Promise<boolean> {
  const learnsUuid = message.providerMessageUuid === null;
  const moves = canTransition(message.status, report.status);
  const fails = moves && isFailureStatus(report.status);
  // A failure records its error; the provider settling an unknown send ('interrupted') as a success
  // clears the "may not have been sent" note.
  const errors = fails || (moves && message.status === 'interrupted');
  const prices = report.price !== null && message.price === null;
  if (!learnsUuid && !moves && !prices) return false;

  const updated = (
    await statusQueries(tx).move.execute({
      id: message.id,
      uuid: report.providerMessageId,
      moves: moves ? 1 : 0,
      status: report.status,
      statusAt: Date.now(),
      errors: errors ? 1 : 0,
      errorCode: fails ? report.errorCode : null,
      errorTitle: fails ? report.errorTitle : null,
      errorDetail: fails ? report.errorDetail : null,
      errorReason: fails ? (report.errorReason ?? report.errorDetail ?? report.errorTitle ?? `Message ${report.status}`) : null,
      prices: prices ? 1 : 0,
      price: report.price,
      currency: report.currency,
    })
  )[0];
  if (moves) {
    await statusQueries(tx).applied.execute({ id: historyId });
  }
  if (!updated) return false;
  append({
    type: 'message.status',
    payload: { message: await messageDtoOf(tx, updated), previousStatus: message.status as MessageStatus },
  });
  return true;
}

/**
 * Once a message learns its provider id (the send response), reports that arrived before it
 * (orphans with that id or our client_ref) are attached and applied in provider-time order.
 * Runs inside the caller's transaction.
 */
export async function adoptOrphans(tx: Tx, append: Append, messageId: number): Promise<void> {
  const current = (await tx.select().from(messages).where(eq(messages.id, messageId)))[0];
  if (!current) return;
  const matches = [
    current.providerMessageUuid ? eq(messageStatusHistory.providerMessageUuid, current.providerMessageUuid) : undefined,
    current.clientRef ? eq(messageStatusHistory.clientRef, current.clientRef) : undefined,
  ].filter((m) => m !== undefined);
  if (matches.length === 0) return;
  const orphans = await tx
    .select()
    .from(messageStatusHistory)
    .where(and(isNull(messageStatusHistory.messageId), or(...matches)))
    .orderBy(asc(messageStatusHistory.providerTimestamp), asc(messageStatusHistory.id));
  for (const orphan of orphans) {
    await tx.update(messageStatusHistory).set({ messageId }).where(eq(messageStatusHistory.id, orphan.id));
    const report = JSON.parse(orphan.raw) as StatusReport;
    const fresh = (await tx.select().from(messages).where(eq(messages.id, messageId)))[0];
    if (fresh) await applyReport(tx, append, fresh, report, orphan.id);
  }
}
